"""Next fire times of cron strings in UTC and fixed offsets: fields, extensions, bounds."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from tickwork.triggers import TriggerError, cron
from tickwork.triggers.base import Trigger, to_us


def at(*args: int, tz: timezone | ZoneInfo = UTC) -> datetime:
    return datetime(*args, tzinfo=tz)  # type: ignore[misc]


def fires(t: Trigger, after: datetime, n: int) -> list[datetime]:
    out: list[datetime] = []
    x: datetime | None = after
    for _ in range(n):
        assert x is not None
        x = t.next_fire_after(x)
        if x is None:
            break
        out.append(x)
    return out


@pytest.mark.parametrize(
    ("expr", "after", "expected"),
    [
        ("* * * * *", at(2026, 1, 1, 0, 0, 0), [at(2026, 1, 1, 0, 1), at(2026, 1, 1, 0, 2)]),
        ("*/5 * * * *", at(2026, 1, 1, 0, 3, 59), [at(2026, 1, 1, 0, 5), at(2026, 1, 1, 0, 10)]),
        ("0 9 * * MON-FRI", at(2026, 3, 27, 9), [at(2026, 3, 30, 9), at(2026, 3, 31, 9)]),
        ("0 0 1 * *", at(2026, 1, 31, 23, 59, 59), [at(2026, 2, 1), at(2026, 3, 1)]),
        ("0 0 1 1 *", at(2026, 1, 1), [at(2027, 1, 1), at(2028, 1, 1)]),
        ("59 23 31 12 *", at(2026, 6, 1), [at(2026, 12, 31, 23, 59), at(2027, 12, 31, 23, 59)]),
        ("0 0 29 2 *", at(2026, 1, 1), [at(2028, 2, 29), at(2032, 2, 29)]),
        ("0 12 * * 7", at(2026, 3, 28), [at(2026, 3, 29, 12), at(2026, 4, 5, 12)]),
        ("0 0 L * *", at(2026, 1, 31), [at(2026, 2, 28), at(2026, 3, 31)]),
        ("0 0 L * *", at(2028, 2, 1), [at(2028, 2, 29), at(2028, 3, 31)]),
        ("0 0 L-2 * *", at(2026, 2, 1), [at(2026, 2, 26), at(2026, 3, 29)]),
        ("0 0 LW * *", at(2026, 5, 1), [at(2026, 5, 29), at(2026, 6, 30)]),  # May 31 is Sunday
        ("0 0 15W * *", at(2026, 2, 1), [at(2026, 2, 16), at(2026, 3, 16)]),  # 15th: Sun, Sun
        ("0 0 1W * *", at(2026, 7, 31), [at(2026, 8, 3), at(2026, 9, 1)]),  # Aug 1 is a Saturday
        ("0 0 31W * *", at(2026, 5, 1), [at(2026, 5, 29), at(2026, 7, 31)]),  # 31st only
        ("0 0 ? * 5#3", at(2026, 1, 1), [at(2026, 1, 16), at(2026, 2, 20)]),
        ("0 0 ? * 1#5", at(2026, 1, 1), [at(2026, 3, 30), at(2026, 6, 29)]),
        ("0 0 ? * 5L", at(2026, 1, 1), [at(2026, 1, 30), at(2026, 2, 27)]),
        ("0 0 ? * SUNL", at(2026, 1, 1), [at(2026, 1, 25), at(2026, 2, 22)]),
        # Vixie OR: the 13th OR any Friday.
        ("0 0 13 * 5", at(2026, 2, 10), [at(2026, 2, 13), at(2026, 2, 20)]),
        ("0 0 13 * 5", at(2026, 3, 10), [at(2026, 3, 13), at(2026, 3, 20)]),
        # '*' first in day-of-month: AND (odd days that are Mondays).
        ("0 0 */2 * MON", at(2026, 3, 1), [at(2026, 3, 9), at(2026, 3, 23)]),
        # Six fields: seconds first.
        ("*/20 * * * * *", at(2026, 1, 1, 0, 0, 5), [at(2026, 1, 1, 0, 0, 20)]),
        ("30 0 9 * * 1", at(2026, 3, 28), [at(2026, 3, 30, 9, 0, 30), at(2026, 4, 6, 9, 0, 30)]),
        # Seven fields: year.
        ("0 0 0 1 1 ? 2027/2", at(2026, 1, 1), [at(2027, 1, 1), at(2029, 1, 1)]),
        ("0 0 12 * * ? 2099", at(2099, 12, 30, 12), [at(2099, 12, 31, 12)]),
    ],
)
def test_next_fires(expr: str, after: datetime, expected: list[datetime]) -> None:
    assert fires(cron(expr), after, len(expected)) == expected


def test_year_field_ends_the_schedule() -> None:
    t = cron("0 0 0 1 1 ? 2027")
    assert t.next_fire_after(at(2026, 6, 1)) == at(2027, 1, 1)
    assert t.next_fire_after(at(2027, 1, 1)) is None


def test_results_are_strictly_after_with_microseconds() -> None:
    t = cron("* * * * * *")
    assert t.next_fire_after(at(2026, 1, 1, 0, 0, 0)) == at(2026, 1, 1, 0, 0, 1)
    x = at(2026, 1, 1, 0, 0, 0).replace(microsecond=999_999)
    assert t.next_fire_after(x) == at(2026, 1, 1, 0, 0, 1)
    assert t.next_fire_us(to_us(at(2026, 1, 1)) - 1) == to_us(at(2026, 1, 1))


def test_result_is_in_the_trigger_zone_and_input_zone_does_not_matter() -> None:
    t = cron("0 9 * * *", "Asia/Shanghai")
    a = t.next_fire_after(at(2026, 1, 1, 0, 0))
    b = t.next_fire_after(at(2026, 1, 1, 8, 0, tz=ZoneInfo("Asia/Shanghai")))
    assert a == b == at(2026, 1, 1, 9, tz=ZoneInfo("Asia/Shanghai"))
    assert a is not None
    assert a.tzinfo == ZoneInfo("Asia/Shanghai")
    assert a.utcoffset() == timedelta(hours=8)


def test_fixed_offset_zones() -> None:
    plus8 = timezone(timedelta(hours=8))
    t = cron("0 9 * * *", plus8)
    assert t.next_fire_after(at(2026, 1, 1)) == at(2026, 1, 1, 9, tz=plus8)
    assert t.to_spec()["tz"] == "+08:00"
    assert cron("0 9 * * *", "-03:30").next_fire_after(at(2026, 1, 1)) == at(2026, 1, 1, 12, 30)


def test_naive_after_is_refused_naming_after() -> None:
    with pytest.raises(TriggerError) as info:
        cron("* * * * *").next_fire_after(datetime(2026, 1, 1))
    assert info.value.field == "after"


def test_unknown_zone() -> None:
    with pytest.raises(TriggerError) as info:
        cron("* * * * *", "Mars/Base")
    assert str(info.value) == "timezone: unknown time zone 'Mars/Base'"


class TestBounds:
    def test_start_date_is_inclusive_and_end_date_too(self) -> None:
        t = cron("0 * * * *", start_date="2026-05-01 10:00:00", end_date="2026-05-01 12:00")
        assert fires(t, at(2026, 1, 1), 5) == [
            at(2026, 5, 1, 10),
            at(2026, 5, 1, 11),
            at(2026, 5, 1, 12),
        ]

    def test_naive_bounds_are_in_the_trigger_zone(self) -> None:
        berlin = ZoneInfo("Europe/Berlin")
        t = cron("0 * * * *", "Europe/Berlin", start_date=datetime(2026, 7, 1, 10))
        assert t.next_fire_after(at(2026, 1, 1)) == at(2026, 7, 1, 10, tz=berlin)

    def test_date_objects_and_aware_datetimes(self) -> None:
        t = cron("0 12 * * *", end_date=date(2026, 1, 2))
        assert fires(t, at(2026, 1, 1), 3) == [at(2026, 1, 1, 12)]
        t2 = cron("0 12 * * *", start_date=at(2026, 1, 1, 15, tz=timezone(timedelta(hours=2))))
        assert t2.next_fire_after(at(2025, 1, 1)) == at(2026, 1, 2, 12)

    def test_bad_bounds(self) -> None:
        with pytest.raises(TriggerError, match=r"^start_date: not a date/time: 'yesterday'"):
            cron("* * * * *", start_date="yesterday")
        with pytest.raises(TriggerError, match=r"^end_date: is before start_date"):
            cron("* * * * *", start_date="2026-02-01", end_date="2026-01-01")
        with pytest.raises(TriggerError, match=r"^start_date: expected a datetime"):
            cron("* * * * *", start_date=12345)


def test_far_future_ends_in_year_9999() -> None:
    t = cron("0 0 1 1 *")
    assert t.next_fire_after(at(9998, 6, 1)) == at(9999, 1, 1)
    assert t.next_fire_after(at(9999, 1, 1)) is None
    # Fires end with 9999-12-28 (wall time) so every instant stays representable.
    for zone in ("UTC", "Europe/Berlin", "Pacific/Kiritimati", "Etc/GMT+12"):
        every = cron("* * * * *", zone)
        last = every.next_fire_after(at(9999, 12, 28, 12))
        assert last is None or last.astimezone(UTC) < at(9999, 12, 30)
        assert every.next_fire_after(at(9999, 12, 31, 23, 59, 59)) is None
        assert every.next_fire_us(10**20) is None
        first = every.next_fire_us(-(10**20))
        assert first is not None
        assert first < to_us(at(1, 1, 4))


def test_interval_stops_where_datetime_does() -> None:
    from tickwork.triggers import interval

    assert interval(minutes=1).next_fire_after(at(9999, 12, 31, 23, 59, 59)) is None


def test_before_1970_works_too() -> None:
    assert cron("0 0 1 1 *").next_fire_after(at(1900, 6, 1)) == at(1901, 1, 1)
    assert cron("0 0 ? * 1#1").next_fire_after(at(1969, 12, 15)) == at(1970, 1, 5)
