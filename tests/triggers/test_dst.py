"""The one DST rule, for cron strings and the keyword form, in Berlin and New York.

* a fire in a skipped interval runs once, at the first instant after the gap;
* in a repeated interval a fixed-time fire runs once, at the first occurrence;
* a wildcard job (minute or hour field begins with '*') fires at every real instant, both passes
  included, and at nothing made up for a gap (test_dst_vixie.py has the full table).

Instants are written in UTC and compared as epoch microseconds: ``==`` between aware
datetimes ignores ``fold`` inside a zone, which would hide exactly the bugs tested here.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tickwork.triggers import cron, from_keywords
from tickwork.triggers.base import Trigger, to_us


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def run(t: Trigger, after: datetime, n: int) -> list[str]:
    """The next n fires as ISO strings with the zone's offset (the CLI's format)."""
    out: list[str] = []
    x: int | None = to_us(after)
    for _ in range(n):
        assert x is not None
        x = t.next_fire_us(x)
        if x is None:
            break
        out.append(datetime.fromtimestamp(x / 1e6, t.tz).isoformat())
    return out


BERLIN = "Europe/Berlin"  # 2026-03-29 02:00 CET -> 03:00 CEST; 2026-10-25 03:00 CEST -> 02:00 CET
NEW_YORK = "America/New_York"  # 2026-03-08 02:00 EST -> 03:00 EDT; 2026-11-01 02:00 EDT -> 01:00

# Each case: (zone, trigger maker, after (UTC), expected fires).
SPRING = [
    (
        BERLIN,
        lambda: cron("30 2 * * *", BERLIN),
        utc(2026, 3, 28, 12),
        ["2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00"],
    ),
    (
        BERLIN,
        lambda: from_keywords("cron", hour=2, minute=30, timezone=BERLIN),
        utc(2026, 3, 28, 12),
        ["2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00"],
    ),
    (
        BERLIN,  # several wall times in one gap give one fire; 03:00 is the same instant
        lambda: cron("*/20 2,3 * * *", BERLIN),
        utc(2026, 3, 29, 0, 50),
        ["2026-03-29T03:00:00+02:00", "2026-03-29T03:20:00+02:00", "2026-03-29T03:40:00+02:00"],
    ),
    (
        BERLIN,
        lambda: cron("0 * * * *", BERLIN),
        utc(2026, 3, 28, 23, 30),
        ["2026-03-29T01:00:00+01:00", "2026-03-29T03:00:00+02:00", "2026-03-29T04:00:00+02:00"],
    ),
    (
        BERLIN,
        lambda: cron("*/30 * * * *", BERLIN),
        utc(2026, 3, 29, 0, 15),
        ["2026-03-29T01:30:00+01:00", "2026-03-29T03:00:00+02:00", "2026-03-29T03:30:00+02:00"],
    ),
    (
        BERLIN,
        lambda: from_keywords("cron", minute="*/30", timezone=BERLIN),
        utc(2026, 3, 29, 0, 15),
        ["2026-03-29T01:30:00+01:00", "2026-03-29T03:00:00+02:00", "2026-03-29T03:30:00+02:00"],
    ),
    (
        NEW_YORK,
        lambda: cron("30 2 * * *", NEW_YORK),
        utc(2026, 3, 7, 12),
        ["2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00"],
    ),
    (
        NEW_YORK,
        lambda: from_keywords("cron", day_of_week="sun", hour=2, minute=15, timezone=NEW_YORK),
        utc(2026, 3, 1, 12),
        ["2026-03-08T03:00:00-04:00", "2026-03-15T02:15:00-04:00"],
    ),
    (
        NEW_YORK,  # a 6-field job inside the gap
        lambda: cron("10 10 2 * * *", NEW_YORK),
        utc(2026, 3, 8, 0),
        ["2026-03-08T03:00:00-04:00", "2026-03-09T02:10:10-04:00"],
    ),
]

FALL = [
    (
        BERLIN,  # fixed time in the repeated hour: once, at the first (CEST) occurrence
        lambda: cron("30 2 * * *", BERLIN),
        utc(2026, 10, 24, 12),
        ["2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"],
    ),
    (
        BERLIN,
        lambda: from_keywords("cron", hour=2, minute=30, timezone=BERLIN),
        utc(2026, 10, 24, 12),
        ["2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"],
    ),
    (
        BERLIN,  # starting inside the second pass: the fixed job does not fire again
        lambda: cron("30 2 * * *", BERLIN),
        utc(2026, 10, 25, 1, 10),  # 02:10 CET, second pass
        ["2026-10-26T02:30:00+01:00"],
    ),
    (
        BERLIN,  # starting inside the first pass after the fire
        lambda: cron("30 2 * * *", BERLIN),
        utc(2026, 10, 25, 0, 45),  # 02:45 CEST
        ["2026-10-26T02:30:00+01:00"],
    ),
    (
        BERLIN,  # wildcard hour: both passes
        lambda: cron("0 * * * *", BERLIN),
        utc(2026, 10, 24, 23, 30),  # 01:30 CEST
        [
            "2026-10-25T02:00:00+02:00",
            "2026-10-25T02:00:00+01:00",
            "2026-10-25T03:00:00+01:00",
        ],
    ),
    (
        BERLIN,
        lambda: cron("*/30 * * * *", BERLIN),
        utc(2026, 10, 25, 0, 40),  # 02:40 CEST, first pass
        [
            "2026-10-25T02:00:00+01:00",
            "2026-10-25T02:30:00+01:00",
            "2026-10-25T03:00:00+01:00",
        ],
    ),
    (
        BERLIN,  # wildcard hour, starting in the second pass
        lambda: cron("*/30 * * * *", BERLIN),
        utc(2026, 10, 25, 1, 10),  # 02:10 CET
        ["2026-10-25T02:30:00+01:00", "2026-10-25T03:00:00+01:00"],
    ),
    (
        BERLIN,  # keyword form with hour unset-and-wildcarded (minute is the only field)
        lambda: from_keywords("cron", minute="0,30", timezone=BERLIN),
        utc(2026, 10, 25, 0, 15),
        [
            "2026-10-25T02:30:00+02:00",
            "2026-10-25T02:00:00+01:00",
            "2026-10-25T02:30:00+01:00",
            "2026-10-25T03:00:00+01:00",
        ],
    ),
    (
        NEW_YORK,
        lambda: cron("30 1 * * *", NEW_YORK),
        utc(2026, 10, 31, 12),
        ["2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"],
    ),
    (
        NEW_YORK,
        lambda: cron("30 1 * * *", NEW_YORK),
        utc(2026, 11, 1, 6, 5),  # 01:05 EST, second pass
        ["2026-11-02T01:30:00-05:00"],
    ),
    (
        NEW_YORK,
        lambda: from_keywords("cron", hour=1, minute=30, timezone=NEW_YORK),
        utc(2026, 11, 1, 6, 5),
        ["2026-11-02T01:30:00-05:00"],
    ),
    (
        NEW_YORK,
        lambda: cron("0 * * * *", NEW_YORK),
        utc(2026, 11, 1, 4, 30),  # 00:30 EDT
        [
            "2026-11-01T01:00:00-04:00",
            "2026-11-01T01:00:00-05:00",
            "2026-11-01T02:00:00-05:00",
        ],
    ),
    (
        NEW_YORK,
        lambda: from_keywords("cron", hour="*", minute=0, timezone=NEW_YORK),
        utc(2026, 11, 1, 5, 30),  # 01:30 EDT, first pass
        ["2026-11-01T01:00:00-05:00", "2026-11-01T02:00:00-05:00"],
    ),
    (
        NEW_YORK,  # a fixed hour list is fixed-time, even when it covers the fold
        lambda: cron("0,30 0-2 * * *", NEW_YORK),
        utc(2026, 11, 1, 5, 15),  # 01:15 EDT
        ["2026-11-01T01:30:00-04:00", "2026-11-01T02:00:00-05:00"],
    ),
]


@pytest.mark.parametrize(("zone", "make", "after", "expected"), SPRING + FALL)
def test_dst_rule(zone: str, make: object, after: datetime, expected: list[str]) -> None:
    t = make()  # type: ignore[operator]
    assert str(t.tz) == zone
    assert run(t, after, len(expected)) == expected


def test_second_pass_fires_carry_fold_one() -> None:
    t = cron("0 * * * *", BERLIN)
    first = t.next_fire_after(utc(2026, 10, 25, 0, 30))
    second = t.next_fire_after(utc(2026, 10, 24, 23, 30))
    assert first is not None
    assert second is not None
    assert (first.hour, first.fold, to_us(first)) == (2, 1, to_us(utc(2026, 10, 25, 1)))
    assert (second.hour, second.fold, to_us(second)) == (2, 0, to_us(utc(2026, 10, 25, 0)))


def test_lord_howe_half_hour_shift() -> None:
    # Australia/Lord_Howe moves by 30 minutes: 02:00 -> 02:30 in spring, 02:00 -> 01:30 in fall.
    zone = "Australia/Lord_Howe"
    assert run(cron("15 2 * * *", zone), utc(2026, 10, 3, 12), 2) == [
        "2026-10-04T02:30:00+11:00",
        "2026-10-05T02:15:00+11:00",
    ]
    assert run(cron("45 1 * * *", zone), utc(2026, 4, 4, 12), 2) == [
        "2026-04-05T01:45:00+11:00",
        "2026-04-06T01:45:00+10:30",
    ]
    assert run(cron("*/15 * * * *", zone), utc(2026, 4, 4, 14, 40), 4) == [
        "2026-04-05T01:45:00+11:00",
        "2026-04-05T01:30:00+10:30",
        "2026-04-05T01:45:00+10:30",
        "2026-04-05T02:00:00+10:30",
    ]


def test_zone_that_skipped_a_whole_day() -> None:
    # Samoa skipped 2011-12-30 entirely: the daily job fires once, right after the gap.
    assert run(cron("0 12 * * *", "Pacific/Apia"), utc(2011, 12, 29, 0), 3) == [
        "2011-12-29T12:00:00-10:00",
        "2011-12-31T00:00:00+14:00",
        "2011-12-31T12:00:00+14:00",
    ]


def test_naive_start_date_in_a_gap_and_in_a_fold() -> None:
    gap = cron("* * * * *", BERLIN, start_date="2026-03-29 02:30:00")
    assert run(gap, utc(2026, 1, 1), 1) == ["2026-03-29T03:00:00+02:00"]
    fold = cron("* * * * *", BERLIN, start_date="2026-10-25 02:30:00")
    assert run(fold, utc(2026, 1, 1), 1) == ["2026-10-25T02:30:00+02:00"]


def test_distant_fires_across_many_changes() -> None:
    # The search jumps over years of offset changes; the rule still applies where it lands.
    assert run(cron("30 2 8 3 *", NEW_YORK), utc(2025, 6, 1), 3) == [
        "2026-03-08T03:00:00-04:00",  # 2026-03-08 is the spring-forward Sunday
        "2027-03-08T02:30:00-05:00",
        "2028-03-08T02:30:00-05:00",
    ]
    assert run(cron("0 30 1 1 11 ? 2099", NEW_YORK), utc(2026, 1, 1), 1) == [
        "2099-11-01T01:30:00-04:00"  # the first of the two 01:30s that day
    ]
    assert run(cron("0 0 * 1 11 ? 2099", NEW_YORK), utc(2099, 11, 1, 5, 30), 2) == [
        "2099-11-01T01:00:00-05:00",  # hour-wildcard: the second pass too
        "2099-11-01T02:00:00-05:00",
    ]
