"""Behaviour that mutation testing found unpinned (docs/testing.md, "Mutation testing").

Each test says what it pins; a mutant of the code under it (an operator, a constant, a dropped
argument) changes an outcome asserted here. Values that come from the stable hash are pinned:
changing them would move every deployed job, as in test_cron_parse's H tests.
"""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

import pytest

from tickwork.engine.policies import retry_delay_s
from tickwork.triggers import TriggerError, cron, date, from_keywords, from_spec, interval
from tickwork.triggers.base import to_us
from tickwork.triggers.jitter import jitter_delay
from tickwork.triggers.schedule import CronFields


def kw_fields(seed: str, **kw: Any) -> CronFields:
    return from_keywords("cron", seed=seed, **kw).fields  # type: ignore[attr-defined, no-any-return]


# -- H in the keyword form ------------------------------------------------------------------


def test_keyword_h_values_are_pinned() -> None:
    f = kw_fields("job-1", minute="H")
    assert f.minutes == {52}
    assert kw_fields("job-2", minute="H").minutes == {2}
    assert kw_fields("job-1", minute="H/15").minutes == {4, 19, 34, 49}
    assert kw_fields("job-2", minute="H/15").minutes == {13, 28, 43, 58}
    assert kw_fields("job-1", hour="H(1-4)").hours == {4}
    assert kw_fields("job-1", hour="H(8-17)/3").hours == {10, 13, 16}
    assert kw_fields("job-2", hour="H(8-17)/3").hours == {9, 12, 15}
    assert kw_fields("job-1", day="H").dom == {6}
    assert kw_fields("job-2", day="H").dom == {27}
    assert kw_fields("job-1", day="H/10").dom == {3, 13, 23}
    assert kw_fields("job-2", day="H/10").dom == {7, 17, 27}
    # Case does not matter; the field and the item's position do.
    assert kw_fields("job-1", minute="h").minutes == {52}
    assert len(kw_fields("job-1", minute="H,H").minutes) == 2


SEEDS = [f"job-{i}" for i in range(60)]


@pytest.mark.parametrize(
    ("field", "text", "lo", "hi", "step"),
    [
        ("minute", "H", 0, 59, None),
        ("hour", "H", 0, 23, None),
        ("hour", "H(1-4)", 1, 4, None),
        ("day", "H", 1, 28, None),  # a day every month has
        ("day_of_week", "H", 0, 6, None),
        ("month", "H", 1, 12, None),
        ("minute", "H/15", 0, 59, 15),
        ("hour", "H(8-17)/3", 8, 17, 3),
        ("day", "H/10", 1, 31, 10),
        ("second", "H(0-10)/4", 0, 10, 4),
    ],
)
def test_keyword_h_spreads_over_its_range(
    field: str, text: str, lo: int, hi: int, step: int | None
) -> None:
    attr = {
        "minute": "minutes",
        "hour": "hours",
        "day": "dom",
        "day_of_week": "dow",
        "month": "months",
        "second": "seconds",
    }[field]
    starts: set[int] = set()
    for seed in SEEDS:
        values = sorted(getattr(kw_fields(seed, **{field: text}), attr))
        assert values, seed
        assert lo <= values[0], (seed, values)
        assert values[-1] <= hi, (seed, values)
        if step is None:
            assert len(values) == 1
        else:
            assert values[0] - lo < step  # starts in the first step
            assert values[-1] + step > hi  # and runs to the end
            assert all(b - a == step for a, b in itertools.pairwise(values))
        starts.add(values[0])
    # Sixty seeds reach both ends of a small range and spread over a large one.
    span = (hi - lo + 1) if step is None else min(step, hi - lo + 1)
    if span <= 15:
        assert starts == set(range(lo, lo + span)), sorted(starts)
    else:
        assert len(starts) >= span // 2, sorted(starts)


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"hour": "H(5-2)"}, "hour: reversed range 5-2"),
        ({"hour": "H(0-24)"}, "hour: 24 is out of range 0-23"),
        ({"minute": "H(60-61)"}, "minute: 60 is out of range 0-59"),
        ({"minute": "H/0"}, "minute: step 0 in 'H/0' is not allowed"),
        ({"minute": "H/61"}, "minute: step 61 in 'H/61' is larger than its range (60)"),
        ({"day": "xyz"}, "day: cannot parse 'xyz'"),
        ({"day": "6th fri"}, "day: unknown position '6th'"),
        ({"minute": "*/60"}, "minute: step 60 in '*/60' is larger than its range (59)"),
    ],
)
def test_keyword_errors(kw: dict[str, str], message: str) -> None:
    with pytest.raises(TriggerError) as info:
        from_keywords("cron", seed="s", **kw)
    assert str(info.value).startswith(message), str(info.value)


def test_keyword_h_step_as_wide_as_the_range_is_allowed() -> None:
    assert len(kw_fields("s", minute="H/60").minutes) == 1
    assert kw_fields("s", minute="*/59").minutes == {0, 59}  # as wide as 0-59: allowed


# -- retry backoff ------------------------------------------------------------------------------


def test_retry_delay_covers_the_whole_jitter_window() -> None:
    # "Equal jitter": uniform over [base/2, base]; 400 draws come close to both ends.
    rnd = random.Random(11)
    for attempt, base in [(1, 10.0), (3, 40.0), (12, 600.0)]:
        delays = [retry_delay_s(attempt, 10, 600, rnd) for _ in range(400)]
        assert base / 2 <= min(delays) < base / 2 + base * 0.02
        assert base - base * 0.02 < max(delays) <= base


# -- trigger objects ----------------------------------------------------------------------------


class _Anonymous(tzinfo):
    """A zone without a name: specs cannot store it, str() and repr() still work."""

    def utcoffset(self, dt: datetime | None) -> timedelta:
        return timedelta(hours=3)

    def dst(self, dt: datetime | None) -> timedelta:
        return timedelta(0)

    def tzname(self, dt: datetime | None) -> str:
        return "ANON"

    def __str__(self) -> str:
        return "anonymous+03"


def test_repr_and_str_without_a_zone_name() -> None:
    t = cron("0 2 * * *", _Anonymous())
    assert str(t) == "cron[expr='0 2 * * *', tz='anonymous+03']"
    assert repr(t).startswith("<CronTrigger ('CronTrigger', '0 2 * * *', None, <")


def test_repr_keeps_non_ascii_text() -> None:
    assert repr(cron("H 2 * * *", seed="任务-1")) == (
        '<CronTrigger {"expr": "H 2 * * *", "kind": "cron", "seed": "任务-1", "tz": "UTC"}>'
    )


def test_immutable_and_hashed_by_spec() -> None:
    t = cron("0 2 * * *")
    with pytest.raises(AttributeError, match=r"^CronTrigger is immutable$"):
        del t._expr  # type: ignore[attr-defined]
    with pytest.raises(AttributeError, match=r"^CronTrigger is immutable$"):
        t._expr = "x"  # type: ignore[misc]
    assert len({hash(cron(f"{m} * * * *")) for m in range(60)}) > 50
    assert hash(cron("0 2 * * *")) == hash(cron("0  2 * * *"))


def test_microseconds_survive_next_fire_after_at_the_end_of_time() -> None:
    # Near year 9999 a float has no microseconds left: the instant must not move a second.
    at = datetime(9999, 12, 27, 23, 59, 59, 999_999, tzinfo=UTC)
    t = date(at)
    fire = t.next_fire_after(datetime(2026, 1, 1, tzinfo=UTC))
    assert fire == at
    assert fire is not None
    assert to_us(fire) == to_us(at)


# -- descriptions: ranges, lists and joins in both languages ----------------------------------

DESCRIPTIONS = [
    ("0 0 1-3 * *", "At 00:00 on days 1 through 3 of the month", "每月 1 日至 3 日 00:00"),
    ("0 0 1,2 * *", "At 00:00 on days 1 and 2 of the month", "每月 1 日、2 日 00:00"),
    (
        "0 0 1,15,20 * *",
        "At 00:00 on days 1, 15 and 20 of the month",
        "每月 1 日、15 日、20 日 00:00",
    ),
    (
        "0 0 1-31/5 * *",
        "At 00:00 on every 5th day from day 1 through 31 of the month",
        "每月 1 日至 31 日中每 5 天 00:00",
    ),
    (
        "0 0 1-5,10-12,20 * *",
        "At 00:00 on days 1 through 5, 10 through 12 and 20 of the month",
        "每月 1 日至 5 日、10 日至 12 日、20 日 00:00",
    ),
    ("0 0 LW * *", "At 00:00 on the last weekday of the month", "每月最后一个工作日 00:00"),
    ("0 0 L-2 * *", "At 00:00 on the 3rd-to-last day of the month", "每月倒数第 3 天 00:00"),
    (
        "0 0 1,LW * *",
        "At 00:00 on day 1 and the last weekday of the month",
        "每月 1 日和最后一个工作日 00:00",
    ),
    (
        "0 0 1 JAN-MAR *",
        "At 00:00 on day 1 of the month, only in January through March",
        "1 月至 3 月，每月 1 日 00:00",
    ),
    (
        "0 0 1 JAN,FEB *",
        "At 00:00 on day 1 of the month, only in January and February",
        "1 月、2 月，每月 1 日 00:00",
    ),
    (
        "0 0 1 JAN-APR,JUN-JUL,DEC *",
        "At 00:00 on day 1 of the month, only in January through April, June, July and December",
        "1 月至 4 月、6 月、7 月、12 月，每月 1 日 00:00",
    ),
    ("5-7 * * * *", "At minutes 5 through 7", "每小时的第 5 至 7 分钟"),
    ("5,6 * * * *", "At minutes 5 and 6", "每小时的第 5、6 分钟"),
    (
        "0 0 1-3,5 * MON",
        "At 00:00 on days 1 through 3 and 5 of the month or on Monday",
        "每月 1 日至 3 日、5 日或每周一 00:00",
    ),
]


@pytest.mark.parametrize(("expr", "en", "zh"), DESCRIPTIONS)
def test_descriptions(expr: str, en: str, zh: str) -> None:
    t = cron(expr)
    assert (t.describe("en"), t.describe("zh")) == (en, zh)


@pytest.mark.parametrize(
    ("kw", "en", "zh"),
    [
        ({"seconds": 90}, "Every 90 seconds", "每 90 秒"),
        ({"seconds": 1.5}, "Every 1.5 seconds", "每 1.5 秒"),
        ({"minutes": 90}, "Every 90 minutes", "每 90 分钟"),
        ({"weeks": 2}, "Every 2 weeks", "每 2 周"),
        (
            {"hours": 1, "seconds": 0.5},
            "Every 3600.5 seconds (counted from the Unix epoch)",
            "每 3600.5 秒（从 Unix 纪元起算）",
        ),
    ],
)
def test_interval_descriptions(kw: dict[str, float], en: str, zh: str) -> None:
    t = interval(**kw)
    assert (t.describe("en"), t.describe("zh")) == (en, zh)


def test_date_description_with_jitter() -> None:
    t = date("2026-12-05 05:22:18", "Asia/Shanghai", jitter=5, seed="x")
    assert t.describe("en") == (
        "Once at 2026-12-05 05:22:18 (Asia/Shanghai), plus up to 5 s of deterministic jitter"
    )
    assert t.describe("zh") == (
        "在 2026-12-05 05:22:18（Asia/Shanghai）执行一次，另加最多 5 秒的确定性延迟"
    )


# -- specs, intervals, dates ---------------------------------------------------------------------


def test_from_spec_defaults_and_errors() -> None:
    assert from_spec({"kind": "cron", "expr": "0 2 * * *"}).tz is UTC
    every = {"kind": "interval", "weeks": 1, "days": 2, "hours": 3, "minutes": 4, "seconds": 5}
    assert from_spec(every) == interval(weeks=1, days=2, hours=3, minutes=4, seconds=5)
    cases: list[tuple[Any, str]] = [
        ([], "spec: expected a mapping, got list"),
        ({"kind": "cron", "fields": "hour=2"}, "fields: expected a mapping of APScheduler cron"),
        ({"kind": "cron", "fields": {"timezone": "UTC"}}, "timezone: is not a cron field"),
        ({"kind": "cron", "fields": {"tz": "UTC"}}, "tz: is not a cron field"),
        ({"kind": "interval", "hour": 1}, "hour: unknown key in a interval spec"),
    ]
    for spec, message in cases:
        with pytest.raises(TriggerError) as info:
            from_spec(spec)
        assert str(info.value).startswith(message), str(info.value)


def test_interval_periods_and_their_specs() -> None:
    assert interval(hours=1).to_spec() == {"kind": "interval", "hours": 1, "tz": "UTC"}
    assert interval(seconds=1.5).to_spec()["seconds"] == 1.5
    assert interval(seconds=2.0).to_spec()["seconds"] == 2
    assert interval(hours=1.5, minutes=0.5).period_us == 5_430_000_000  # fractions add up
    assert interval(seconds=0.000001).period_us == 1  # one microsecond is a period
    with pytest.raises(TriggerError, match=r"^interval: the period must be positive"):
        interval(seconds=0.0000001)


def test_interval_and_date_functions_keep_jitter_and_seed() -> None:
    jittered = interval(minutes=1, jitter=30, seed="a")
    assert jittered.to_spec()["jitter"] == 30
    assert jittered.to_spec()["seed"] == "a"
    assert jittered.next_fire_us(0) != interval(minutes=1, jitter=30, seed="b").next_fire_us(0)
    once = date("2026-01-01 00:00", jitter=30, seed="a")
    assert (once.jitter, once.seed) == (30, "a")
    assert once.next_fire_us(0) != date("2026-01-01 00:00").next_fire_us(0)


def test_microseconds_at_the_end_of_time_in_specs() -> None:
    spec = date("9999-12-27 23:59:59.999999").to_spec()
    assert spec["run_date"] == "9999-12-27T23:59:59.999999+00:00"


def test_check_lang_names_the_language() -> None:
    with pytest.raises(
        TriggerError, match=r"^lang: unsupported language 'fr' \(use 'en' or 'zh'\)"
    ):
        cron("0 2 * * *").describe("fr")  # type: ignore[arg-type]


# -- jitter --------------------------------------------------------------------------------------


def test_jitter_delay_reaches_both_ends_of_its_span() -> None:
    assert {jitter_delay("s", b, 3) for b in range(400)} == {0, 1, 2, 3}
    assert {jitter_delay("s", b, 0) for b in range(50)} == {0}


def test_unseeded_jitter_is_the_empty_seed() -> None:
    assert interval(seconds=10, jitter=5).next_fire_us(0) == 1_998_642
    assert interval(seconds=10, jitter=5, seed="").next_fire_us(0) == 1_998_642


def test_jittered_fires_match_a_brute_force_reference() -> None:
    # Every 10 s with up to 25 s of jitter: base k fires at base + its delay, the delay capped
    # below the next base. next_fire_us(x) is the first of those fires after x, from anywhere.
    period, cap = 10_000_000, 10_000_000 - 1
    t = interval(seconds=10, jitter=25, seed="bf", end_date=datetime(1970, 1, 1, 0, 10, tzinfo=UTC))
    end = 600_000_000  # a jittered fire never passes end_date: the last one is clamped to it
    fires = [min(b + jitter_delay("bf", b, cap), end) for b in range(0, end + 1, period)]
    assert fires == sorted(set(fires))
    probes = {0, 599_999_999, 600_000_000, 650_000_000}
    for f in fires:
        probes |= {f - 1, f, f + 1, f - f % period, f - f % period - 1}
    for x in sorted(probes):
        later = [f for f in fires if f > x]
        assert t.next_fire_us(x) == (later[0] if later else None), x


def test_jitter_never_reaches_the_next_base_of_a_dense_schedule() -> None:
    t = interval(seconds=0.000002, jitter=1, seed="d")  # bases 2 µs apart, 1 s of jitter
    fires = [t.next_fire_us(0)]
    for _ in range(300):
        nxt = t.next_fire_us(fires[-1])
        assert nxt is not None
        fires.append(nxt)
    assert [f // 2 for f in fires] == list(range(fires[0] // 2, fires[0] // 2 + 301))


# -- day-of-month extensions ----------------------------------------------------------------------


def test_day_of_month_extension_edges() -> None:
    def first(expr: str, after: datetime) -> datetime | None:
        return cron(expr).next_fire_after(after)

    aug = datetime(2026, 8, 1, tzinfo=UTC)  # Saturday
    assert first("0 0 15W * *", aug) == datetime(2026, 8, 14, tzinfo=UTC)  # Sat 15th -> Fri
    assert first("0 0 1W * *", datetime(2026, 7, 31, tzinfo=UTC)) == datetime(
        2026, 8, 3, tzinfo=UTC
    )  # Sat 1st -> Mon 3rd
    jan2 = datetime(2026, 1, 2, tzinfo=UTC)
    assert first("0 0 L-30 * *", jan2) == datetime(2026, 3, 1, tzinfo=UTC)  # day 1 of 31-day months
    assert first("0 0 L-0 * *", jan2) == datetime(2026, 1, 31, tzinfo=UTC)
    assert first("0 0 L-27 2 *", jan2) == datetime(2026, 2, 1, tzinfo=UTC)  # Feb 2026: 28 days


# -- APScheduler's str() of what it cannot parse, and keyword values ------------------------------


def test_str_of_lists_and_h_items() -> None:
    def text(**kw: Any) -> str:
        return str(from_keywords("cron", seed="s", **kw))

    assert text(minute="*/5,7") == "cron[minute='*/5,7']"
    assert text(day="last,15") == "cron[day='last,15']"
    assert text(day="1st mon,last") == "cron[day='1st mon,last']"
    assert text(minute="H", hour="H(1-4)") == "cron[hour='H(1-4)', minute='H']"
    assert text(day="H") == "cron[day='H']"


def test_negative_keyword_values_name_the_range() -> None:
    with pytest.raises(TriggerError, match=r"^hour: -1 is out of range 0-23$"):
        from_keywords("cron", hour=-1)
    with pytest.raises(TriggerError, match=r"^day: -1 is out of range 1-31$"):
        from_keywords("cron", day=-1)


def test_jittered_fires_are_strictly_after_even_with_no_room_to_jitter() -> None:
    # Bases every microsecond, one microsecond of jitter: no room, every delay is 0, and the
    # answer from a base is the next base, never the base itself.
    t = interval(seconds=0.000001, jitter=0.000001, seed="z")
    assert [t.next_fire_us(x) for x in range(1000, 1010)] == list(range(1001, 1011))


MORE_DESCRIPTIONS = [
    ("*/15 * * * * *", "Every 15 seconds", "每 15 秒"),
    ("30 * * * * *", "At second 30 of every minute", "每分钟的第 30 秒"),
    ("0,30 * * * * *", "Every 30 seconds", "每 30 秒"),
    ("10-20 * * * * *", "At seconds 10 through 20 of every minute", "每分钟的第 10 至 20 秒"),
    (
        "0 */5 9-17 * * *",
        "Every 5 minutes, between 09:00 and 17:59",
        "09:00 至 17:59 之间每 5 分钟",
    ),
    ("0 0 */3 * * *", "Every 3 hours", "每 3 小时"),
    ("5 */2 * * *", "Every 2 hours, at minute 5", "每 2 小时的第 5 分钟"),
    (
        "0 9-17 * * MON-FRI",
        "At minute 0, between 09:00 and 17:59, Monday through Friday",
        "周一至周五 09:00 至 17:59 之间每小时的第 0 分钟",
    ),
    (
        "*/10 9-17 * * *",
        "Every 10 minutes, between 09:00 and 17:59",
        "09:00 至 17:59 之间每 10 分钟",
    ),
    ("* 9 * * *", "Every minute, between 09:00 and 09:59", "09:00 至 09:59 之间每分钟"),
    ("*/5 9,17 * * *", "Every 5 minutes, during hours 9 and 17", "9、17 点中每 5 分钟"),
    ("0 0 * * 1#1", "At 00:00 on the first Monday of the month", "每月第一个周一 00:00"),
    ("0 0 * * 5#2", "At 00:00 on the second Friday of the month", "每月第二个周五 00:00"),
    ("0 0 * * 5#3", "At 00:00 on the third Friday of the month", "每月第三个周五 00:00"),
    ("0 0 * * 3#4", "At 00:00 on the fourth Wednesday of the month", "每月第四个周三 00:00"),
    ("0 0 * * 1#5", "At 00:00 on the fifth Monday of the month", "每月第五个周一 00:00"),
    ("0 0 * * 5L", "At 00:00 on the last Friday of the month", "每月最后一个周五 00:00"),
    ("0 0 13 * 5", "At 00:00 on day 13 of the month or on Friday", "每月 13 日或每周五 00:00"),
    ("0 0 * * SAT,SUN", "At 00:00, only on Saturday and Sunday", "每周六和周日 00:00"),
    (
        "0 0 * * 1-3,5",
        "At 00:00, only on Monday, Tuesday, Wednesday and Friday",
        "每周一、周二、周三和周五 00:00",
    ),
    ("0 0 L-10 * *", "At 00:00 on the 11th-to-last day of the month", "每月倒数第 11 天 00:00"),
    ("0 0 L-20 * *", "At 00:00 on the 21st-to-last day of the month", "每月倒数第 21 天 00:00"),
    ("0 0 L-21 * *", "At 00:00 on the 22nd-to-last day of the month", "每月倒数第 22 天 00:00"),
    ("0 0 L-22 * *", "At 00:00 on the 23rd-to-last day of the month", "每月倒数第 23 天 00:00"),
    ("0 0 L-11 * *", "At 00:00 on the 12th-to-last day of the month", "每月倒数第 12 天 00:00"),
    ("0 0 L-12 * *", "At 00:00 on the 13th-to-last day of the month", "每月倒数第 13 天 00:00"),
    ("0 12 25 12 *", "At 12:00 on December 25", "每年 12 月 25 日 12:00"),
    ("0 0 12 29 2 ? 2028", "At 12:00 on February 29, in 2028", "2028 年 2 月 29 日 12:00"),
    (
        "0 0 0 1 1 ? 2027-2029",
        "At 00:00 on January 1, in 2027 through 2029",
        "2027 至 2029 年 1 月 1 日 00:00",
    ),
    (
        "0 0 0 1 * ? 2026,2030",
        "At 00:00 on day 1 of the month, in 2026 and 2030",
        "2026、2030 年，每月 1 日 00:00",
    ),
    ("15 10 * * *", "At 10:15", "每天 10:15"),
    ("15 10,14 * * *", "At 10:15 and 14:15", "每天 10:15 和 14:15"),
    (
        "0 0 1,15 * 1#1",
        "At 00:00 on days 1 and 15 of the month or on the first Monday of the month",
        "每月 1 日、15 日或每月第一个周一 00:00",
    ),
    (
        "0 0 L * 5L",
        "At 00:00 on the last day of the month or on the last Friday of the month",
        "每月最后一天或每月最后一个周五 00:00",
    ),
    ("H H * * *", "At 03:09; H values spread by seed 's'", "每天 03:09；H 取值由种子 's' 决定"),
    ("0 0 12 * * 1-5", "At 12:00, Monday through Friday", "周一至周五 12:00"),
    ("1-5/2 * * * *", "At every 2nd minute from 1 through 5", "每小时的第 1 至 5 分钟中每 2 分钟"),
    ("*/7 * * * *", "At every 7th minute from 0 through 56", "每小时的第 0 至 56 分钟中每 7 分钟"),
    ("0 */7 * * *", "At 00:00, 07:00, 14:00 and 21:00", "每天 00:00、07:00、14:00 和 21:00"),
    (
        "0 1-23/2 * * *",
        "At minute 0, during hours 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21 and 23",
        "1、3、5、7、9、11、13、15、17、19、21、23 点中每小时的第 0 分钟",
    ),
]


@pytest.mark.parametrize(("expr", "en", "zh"), MORE_DESCRIPTIONS)
def test_more_descriptions(expr: str, en: str, zh: str) -> None:
    t = cron(expr, seed="s")
    assert (t.describe("en"), t.describe("zh")) == (en, zh)


KEYWORD_DESCRIPTIONS: list[tuple[dict[str, Any], str, str]] = [
    (
        {"year": 2026, "week": 10},
        "At 00:00, in ISO week 10, in 2026",
        "2026 年，第 10 周（ISO 周），每天 00:00",
    ),
    (
        {"week": "1-10", "day_of_week": "mon"},
        "At 00:00, only on Monday, in ISO weeks 1 through 10",
        "第 1 至 10 周（ISO 周），每周一 00:00",
    ),
    ({"day": "last fri"}, "At 00:00 on the last Friday of the month", "每月最后一个周五 00:00"),
    (
        {"day": "2nd wed", "hour": 9},
        "At 09:00 on the second Wednesday of the month",
        "每月第二个周三 09:00",
    ),
    ({"second": "*/10"}, "Every 10 seconds", "每 10 秒"),
    ({"minute": 5, "hour": "*/3"}, "Every 3 hours, at minute 5", "每 3 小时的第 5 分钟"),
]


@pytest.mark.parametrize(("kw", "en", "zh"), KEYWORD_DESCRIPTIONS)
def test_keyword_descriptions(kw: dict[str, Any], en: str, zh: str) -> None:
    t = from_keywords("cron", **kw)
    assert (t.describe("en"), t.describe("zh")) == (en, zh)


def test_descriptions_with_zone_and_bounds() -> None:
    t = cron(
        "0 9 * * *",
        "Asia/Shanghai",
        start_date="2026-01-01",
        end_date="2026-12-31 23:00",
        jitter=1.5,
        seed="x",
    )
    assert t.describe("en") == (
        "At 09:00 (Asia/Shanghai), from 2026-01-01 00:00:00, until 2026-12-31 23:00:00, "
        "plus up to 1.5 s of deterministic jitter"
    )
    assert t.describe("zh") == (
        "每天 09:00（Asia/Shanghai），自 2026-01-01 00:00:00 起，至 2026-12-31 23:00:00 止，"
        "另加最多 1.5 秒的确定性延迟"
    )
    assert cron("0 9 * * *", "+08:00").describe("en") == "At 09:00 (+08:00)"
    assert cron("0 9 * * *", "+08:00").describe("zh") == "每天 09:00（+08:00）"
