"""Interval and date triggers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tickwork.triggers import TriggerError, date, from_keywords, interval
from tickwork.triggers.base import to_us


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


class TestInterval:
    def test_anchored_at_the_epoch_without_start_date(self) -> None:
        t = interval(minutes=30)
        assert t.next_fire_after(utc(2026, 1, 1, 0, 0)) == utc(2026, 1, 1, 0, 30)
        assert t.next_fire_after(utc(2026, 1, 1, 0, 29, 59)) == utc(2026, 1, 1, 0, 30)
        assert t.next_fire_after(utc(2026, 1, 1, 0, 30)) == utc(2026, 1, 1, 1, 0)

    def test_start_date_is_the_first_fire(self) -> None:
        t = interval(hours=2, start_date="2026-01-01 00:10:00")
        assert t.next_fire_after(utc(2025, 6, 1)) == utc(2026, 1, 1, 0, 10)
        assert t.next_fire_after(utc(2026, 1, 1, 0, 10)) == utc(2026, 1, 1, 2, 10)
        assert t.next_fire_after(utc(2026, 1, 1, 5)) == utc(2026, 1, 1, 6, 10)

    def test_end_date_is_inclusive(self) -> None:
        t = interval(hours=1, start_date="2026-01-01", end_date="2026-01-01 02:00")
        assert t.next_fire_after(utc(2026, 1, 1, 1)) == utc(2026, 1, 1, 2)
        assert t.next_fire_after(utc(2026, 1, 1, 2)) is None

    def test_units_add_up_and_compare_by_period(self) -> None:
        t = interval(weeks=1, days=1, hours=1, minutes=1, seconds=1)
        assert t.period_us == ((8 * 24 + 1) * 60 + 1) * 60_000_000 + 1_000_000
        assert interval(minutes=90) == interval(hours=1, minutes=30)
        assert hash(interval(minutes=90)) == hash(interval(hours=1.5))
        assert interval(seconds=0.25).next_fire_us(0) == 250_000

    def test_elapsed_time_ignores_dst(self) -> None:
        berlin = ZoneInfo("Europe/Berlin")
        t = interval(hours=1, start_date=datetime(2026, 3, 29, 0, 0, tzinfo=berlin), tz=berlin)
        got = [t.next_fire_us(to_us(utc(2026, 3, 28, 23, 0)) + i * 3_600_000_000) for i in range(4)]
        assert [g - got[0] for g in got if g is not None] == [
            0,
            3_600_000_000,
            7_200_000_000,
            10_800_000_000,
        ]
        fire = t.next_fire_after(utc(2026, 3, 29, 0, 30))
        assert fire is not None
        assert fire.isoformat() == "2026-03-29T03:00:00+02:00"  # 01:00 UTC, one hour after 02:00

    @pytest.mark.parametrize(
        ("kw", "message"),
        [
            ({}, "interval: the period must be positive (give weeks..seconds)"),
            ({"minutes": -5}, "minutes: must be a finite number >= 0, got -5"),
            ({"hours": "2"}, "hours: expected a number, got '2'"),
            ({"seconds": float("nan")}, "seconds: must be a finite number >= 0, got nan"),
        ],
    )
    def test_errors(self, kw: dict[str, object], message: str) -> None:
        with pytest.raises(TriggerError) as info:
            interval(**kw)  # type: ignore[arg-type]
        assert str(info.value) == message

    def test_keyword_form(self) -> None:
        t = from_keywords("interval", minutes=15, start_date="2026-01-01", timezone="Asia/Shanghai")
        assert t == interval(minutes=15, start_date="2026-01-01", tz="Asia/Shanghai")
        assert t.next_fire_after(utc(2025, 12, 31, 16)) == utc(2025, 12, 31, 16, 15)


class TestDate:
    def test_fires_once(self) -> None:
        t = date("2026-12-31 23:59:59", "Asia/Shanghai")
        assert t.next_fire_after(utc(2026, 1, 1)) == utc(2026, 12, 31, 15, 59, 59)
        assert t.next_fire_after(utc(2026, 12, 31, 15, 59, 59)) is None
        assert t.next_fire_us(to_us(utc(2026, 12, 31, 15, 59, 59)) - 1) == to_us(
            utc(2026, 12, 31, 15, 59, 59)
        )

    def test_inputs(self) -> None:
        aware = datetime(2026, 5, 1, 12, tzinfo=ZoneInfo("Europe/Berlin"))
        assert date(aware).run_us == to_us(aware)
        assert date("2026-05-01T10:00:00Z").run_us == to_us(utc(2026, 5, 1, 10))
        assert date(datetime(2026, 5, 1).date(), "Europe/Berlin").run_us == to_us(
            utc(2026, 4, 30, 22)
        )
        t = date("2026-05-01 10:00:00.250000")
        assert t.run_us == to_us(utc(2026, 5, 1, 10)) + 250_000
        fire = t.next_fire_after(utc(2026, 1, 1))
        assert fire is not None
        assert fire.microsecond == 250_000

    def test_keyword_form_takes_the_zone_of_an_aware_run_date(self) -> None:
        shanghai = ZoneInfo("Asia/Shanghai")
        t = from_keywords("date", run_date=datetime(2026, 1, 1, 8, tzinfo=shanghai))
        assert t.tz is shanghai
        assert t == date("2026-01-01 08:00", "Asia/Shanghai")

    def test_errors(self) -> None:
        with pytest.raises(TriggerError, match=r"^run_date: is required"):
            date(None)
        with pytest.raises(TriggerError, match=r"^run_date: not a date/time: 'soon'"):
            date("soon")
        with pytest.raises(TriggerError, match=r"^run_date: expected a datetime"):
            date(1234)


def test_result_zone_for_interval_and_date() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    fire = interval(minutes=1, tz=berlin).next_fire_after(utc(2026, 1, 1))
    assert fire is not None
    assert fire.tzinfo is berlin
    assert fire.utcoffset() == timedelta(hours=1)
