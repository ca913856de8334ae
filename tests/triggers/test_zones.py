"""The offset-segment tables must agree with zoneinfo everywhere."""

from __future__ import annotations

import random
import zoneinfo
from datetime import UTC, datetime, timedelta, timezone

import pytest

from tickwork.triggers import TriggerError
from tickwork.triggers.zones import (
    ZoneTable,
    fixed_offset,
    resolve_tz,
    tz_name,
    wall_seconds,
    zone_table,
)


def _offset(zone: zoneinfo.ZoneInfo, t: int) -> int:
    off = datetime.fromtimestamp(t, zone).utcoffset()
    assert off is not None
    return int(off.total_seconds())


@pytest.mark.slow
def test_tables_agree_with_zoneinfo() -> None:
    rng = random.Random(7)
    every = sorted(zoneinfo.available_timezones())
    assert len(every) > 300
    # A quarter of all zones (each table costs ~40 ms to build) plus the tricky ones.
    tricky = ["Australia/Lord_Howe", "Pacific/Apia", "Africa/Casablanca", "Asia/Gaza"]
    zones = every[::4] + [z for z in tricky if z in every]
    lo = int(datetime(1990, 1, 1, tzinfo=UTC).timestamp())
    hi = int(datetime(2045, 1, 1, tzinfo=UTC).timestamp())
    for name in zones:
        zone = zoneinfo.ZoneInfo(name)
        table = ZoneTable(zone)
        for _ in range(40):
            t = rng.randrange(lo, hi)
            assert table.offset_at(t) == _offset(zone, t), (name, t)
        # Every change is found to the second.
        st = table.cover(lo)
        for change in st.trans[1:-1]:
            assert _offset(zone, change) != _offset(zone, change - 1), (name, change)


def test_growing_in_both_directions_keeps_changes() -> None:
    zone = zoneinfo.ZoneInfo("America/New_York")
    table = ZoneTable(zone)
    mid = int(datetime(2026, 6, 1, tzinfo=UTC).timestamp())
    assert table.offset_at(mid) == -4 * 3600
    for year in (2080, 1975, 2300, 1950):
        t = int(datetime(year, 1, 15, tzinfo=UTC).timestamp())
        assert table.offset_at(t) == _offset(zone, t)
        summer = int(datetime(year, 7, 15, tzinfo=UTC).timestamp())
        assert table.offset_at(summer) == _offset(zone, summer)
    assert table.offset_at(mid) == -4 * 3600
    trans = table.state.trans
    assert trans == sorted(trans)


def test_wall_to_utc_follows_the_rule() -> None:
    table = zone_table(zoneinfo.ZoneInfo("Europe/Berlin"))

    def wall(*args: int) -> int:
        return wall_seconds(datetime(*args))  # type: ignore[misc]

    def utc(*args: int) -> int:
        return int(datetime(*args, tzinfo=UTC).timestamp())  # type: ignore[misc]

    assert table.wall_to_utc(wall(2026, 7, 1, 12)) == utc(2026, 7, 1, 10)
    assert table.wall_to_utc(wall(2026, 3, 29, 2, 30)) == utc(2026, 3, 29, 1)  # gap: after it
    assert table.wall_to_utc(wall(2026, 10, 25, 2, 30)) == utc(2026, 10, 25, 0, 30)  # first


def test_fixed_offsets_and_names() -> None:
    assert fixed_offset(UTC) == 0
    assert fixed_offset(timezone(timedelta(hours=5, minutes=45))) == 20700
    assert fixed_offset(zoneinfo.ZoneInfo("Etc/UTC")) == 0
    assert fixed_offset(zoneinfo.ZoneInfo("Europe/Berlin")) is None
    assert resolve_tz("utc") is UTC
    assert resolve_tz("+0530") == timezone(timedelta(hours=5, minutes=30))
    assert tz_name(resolve_tz("-08:00")) == "-08:00"
    assert tz_name(zoneinfo.ZoneInfo("Asia/Kolkata")) == "Asia/Kolkata"
    for bad in ("Mars/Base", "+25:00", "", "../etc/passwd"):
        with pytest.raises(TriggerError) as info:
            resolve_tz(bad)
        assert str(info.value) == f"timezone: unknown time zone {bad!r}"
    with pytest.raises(TriggerError, match=r"^timezone: expected a time zone name"):
        resolve_tz(8)  # type: ignore[arg-type]
