"""The APScheduler 3 keyword form: its defaults and meanings, checked against APScheduler itself."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger as APSCronTrigger

from tickwork.triggers import TriggerError, from_keywords
from tickwork.triggers.base import to_us
from tickwork.triggers.cron import CronTrigger


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def nxt(t: object, after: datetime) -> datetime | None:
    assert isinstance(t, CronTrigger)
    return t.next_fire_after(after)


class TestDefaults:
    def test_less_significant_fields_default_to_their_minimum(self) -> None:
        t = from_keywords("cron", hour=2)
        assert nxt(t, utc(2026, 1, 1, 2, 0, 1)) == utc(2026, 1, 2, 2)
        f = t.fields  # type: ignore[attr-defined]
        assert (f.minutes, f.seconds) == ({0}, {0})

    def test_more_significant_fields_default_to_star(self) -> None:
        t = from_keywords("cron", minute=30)
        assert nxt(t, utc(2026, 1, 1, 5, 31)) == utc(2026, 1, 1, 6, 30)

    def test_month_alone_means_the_first_at_midnight(self) -> None:
        assert nxt(from_keywords("cron", month=6), utc(2026, 1, 1)) == utc(2026, 6, 1)

    def test_day_of_week_alone_means_midnight(self) -> None:
        t = from_keywords("cron", day_of_week="sun")
        assert nxt(t, utc(2026, 3, 26)) == utc(2026, 3, 29)

    def test_nothing_given_fires_every_second_like_apscheduler(self) -> None:
        assert nxt(from_keywords("cron"), utc(2026, 1, 1)) == utc(2026, 1, 1, 0, 0, 1)


class TestMeanings:
    def test_day_of_week_zero_is_monday(self) -> None:
        assert nxt(from_keywords("cron", day_of_week=0, hour=9), utc(2026, 3, 28)) == utc(
            2026, 3, 30, 9
        )
        assert nxt(from_keywords("cron", day_of_week="6"), utc(2026, 3, 28, 1)) == utc(2026, 3, 29)

    def test_names_and_ranges(self) -> None:
        t = from_keywords("cron", day_of_week="mon-fri", hour="9", minute="0,30")
        assert nxt(t, utc(2026, 3, 27, 9, 30)) == utc(2026, 3, 30, 9)
        t2 = from_keywords("cron", month="jan-mar,DEC", day=1)
        assert nxt(t2, utc(2026, 3, 2)) == utc(2026, 12, 1)

    def test_day_and_day_of_week_are_anded(self) -> None:
        t = from_keywords("cron", day=13, day_of_week="fri")
        assert nxt(t, utc(2026, 1, 1)) == utc(2026, 2, 13)
        assert nxt(t, utc(2026, 2, 14)) == utc(2026, 3, 13)
        assert nxt(t, utc(2026, 3, 14)) == utc(2026, 11, 13)

    def test_last_and_positions_in_day(self) -> None:
        assert nxt(from_keywords("cron", day="last"), utc(2026, 2, 1)) == utc(2026, 2, 28)
        assert nxt(from_keywords("cron", day="last fri"), utc(2026, 1, 1)) == utc(2026, 1, 30)
        assert nxt(from_keywords("cron", day="1st mon"), utc(2026, 1, 1)) == utc(2026, 1, 5)
        assert nxt(from_keywords("cron", day="5th sun"), utc(2026, 1, 1)) == utc(2026, 3, 29)
        assert nxt(from_keywords("cron", day="2nd TUE,last"), utc(2026, 1, 14)) == utc(2026, 1, 31)

    def test_iso_week(self) -> None:
        t = from_keywords("cron", week=1, day_of_week="mon")
        assert nxt(t, utc(2026, 1, 1)) == utc(2027, 1, 4)  # 2026 has 53 ISO weeks
        # */26 is weeks 1, 27 and 53; week 27 of 2026 starts on Monday June 29.
        assert nxt(from_keywords("cron", week="*/26"), utc(2026, 1, 5)) == utc(2026, 6, 29)

    def test_year(self) -> None:
        t = from_keywords("cron", year="2027-2028", month=2, day=29)
        assert nxt(t, utc(2026, 1, 1)) == utc(2028, 2, 29)
        assert nxt(t, utc(2028, 2, 29)) is None

    def test_steps(self) -> None:
        t = from_keywords("cron", second="*/20", minute="10-20/5")
        assert nxt(t, utc(2026, 1, 1, 0, 10, 41)) == utc(2026, 1, 1, 0, 15)
        assert nxt(from_keywords("cron", minute="50/5"), utc(2026, 1, 1, 0, 56)) == utc(
            2026, 1, 1, 1, 50
        )

    def test_ints_and_strings_are_the_same(self) -> None:
        assert from_keywords("cron", hour=2, minute=5).fields == (  # type: ignore[attr-defined]
            from_keywords("cron", hour="2", minute="5").fields  # type: ignore[attr-defined]
        )

    def test_whitespace_around_commas(self) -> None:
        t = from_keywords("cron", minute="5 , 10")
        assert t.fields.minutes == {5, 10}  # type: ignore[attr-defined]

    def test_timezone_from_an_aware_start_date(self) -> None:
        berlin = ZoneInfo("Europe/Berlin")
        t = from_keywords("cron", hour=9, start_date=datetime(2026, 1, 1, tzinfo=berlin))
        assert t.tz is berlin
        assert nxt(t, utc(2026, 1, 1)) == datetime(2026, 1, 1, 9, tzinfo=berlin)

    def test_h_and_seed(self) -> None:
        a = from_keywords("cron", minute="H", hour="H(1-4)", seed="job-1")
        b = from_keywords("cron", minute="H", hour="H(1-4)", seed="job-1")
        assert a.fields == b.fields  # type: ignore[attr-defined]
        assert next(iter(a.fields.hours)) in range(1, 5)  # type: ignore[attr-defined]
        assert "seed 'job-1'" in a.describe()


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"hours": 2}, "hours: unknown keyword for a cron trigger"),
        ({"day_of_week": "funday"}, "day_of_week: unknown name 'funday'"),
        ({"hour": 24}, "hour: 24 is out of range 0-23"),
        ({"hour": -1}, "hour: -1 is out of range 0-23"),
        ({"day_of_week": 7}, "day_of_week: 7 is out of range 0-6"),
        ({"day": 0}, "day: 0 is out of range 1-31"),
        ({"week": 54}, "week: 54 is out of range 1-53"),
        ({"year": 1969}, "year: 1969 is out of range 1970-9999"),
        ({"minute": "5-2"}, "minute: reversed range 5-2"),
        ({"day_of_week": "fri-mon"}, "day_of_week: reversed range fri-mon"),
        ({"minute": "*/0"}, "minute: step 0 in '*/0' is not allowed (a step is 1 or more)"),
        ({"minute": "*/60"}, "minute: step 60 in '*/60' is larger than its range (59)"),
        ({"minute": "5-10/6"}, "minute: step 6 in '5-10/6' is larger than its range (5)"),
        (
            {"day_of_week": "mon-fri/2"},
            "day_of_week: cannot parse 'mon-fri/2' (names take no step or suffix; APScheduler "
            "would silently ignore it)",
        ),
        ({"day": "6th mon"}, "day: unknown position '6th' (use 1st-5th or last)"),
        ({"day": "last xyz"}, "day: unknown name 'xyz'"),
        ({"minute": "1,,2"}, "minute: empty list item"),
        ({"minute": "abc"}, "minute: cannot parse 'abc'"),
        ({"minute": 1.5}, "minute: expected an int or a string, got 1.5"),
        ({"minute": True}, "minute: expected an int or a string, got True"),
        ({"timezone": "Mars/Base"}, "timezone: unknown time zone 'Mars/Base'"),
        ({"jitter": -1}, "jitter: must be a finite number of seconds >= 0, got -1"),
        (
            {"day": 30, "month": 2},
            "day: never fires (no date matches month='2', day='30')",
        ),
        (
            {"day": "5th mon", "month": 2, "year": 2026},
            "day: never fires (no date matches year='2026', month='2', day='5th mon')",
        ),
        # 2025 has 52 ISO weeks and none of its days is in another year's week 53.
        ({"week": 53, "year": 2025}, "week: never fires (no date matches year='2025', week='53')"),
    ],
)
def test_keyword_errors(kw: dict[str, object], message: str) -> None:
    with pytest.raises(TriggerError) as info:
        from_keywords("cron", **kw)
    assert str(info.value) == message


def test_unknown_kind_and_keywords_of_other_kinds() -> None:
    with pytest.raises(TriggerError, match=r"^kind: unknown trigger kind 'weekly'"):
        from_keywords("weekly")
    with pytest.raises(TriggerError, match=r"^hour: unknown keyword for a interval trigger"):
        from_keywords("interval", hour=1)
    with pytest.raises(TriggerError, match=r"^minutes: unknown keyword for a date trigger"):
        from_keywords("date", run_date="2026-01-01", minutes=1)


# -- differential against APScheduler 3.11 itself ------------------------------------------------

FIELD_VALUES = {
    "year": ["2026", "2026-2028", "*/2", "2027,2029"],
    "month": ["1", "2-4", "*/3", "jan,jul", "oct-dec", "6"],
    "day": ["1", "15", "1-7", "*/10", "last", "1st mon", "last fri", "3rd wed", "31", "28-31"],
    "week": ["1", "10-20", "*/4", "52,53"],
    "day_of_week": ["0", "mon-fri", "sat,sun", "6", "*/2", "2-4", "fri"],
    "hour": ["0", "9", "*/6", "8-17", "2,14", "23"],
    "minute": ["0", "30", "*/15", "5-10", "0,45", "59"],
    "second": ["0", "*/30", "15", "10-12"],
}


def _random_keywords(rng: random.Random) -> dict[str, str]:
    names = rng.sample(list(FIELD_VALUES), rng.randint(1, 4))
    return {n: rng.choice(FIELD_VALUES[n]) for n in names}


def _aps_next(trigger: APSCronTrigger, after: datetime) -> datetime | None:
    # APScheduler returns the first fire >= ceil(now); one microsecond later makes it "> after".
    return trigger.get_next_fire_time(None, after + timedelta(microseconds=1))  # type: ignore[no-any-return]


def _us(moment: datetime | None) -> int | None:
    return None if moment is None else to_us(moment)


def _near_transition(zone: ZoneInfo, a: datetime, b: datetime) -> bool:
    """Whether an offset change lies in [a - 1 day, b + 1 day] (a daily scan is enough there)."""
    t = a - timedelta(days=1)
    off = t.astimezone(zone).utcoffset()
    while t <= b + timedelta(days=1):
        t += timedelta(hours=12)
        if t.astimezone(zone).utcoffset() != off:
            return True
    return False


@pytest.mark.slow
@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "Asia/Shanghai"])
def test_differential_against_apscheduler(zone: str) -> None:
    rng = random.Random(f"aps-{zone}")
    tz = ZoneInfo(zone)
    compared = 0
    for _ in range(400):
        kw = _random_keywords(rng)
        try:
            ours = from_keywords("cron", timezone=zone, **kw)
        except TriggerError as exc:
            refused = exc.reason
        else:
            refused = ""
        if refused:
            assert "never fires" in refused, (kw, refused)
            continue
        theirs = APSCronTrigger(timezone=tz, **kw)
        for _ in range(3):
            after = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(
                seconds=rng.randrange(0, 3 * 365 * 86400), microseconds=rng.choice([0, 1, 500_000])
            )
            mine = nxt(ours, after)
            aps = _aps_next(theirs, after)
            results = [x for x in (mine, aps) if x is not None]
            # APScheduler fires repeated wall times twice and handles gaps its own way (it even
            # loses fires across a change, e.g. month="2-4" in Berlin); Tickwork's one DST rule
            # deliberately differs, so windows holding an offset change are skipped.
            if zone != "UTC" and _near_transition(tz, after, max(results, default=after)):
                continue
            assert _us(mine) == _us(aps), (kw, after, mine, aps)
            compared += 1
    assert compared > 600
