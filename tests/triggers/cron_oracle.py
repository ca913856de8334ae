"""A slow, obviously-correct reference for the cron calendar and the DST rule.

It shares nothing with the implementation but ``CronFields`` (the parsed value sets): days are
checked one by one with ``datetime.date``, and wall times are mapped to instants with zoneinfo's
own fold handling, so a bug in the bitmasks, block caches or offset segments shows up here.
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta, tzinfo

from tickwork.triggers.schedule import CronFields, DayItem


def _item_hits(item: DayItem, d: date) -> bool:
    kind, a, b = item
    last = calendar.monthrange(d.year, d.month)[1]
    if kind == "last":
        return d.day == last - a
    if kind == "nearest":
        if a > last:
            return False
        wd = date(d.year, d.month, a).weekday()
        target = a
        if wd == 5:
            target = a - 1 if a > 1 else a + 2
        elif wd == 6:
            target = a + 1 if a < last else a - 2
        return d.day == target
    if kind == "lastweekday":
        day = last
        while date(d.year, d.month, day).weekday() >= 5:
            day -= 1
        return d.day == day
    if kind == "nth":
        return d.weekday() == a and (d.day - 1) // 7 + 1 == b
    if kind == "lastdow":
        return d.weekday() == a and d.day + 7 > last
    raise AssertionError(kind)


def day_matches(f: CronFields, d: date) -> bool:
    if d.month not in f.months:
        return False
    if f.years is not None and d.year not in f.years:
        return False
    if f.weeks is not None and d.isocalendar()[1] not in f.weeks:
        return False
    dom_ok = d.day in f.dom or any(_item_hits(i, d) for i in f.dom_items)
    dow_ok = d.weekday() in f.dow or any(_item_hits(i, d) for i in f.dow_items)
    return (dom_ok or dow_ok) if f.day_or else (dom_ok and dow_ok)


def wall_matches(f: CronFields, wall: datetime) -> bool:
    return (
        wall.second in f.seconds
        and wall.minute in f.minutes
        and wall.hour in f.hours
        and day_matches(f, wall.date())
    )


def _times(f: CronFields) -> list[tuple[int, int, int]]:
    return [
        (h, m, s) for h in sorted(f.hours) for m in sorted(f.minutes) for s in sorted(f.seconds)
    ]


def instants_of_wall(wall: datetime, tz: tzinfo, wildcard: bool) -> list[datetime]:
    """The real instants a matching wall time fires at, under Vixie's DST rule.

    ``wildcard``: the minute or hour field begins with '*' (fires at real instants only: both
    passes of a repeated wall time, none for a skipped one). Fixed-time jobs fire a skipped wall
    time at the first instant after the gap, a repeated one at its first occurrence.
    """
    first = wall.replace(tzinfo=tz, fold=0)
    second = wall.replace(tzinfo=tz, fold=1)
    u0, u1 = first.astimezone(UTC), second.astimezone(UTC)
    exists = u0.astimezone(tz).replace(tzinfo=None) == wall
    if not exists and wildcard:  # a gap: nothing is made up for a wildcard job
        return []
    if not exists:  # a gap: fire at the first instant after it (the transition itself)
        lo, hi = min(u0, u1), max(u0, u1)
        while hi - lo > timedelta(seconds=1):
            mid = lo + (hi - lo) / 2
            mid = mid.replace(microsecond=0)
            if mid.astimezone(tz).replace(tzinfo=None) < wall:
                lo = mid
            else:
                hi = mid
        return [hi]
    if u0 == u1:
        return [u0]
    ordered = sorted([u0, u1])
    return ordered if wildcard else ordered[:1]


def next_fire(
    f: CronFields, tz: tzinfo, after: datetime, max_days: int = 40_000
) -> datetime | None:
    """First fire strictly after ``after`` by enumerating matching wall times day by day."""
    start_wall = after.astimezone(tz).replace(tzinfo=None) - timedelta(days=1)
    best: datetime | None = None
    day = start_wall.date()
    last_year = max(f.years) if f.years is not None else 9999
    for _ in range(max_days):
        if day.year > last_year:
            break
        if best is not None and datetime.combine(day, datetime.min.time()) > (
            best.astimezone(tz).replace(tzinfo=None) + timedelta(days=1)
        ):
            break
        if day_matches(f, day):
            for h, m, s in _times(f):
                wall = datetime(day.year, day.month, day.day, h, m, s)
                for inst in instants_of_wall(wall, tz, f.wildcard):
                    if inst > after and (best is None or inst < best):
                        best = inst
        day += timedelta(days=1)
    return best
