"""Vixie cron's DST rule, exactly, in four zones, both directions, every cron form.

A job is a *wildcard* job when its minute **or** hour field begins with ``*`` (the text decides,
as in Vixie's ``MIN_STAR | HR_STAR``); every other job is *fixed-time*.

* spring forward: a wildcard job fires at real instants only (nothing is made up for the skipped
  wall times); a fixed-time job whose wall time is skipped fires once, at the first instant after
  the gap;
* fall back: a wildcard job fires in both passes of the repeated wall times; a fixed-time job
  fires once, in the first pass.

The keyword form (APScheduler's ``hour=..., minute=...``) follows the rule from the fields it
ends up with: an unset minute or hour above the least significant given field is ``*``.

Zones: Europe/Berlin and America/New_York (one-hour shifts), Australia/Lord_Howe (a 30-minute
shift) and Pacific/Chatham (UTC+12:45, shifting at 02:45). Every row that says "was" fired
differently before the rule counted the minute field (see the report of issue 8 item 7).
Instants are compared as ISO strings with the zone's offset, so a second pass (``fold=1``) can
never be mistaken for the first.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from tickwork.triggers import cron, from_keywords
from tickwork.triggers.base import Trigger, to_us

BERLIN = "Europe/Berlin"  # 2026-03-29 02:00 -> 03:00; 2026-10-25 03:00 -> 02:00 (and 2021-10-31)
NEW_YORK = "America/New_York"  # 2026-03-08 02:00 -> 03:00; 2026-11-01 02:00 -> 01:00
LORD_HOWE = "Australia/Lord_Howe"  # 2026-10-04 02:00 -> 02:30; 2026-04-05 02:00 -> 01:30
CHATHAM = "Pacific/Chatham"  # 2026-09-27 02:45 -> 03:45; 2026-04-05 03:45 -> 02:45


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def run(t: Trigger, after: datetime, n: int) -> list[str]:
    out: list[str] = []
    x: int | None = to_us(after)
    for _ in range(n):
        assert x is not None
        x = t.next_fire_us(x)
        if x is None:
            break
        out.append(datetime.fromtimestamp(x / 1e6, t.tz).isoformat())
    return out


def c(expr: str) -> Callable[[str], Trigger]:
    return lambda zone: cron(expr, zone)


def kw(**fields: Any) -> Callable[[str], Trigger]:
    return lambda zone: from_keywords("cron", timezone=zone, **fields)


Row = tuple[str, str, Callable[[str], Trigger], datetime, list[str]]

# fmt: off

SPRING: list[Row] = [
    # -- Berlin, 2026-03-29: 02:00-02:59 do not exist ------------------------------------------
    # was 03:00 and 03:03: two fires minutes apart for an hourly job
    (BERLIN, "hourly wildcard", c("3 * * * *"), utc(2026, 3, 29, 0, 30),
     ["2026-03-29T03:03:00+02:00", "2026-03-29T04:03:00+02:00"]),
    # was 03:00: a minute-wildcard job has no real minute in the skipped hour
    (BERLIN, "minute wildcard, fixed hour", c("* 2 * * *"), utc(2026, 3, 29, 0, 30),
     ["2026-03-30T02:00:00+02:00", "2026-03-30T02:01:00+02:00"]),
    (BERLIN, "minute step, fixed hour", c("*/15 2 * * *"), utc(2026, 3, 28, 12),
     ["2026-03-30T02:00:00+02:00"]),
    (BERLIN, "fixed time in the gap", c("30 2 * * *"), utc(2026, 3, 28, 12),
     ["2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00"]),
    (BERLIN, "6 fields, hour wildcard", c("0 10 * * * *"), utc(2026, 3, 29, 0, 30),  # was 03:00
     ["2026-03-29T03:10:00+02:00", "2026-03-29T04:10:00+02:00"]),
    (BERLIN, "6 fields, seconds wildcard only: fixed", c("*/30 30 2 * * *"), utc(2026, 3, 28, 12),
     ["2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00"]),
    (BERLIN, "7 fields, hour wildcard", c("0 15 * * * ? 2026"), utc(2026, 3, 29, 0, 5),
     ["2026-03-29T01:15:00+01:00", "2026-03-29T03:15:00+02:00"]),  # was 03:00 between them
    (BERLIN, "keyword minute only: hour is *", kw(minute=3), utc(2026, 3, 29, 0, 30),
     ["2026-03-29T03:03:00+02:00", "2026-03-29T04:03:00+02:00"]),  # was 03:00 first
    (BERLIN, "keyword minute step, fixed hour", kw(hour=2, minute="*/15"),
     utc(2026, 3, 29, 0, 30), ["2026-03-30T02:00:00+02:00"]),  # was 03:00 first
    (BERLIN, "keyword fixed time", kw(hour=2, minute=30), utc(2026, 3, 28, 12),
     ["2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00"]),
    (BERLIN, "keyword hour only: minute defaults to 0, fixed", kw(hour=2), utc(2026, 3, 28, 12),
     ["2026-03-29T03:00:00+02:00", "2026-03-30T02:00:00+02:00"]),
    # -- New York, 2026-03-08: 02:00-02:59 do not exist ----------------------------------------
    (NEW_YORK, "hourly wildcard", c("3 * * * *"), utc(2026, 3, 8, 6, 30),  # was 03:00 first
     ["2026-03-08T03:03:00-04:00", "2026-03-08T04:03:00-04:00"]),
    (NEW_YORK, "minute step, fixed hour", c("*/10 2 * * *"), utc(2026, 3, 8, 6, 30),
     ["2026-03-09T02:00:00-04:00"]),  # was 03:00 first
    (NEW_YORK, "fixed time in the gap", c("15 2 * * *"), utc(2026, 3, 8, 6, 30),
     ["2026-03-08T03:00:00-04:00", "2026-03-09T02:15:00-04:00"]),
    (NEW_YORK, "6 fields, minute wildcard", c("0 * 2 * * *"), utc(2026, 3, 8, 6, 30),
     ["2026-03-09T02:00:00-04:00"]),  # was 03:00 first
    (NEW_YORK, "7 fields, fixed time in the gap", c("0 45 2 8 3 ? 2026"), utc(2026, 1, 1),
     ["2026-03-08T03:00:00-04:00"]),
    (NEW_YORK, "keyword minute only", kw(minute="3"), utc(2026, 3, 8, 6, 30),
     ["2026-03-08T03:03:00-04:00", "2026-03-08T04:03:00-04:00"]),  # was 03:00 first
    (NEW_YORK, "keyword fixed time on Sundays", kw(day_of_week="sun", hour=2, minute=15),
     utc(2026, 3, 1, 12), ["2026-03-08T03:00:00-04:00", "2026-03-15T02:15:00-04:00"]),
    # -- Lord Howe, 2026-10-04: 02:00-02:29 do not exist (a 30-minute shift) -------------------
    (LORD_HOWE, "hourly wildcard", c("15 * * * *"), utc(2026, 10, 3, 15),
     ["2026-10-04T03:15:00+11:00", "2026-10-04T04:15:00+11:00"]),  # was 02:30 first
    (LORD_HOWE, "minute step, fixed hour", c("*/20 2 * * *"), utc(2026, 10, 3, 15),
     ["2026-10-04T02:40:00+11:00", "2026-10-05T02:00:00+11:00"]),  # was 02:30 first
    (LORD_HOWE, "fixed time in the gap", c("15 2 * * *"), utc(2026, 10, 3, 12),
     ["2026-10-04T02:30:00+11:00", "2026-10-05T02:15:00+11:00"]),
    (LORD_HOWE, "6 fields, hour wildcard", c("30 15 * * * *"), utc(2026, 10, 3, 15),
     ["2026-10-04T03:15:30+11:00"]),  # was 02:30:00 first
    (LORD_HOWE, "keyword minute step, fixed hour", kw(hour=2, minute="*/20"),
     utc(2026, 10, 3, 15), ["2026-10-04T02:40:00+11:00"]),  # was 02:30 first
    # -- Chatham, 2026-09-27: 02:45-03:44 do not exist (UTC+12:45 -> +13:45) -------------------
    # was 02:03, 03:45 and 04:03: two fires minutes apart for an hourly job
    (CHATHAM, "hourly wildcard", c("3 * * * *"), utc(2026, 9, 26, 13),
     ["2026-09-27T02:03:00+12:45", "2026-09-27T04:03:00+13:45"]),
    (CHATHAM, "hourly wildcard, minute after the shift", c("50 * * * *"), utc(2026, 9, 26, 13),
     ["2026-09-27T01:50:00+12:45", "2026-09-27T03:50:00+13:45"]),  # was 03:45 between them
    (CHATHAM, "minute wildcard over the shift", c("* 3 * * *"), utc(2026, 9, 26, 13),
     ["2026-09-27T03:45:00+13:45", "2026-09-27T03:46:00+13:45"]),
    (CHATHAM, "fixed time in the gap", c("3 3 * * *"), utc(2026, 9, 26, 13),
     ["2026-09-27T03:45:00+13:45", "2026-09-28T03:03:00+13:45"]),
    (CHATHAM, "7 fields, hour wildcard", c("0 3 * * * * 2026"), utc(2026, 9, 26, 13),
     ["2026-09-27T02:03:00+12:45", "2026-09-27T04:03:00+13:45"]),
    (CHATHAM, "keyword minute only", kw(minute=3), utc(2026, 9, 26, 13),
     ["2026-09-27T02:03:00+12:45", "2026-09-27T04:03:00+13:45"]),
    (CHATHAM, "keyword fixed time", kw(hour=2, minute=50), utc(2026, 9, 26, 13),
     ["2026-09-27T03:45:00+13:45", "2026-09-28T02:50:00+13:45"]),
]

FALL: list[Row] = [
    # -- Berlin, 2026-10-25 (and 2021-10-31): 02:00-02:59 happen twice --------------------------
    # the case: was 02:59 then 03:00, skipping the second pass of 02:00-02:59
    (BERLIN, "minute wildcard, hour range", c("* 1-6 * * *"), utc(2021, 10, 31, 0, 58, 30),
     ["2021-10-31T02:59:00+02:00", "2021-10-31T02:00:00+01:00", "2021-10-31T02:01:00+01:00"]),
    (BERLIN, "minute step, fixed hour", c("*/30 2 * * *"), utc(2026, 10, 25, 0, 15),
     ["2026-10-25T02:30:00+02:00", "2026-10-25T02:00:00+01:00", "2026-10-25T02:30:00+01:00",
      "2026-10-26T02:00:00+01:00"]),  # was 02:30 CEST, then the next day
    (BERLIN, "fixed time", c("30 2 * * *"), utc(2026, 10, 24, 12),
     ["2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"]),
    (BERLIN, "hourly wildcard", c("0 * * * *"), utc(2026, 10, 24, 23, 30),
     ["2026-10-25T02:00:00+02:00", "2026-10-25T02:00:00+01:00", "2026-10-25T03:00:00+01:00"]),
    (BERLIN, "6 fields, minute wildcard", c("15 * 2 * * *"), utc(2026, 10, 25, 0, 59, 30),
     ["2026-10-25T02:00:15+01:00", "2026-10-25T02:01:15+01:00"]),  # was the next day
    (BERLIN, "6 fields, fixed time", c("0 0 2 * * *"), utc(2026, 10, 24, 12),
     ["2026-10-25T02:00:00+02:00", "2026-10-26T02:00:00+01:00"]),
    (BERLIN, "7 fields, minute step", c("0 */30 2 * * ? 2026"), utc(2026, 10, 25, 0, 15),
     ["2026-10-25T02:30:00+02:00", "2026-10-25T02:00:00+01:00"]),  # was the next day
    (BERLIN, "keyword minute wildcard", kw(hour=2, minute="*"), utc(2026, 10, 25, 0, 59, 30),
     ["2026-10-25T02:00:00+01:00", "2026-10-25T02:01:00+01:00"]),  # was the next day
    (BERLIN, "keyword hour only: fixed", kw(hour=2), utc(2026, 10, 24, 12),
     ["2026-10-25T02:00:00+02:00", "2026-10-26T02:00:00+01:00"]),
    (BERLIN, "keyword minute only: hour is *", kw(minute="0,30"), utc(2026, 10, 25, 0, 15),
     ["2026-10-25T02:30:00+02:00", "2026-10-25T02:00:00+01:00", "2026-10-25T02:30:00+01:00"]),
    # -- New York, 2026-11-01: 01:00-01:59 happen twice ----------------------------------------
    (NEW_YORK, "minute wildcard, fixed hour", c("* 1 * * *"), utc(2026, 11, 1, 5, 58, 30),
     ["2026-11-01T01:59:00-04:00", "2026-11-01T01:00:00-05:00", "2026-11-01T01:01:00-05:00"]),
    (NEW_YORK, "fixed time", c("30 1 * * *"), utc(2026, 10, 31, 12),
     ["2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"]),
    (NEW_YORK, "6 fields, minute step", c("0 */20 1 * * *"), utc(2026, 11, 1, 5, 50),
     ["2026-11-01T01:00:00-05:00", "2026-11-01T01:20:00-05:00"]),  # was the next day
    (NEW_YORK, "7 fields, fixed time", c("0 30 1 1 11 ? 2026"), utc(2026, 1, 1),
     ["2026-11-01T01:30:00-04:00"]),
    (NEW_YORK, "keyword minute step", kw(hour=1, minute="*/20"), utc(2026, 11, 1, 5, 50),
     ["2026-11-01T01:00:00-05:00", "2026-11-01T01:20:00-05:00"]),  # was the next day
    # -- Lord Howe, 2026-04-05: 01:30-01:59 happen twice (a 30-minute shift) --------------------
    (LORD_HOWE, "minute step, fixed hour", c("*/15 1 * * *"), utc(2026, 4, 4, 14, 40),
     ["2026-04-05T01:45:00+11:00", "2026-04-05T01:30:00+10:30", "2026-04-05T01:45:00+10:30",
      "2026-04-06T01:00:00+10:30"]),  # was 01:45 (+11:00), then the next day
    (LORD_HOWE, "fixed time", c("45 1 * * *"), utc(2026, 4, 4, 12),
     ["2026-04-05T01:45:00+11:00", "2026-04-06T01:45:00+10:30"]),
    (LORD_HOWE, "7 fields, minute wildcard", c("0 * 1 5 4 ? 2026"), utc(2026, 4, 4, 14, 58, 30),
     ["2026-04-05T01:59:00+11:00", "2026-04-05T01:30:00+10:30"]),  # was none: the year ended
    (LORD_HOWE, "keyword minute step", kw(hour=1, minute="*/15"), utc(2026, 4, 4, 14, 40),
     ["2026-04-05T01:45:00+11:00", "2026-04-05T01:30:00+10:30"]),  # was the next day
    # -- Chatham, 2026-04-05: 02:45-03:44 happen twice (UTC+13:45 -> +12:45) -------------------
    (CHATHAM, "hourly wildcard", c("0 * * * *"), utc(2026, 4, 4, 13),
     ["2026-04-05T03:00:00+13:45", "2026-04-05T03:00:00+12:45", "2026-04-05T04:00:00+12:45"]),
    (CHATHAM, "minute step, fixed hour", c("*/30 3 * * *"), utc(2026, 4, 4, 13, 20),
     ["2026-04-05T03:30:00+13:45", "2026-04-05T03:00:00+12:45", "2026-04-05T03:30:00+12:45",
      "2026-04-06T03:00:00+12:45"]),  # was 03:30 (+13:45), then the next day
    (CHATHAM, "fixed time", c("0 3 * * *"), utc(2026, 4, 4, 12),
     ["2026-04-05T03:00:00+13:45", "2026-04-06T03:00:00+12:45"]),
    (CHATHAM, "6 fields, minute wildcard", c("0 * 3 * * *"), utc(2026, 4, 4, 13, 58, 30),
     ["2026-04-05T03:44:00+13:45", "2026-04-05T03:00:00+12:45"]),  # was the next day
    (CHATHAM, "keyword minute step", kw(hour=3, minute="*/30"), utc(2026, 4, 4, 13, 20),
     ["2026-04-05T03:30:00+13:45", "2026-04-05T03:00:00+12:45"]),  # was the next day
    (CHATHAM, "keyword fixed time", kw(hour=3, minute=0), utc(2026, 4, 4, 12),
     ["2026-04-05T03:00:00+13:45", "2026-04-06T03:00:00+12:45"]),
]
# fmt: on


@pytest.mark.parametrize(
    ("zone", "label", "make", "after", "expected"),
    SPRING + FALL,
    ids=[f"spring-{r[0].split('/')[-1]}-{r[1]}" for r in SPRING]
    + [f"fall-{r[0].split('/')[-1]}-{r[1]}" for r in FALL],
)
def test_vixie_dst_rule(
    zone: str, label: str, make: Callable[[str], Trigger], after: datetime, expected: list[str]
) -> None:
    t = make(zone)
    assert run(t, after, len(expected)) == expected, label
    # The datetime path agrees with the integer path, fire by fire.
    moment: datetime | None = after
    for want in expected:
        assert moment is not None
        moment = t.next_fire_after(moment)
        assert moment is not None
        assert moment.isoformat() == want


WILDCARD_FLAGS: list[tuple[str, Callable[[str], Trigger], bool]] = [
    ("0 * * * *", c("0 * * * *"), True),
    ("* 2 * * *: the minute counts too", c("* 2 * * *"), True),
    ("*/5 0-23 * * *", c("*/5 0-23 * * *"), True),
    ("0 */2 * * *", c("0 */2 * * *"), True),
    ("@hourly", c("@hourly"), True),
    ("6 fields: the minute is the second field", c("0 0 * * * *"), True),
    ("6 fields: the seconds do not count (Vixie has none)", c("* 0 2 * * *"), False),
    ("by text: a range covering every value is fixed", c("0-59 0-23 * * *"), False),
    ("@daily", c("@daily"), False),
    ("H is a fixed value, however it is spread", c("H 2 * * *"), False),
    ("keyword minute=5: the unset hour above it is *", kw(minute=5), True),
    ("keyword second=5: minute and hour are *", kw(second=5), True),
    ("keyword hour=2: minute and second default to 0", kw(hour=2), False),
    ("keyword hour=2, minute=*/10", kw(hour=2, minute="*/10"), True),
    ("keyword day_of_week=sun: hour, minute, second default to 0", kw(day_of_week="sun"), False),
    ("keyword hour=*, minute=0", kw(hour="*", minute=0), True),
]


@pytest.mark.parametrize(
    ("make", "wildcard"),
    [row[1:] for row in WILDCARD_FLAGS],
    ids=[row[0] for row in WILDCARD_FLAGS],
)
def test_wildcard_is_decided_by_minute_or_hour_text(
    make: Callable[[str], Trigger], wildcard: bool
) -> None:
    t = make(BERLIN)
    assert t.fields.wildcard is wildcard  # type: ignore[attr-defined]
