"""The cron calendar on a naive wall-clock axis: which wall seconds match, fast.

Both cron forms (strings and APScheduler keywords) parse into one ``CronFields`` value; a
``Schedule`` compiled from it answers "first matching wall second >= w", where wall seconds are
counted like UTC epoch seconds (day number = w // 86400). Time zones are not handled here; see
``cron.py`` for how wall seconds are mapped to real instants.

Speed comes from: per-field "next allowed value" tables for the time of day; for the days, a
256-bit mask of matching days per 256-day block (plus the first match after the block), computed
once and cached, so "next matching day" is a dict lookup and a few integer operations; and a fast
path when every day matches. Day plans and schedules are interned: a million jobs with a few
distinct day specs share a few day plans (``H`` usually varies only the time of day).
"""

from __future__ import annotations

import calendar
import threading
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from tickwork.triggers.zones import DAY

# (kind, a, b). Kinds: "last" (a days before the last day), "nearest" (weekday nearest day a),
# "lastweekday" (last Monday-Friday of the month), "nth" (a-th... see below), "lastdow".
# For "nth": a = weekday (0 = Monday), b = n (1..5). For "lastdow": a = weekday.
DayItem = tuple[str, int, int]

ALL_SECONDS = frozenset(range(60))
ALL_HOURS = frozenset(range(24))
ALL_DOM = frozenset(range(1, 32))
ALL_MONTHS = frozenset(range(1, 13))
ALL_DOW = frozenset(range(7))

_ORD_EPOCH = 719_163  # date(1970, 1, 1).toordinal()
MIN_WALL = (date(1, 1, 3).toordinal() - _ORD_EPOCH) * DAY
# The last wall second a schedule may fire at: late enough for anyone, early enough that the
# instant stays inside datetime's range (and inside zone tables) in every zone.
MAX_WALL = (date(9999, 12, 28).toordinal() - _ORD_EPOCH) * DAY + DAY - 1
MAX_YEAR = 9999
_BLOCK_BITS = 8  # days are cached in blocks of 256
_BLOCK_MASK = (1 << _BLOCK_BITS) - 1


@dataclass(frozen=True, slots=True)
class CronFields:
    """A parsed cron schedule, independent of the syntax it came from."""

    seconds: frozenset[int]
    minutes: frozenset[int]
    hours: frozenset[int]
    dom: frozenset[int]  # plain days of month 1..31
    dom_items: tuple[DayItem, ...]
    months: frozenset[int]
    dow: frozenset[int]  # plain weekdays, 0 = Monday (Python numbering, whatever the syntax)
    dow_items: tuple[DayItem, ...]
    years: frozenset[int] | None  # None: every year
    weeks: frozenset[int] | None  # ISO weeks (keyword form only); None: every week
    day_or: bool  # Vixie: a day matches if day-of-month OR day-of-week matches
    # Vixie's wildcard job: the minute or hour field begins with '*'. Across DST it fires at
    # real instants only (both passes of a fold, nothing for a gap's skipped wall times).
    wildcard: bool

    @property
    def dom_full(self) -> bool:
        return self.dom >= ALL_DOM

    @property
    def dow_full(self) -> bool:
        return self.dow >= ALL_DOW

    @property
    def day_key(self) -> tuple[object, ...]:
        """What the matching days depend on (the time-of-day fields do not matter)."""
        return (
            self.dom,
            self.dom_items,
            self.months,
            self.dow,
            self.dow_items,
            self.years,
            self.weeks,
            self.day_or,
        )

    @property
    def every_day(self) -> bool:
        """True when every calendar day matches (the fast path)."""
        if self.months != ALL_MONTHS or self.years is not None or self.weeks is not None:
            return False
        if self.day_or:
            return self.dom_full or self.dow_full
        return self.dom_full and self.dow_full


@lru_cache(maxsize=4096)  # a million jobs share a few thousand minute and hour sets
def _next_table(allowed: frozenset[int], size: int) -> tuple[int, ...]:
    """t[v] = smallest allowed value >= v, or ``size`` when there is none (t has size+2 slots)."""
    out = [size] * (size + 2)
    nxt = size
    for v in range(size - 1, -1, -1):
        if v in allowed:
            nxt = v
        out[v] = nxt
    return tuple(out)


def _nearest_weekday(day: int, wd: int, ndays: int) -> int:
    """Quartz ``nW``: the Monday-Friday nearest to ``day``, never leaving the month."""
    if wd == 5:  # Saturday
        return day + 2 if day == 1 else day - 1
    if wd == 6:  # Sunday
        return day - 2 if day == ndays else day + 1
    return day


def item_mask(item: DayItem, first_wd: int, ndays: int) -> int:
    """Bit (d - 1) set for each day d of a month (first weekday, length) the item selects."""
    kind, a, b = item
    if kind == "last":
        d = ndays - a
        return 1 << (d - 1) if d >= 1 else 0
    if kind == "nearest":
        if a > ndays:  # no such day this month, so no weekday nearest to it
            return 0
        d = _nearest_weekday(a, (first_wd + a - 1) % 7, ndays)
        return 1 << (d - 1)
    if kind == "lastweekday":
        d = _nearest_weekday(ndays, (first_wd + ndays - 1) % 7, ndays)
        return 1 << (d - 1)
    if kind == "nth":
        d = (a - first_wd) % 7 + 1 + 7 * (b - 1)
        return 1 << (d - 1) if d <= ndays else 0
    if kind == "lastdow":
        d = (a - first_wd) % 7 + 1
        d += 7 * ((ndays - d) // 7)
        return 1 << (d - 1)
    raise AssertionError(kind)


class DayPlan:
    """Which calendar days match: ``next_day(d)`` is the first matching day number >= d."""

    __slots__ = (
        "_blocks",
        "_dom_bits",
        "_dow_patterns",
        "_lock",
        "_month_cache",
        "_month_next",
        "_valid",
        "_years_sorted",
        "fields",
        "next_day",
    )

    def __init__(self, fields: CronFields) -> None:
        self.fields = fields
        self._dom_bits = sum(1 << (d - 1) for d in fields.dom)
        # For each weekday of the 1st of a month, the days whose weekday is in ``dow``.
        self._dow_patterns = tuple(
            sum(1 << (d - 1) for d in range(1, 32) if (first + d - 1) % 7 in fields.dow)
            for first in range(7)
        )
        self._month_next = tuple(
            next((m for m in range(v, 13) if m in fields.months), 13) for v in range(14)
        )
        self._years_sorted = tuple(sorted(fields.years)) if fields.years is not None else None
        self._month_cache: dict[int, int] = {}
        # block number -> (mask of matching days in the block, first match after the block).
        # Entries are immutable tuples, so a racing reader always sees a correct one.
        self._blocks: dict[int, tuple[int, int | None]] = {}
        self._lock = threading.Lock()
        self._valid: bool | None = None
        self.next_day = self._make_next_day()

    def month_mask(self, year: int, month: int) -> int:
        """Bit (d - 1) set for each matching day d of the month."""
        key = year * 12 + month
        hit = self._month_cache.get(key)
        if hit is not None:
            return hit
        f = self.fields
        if month not in f.months or (f.years is not None and year not in f.years):
            mask = 0
        else:
            first_wd, ndays = calendar.monthrange(year, month)
            dom = self._dom_bits
            for item in f.dom_items:
                dom |= item_mask(item, first_wd, ndays)
            dow = self._dow_patterns[first_wd]
            for item in f.dow_items:
                dow |= item_mask(item, first_wd, ndays)
            mask = ((dom | dow) if f.day_or else (dom & dow)) & ((1 << ndays) - 1)
            if f.weeks is not None and mask:
                weeks = f.weeks
                for d in range(1, ndays + 1):
                    if date(year, month, d).isocalendar()[1] not in weeks:
                        mask &= ~(1 << (d - 1))
        if len(self._month_cache) >= 4096:  # bounded: a long-running process moves on
            self._month_cache = {}
        self._month_cache[key] = mask
        return mask

    def _make_next_day(self) -> Callable[[int], int | None]:
        """next_day(d): first matching day number >= d (days since 1970-01-01), or None."""
        blocks_get = self._blocks.get  # the dict is only ever cleared, never replaced
        block = self._block

        def next_day(d: int) -> int | None:
            entry = blocks_get(d >> _BLOCK_BITS)
            if entry is None:
                entry = block(d >> _BLOCK_BITS)
            rest = entry[0] >> (d & _BLOCK_MASK)
            if rest:
                return d + (rest & -rest).bit_length() - 1
            return entry[1]

        return next_day

    def _block(self, b: int) -> tuple[int, int | None]:
        first = b << _BLOCK_BITS
        last = first + _BLOCK_MASK
        mask = 0
        day = date.fromordinal(max(first, MIN_WALL // DAY) + _ORD_EPOCH)
        year, month = day.year, day.month
        while year <= MAX_YEAR:
            start = date(year, month, 1).toordinal() - _ORD_EPOCH
            if start > last:
                break
            mm = self.month_mask(year, month)
            if mm:
                mask |= mm << (start - first) if start >= first else mm >> (first - start)
            month += 1
            if month > 12:
                year, month = year + 1, 1
        mask &= (1 << (_BLOCK_MASK + 1)) - 1
        # The first match after the block, scanning from the month that holds its next day.
        after = date.fromordinal(min(last + 1, MAX_WALL // DAY) + _ORD_EPOCH)
        entry = (mask, self._scan(after.year, after.month, last + 1))
        with self._lock:
            if len(self._blocks) >= 512:  # bounded, like the month cache
                self._blocks.clear()
            self._blocks[b] = entry
        return entry

    def _scan(self, year: int, month: int, from_day: int) -> int | None:
        """First matching day >= from_day, scanning months from (year, month) on."""
        month_next = self._month_next
        years = self._years_sorted
        year_set = self.fields.years or frozenset()
        while True:
            month = month_next[month]
            if month > 12:
                year += 1
                month = month_next[1]
            if years is not None and year not in year_set:
                i = bisect_left(years, year)
                if i == len(years):
                    return None
                year, month = years[i], month_next[1]
            if year > MAX_YEAR:
                return None
            mask = self.month_mask(year, month)
            if mask:
                start = date(year, month, 1).toordinal() - _ORD_EPOCH
                if start < from_day:
                    mask >>= from_day - start
                    start = from_day
                if mask:
                    return start + (mask & -mask).bit_length() - 1
            month += 1

    # -- validation ---------------------------------------------------------------------------

    def fires_somewhere(self) -> bool:
        """Whether any calendar day ever matches; cheap proofs first, exhaustive search last."""
        if self._valid is None:
            self._valid = self._fires_somewhere()
        return self._valid

    def _fires_somewhere(self) -> bool:
        f = self.fields
        if f.every_day:
            return True
        if f.years is None and f.weeks is None and self._cheap_proof():
            return True
        # Exhaustive: a year's matching days depend only on its type (leap, weekday of Jan 1,
        # and for ISO weeks whether the previous year was leap). Check one year of each type.
        if f.years is None:
            candidates: list[int] = list(range(2000, 2029))  # 28+1 years hold every type
        else:
            candidates = sorted(f.years)
        seen: set[tuple[bool, int, bool]] = set()
        for year in candidates:
            kind = (calendar.isleap(year), date(year, 1, 1).weekday(), calendar.isleap(year - 1))
            if kind in seen:
                continue
            seen.add(kind)
            if any(self.month_mask(year, m) for m in f.months):
                return True
        return False

    def _cheap_proof(self) -> bool:
        """A fire exists when every allowed month surely has a matching day (no year/week)."""
        f = self.fields
        longest = max(_MAX_DAYS[m] for m in f.months)
        dom_sure = any(d <= longest for d in f.dom) or any(
            _always(item, longest) for item in f.dom_items
        )
        dow_sure = bool(f.dow) or any(_always(item, longest) for item in f.dow_items)
        if f.day_or:
            return dom_sure or dow_sure
        if f.dow_full:
            return dom_sure
        if f.dom_full:
            return dow_sure
        return False


class Schedule:
    """Compiled ``CronFields``: ``next_wall(w)`` is the first matching wall second >= ``w``."""

    __slots__ = (
        "_first_ms",
        "_first_tod",
        "_h",
        "_m",
        "_s",
        "days",
        "every_day",
        "fields",
        "next_wall",
        "runners",
    )

    def __init__(self, fields: CronFields) -> None:
        self.fields = fields
        self._h = _next_table(fields.hours, 24)
        self._m = _next_table(fields.minutes, 60)
        self._s = _next_table(fields.seconds, 60)
        self._first_ms = self._m[0] * 60 + self._s[0]
        self._first_tod = self._h[0] * 3600 + self._first_ms
        self.every_day = fields.every_day
        self.days = day_plan(fields)
        # next_wall(w): first matching wall second >= w, or None (past 9999 or the last year).
        self.next_wall: Callable[[int], int | None] = _make_next_wall(self)
        # Zone-specific search functions built from this schedule (see cron.py), shared by
        # every trigger with the same expression and zone.
        self.runners: dict[object, Callable[[int], int | None]] = {}

    def fires_somewhere(self) -> bool:
        return self.days.fires_somewhere()


def _make_next_wall(sched: Schedule) -> Callable[[int], int | None]:
    """The wall-second search as a closure: locals are much cheaper than attribute lookups."""
    hs, ms, ss = sched._h, sched._m, sched._s
    s0 = ss[0]
    first_ms = sched._first_ms
    first_tod = sched._first_tod
    next_day = sched.days.next_day

    def time_of_day(t: int) -> int:
        """First allowed second of the day >= t, or -1."""
        h, r = divmod(t, 3600)
        nh = hs[h]
        if nh == h:
            m, s = divmod(r, 60)
            nm = ms[m]
            if nm == m:
                ns = ss[s]
                if ns < 60:
                    return t - s + ns
                nm = ms[m + 1]
            if nm < 60:
                return h * 3600 + nm * 60 + s0
            nh = hs[h + 1]
        if nh < 24:
            return nh * 3600 + first_ms
        return -1

    if sched.every_day:

        def next_wall_every_day(w: int) -> int | None:
            # time_of_day() inlined: this is the hottest path of the whole scheduler.
            if w < MIN_WALL:  # before 0001-01-03: start there (datetime's range)
                return next_wall_every_day(MIN_WALL)
            t = w % DAY
            h, r = divmod(t, 3600)
            nh = hs[h]
            if nh == h:
                m, s = divmod(r, 60)
                nm = ms[m]
                if nm == m:
                    ns = ss[s]
                    if ns < 60:
                        return w + ns - s if w + ns - s <= MAX_WALL else None
                    nm = ms[m + 1]
                if nm < 60:
                    res = w - t + h * 3600 + nm * 60 + s0
                    return res if res <= MAX_WALL else None
                nh = hs[h + 1]
            res = w - t + (nh * 3600 + first_ms if nh < 24 else DAY + first_tod)
            return res if res <= MAX_WALL else None

        return next_wall_every_day

    def next_wall(w: int) -> int | None:
        if w < MIN_WALL:
            return next_wall(MIN_WALL)
        if w > MAX_WALL:
            return None
        d, t = divmod(w, DAY)
        nd = next_day(d)
        if nd is None:
            return None
        if nd == d:
            nt = time_of_day(t)
            if nt >= 0:
                return w - t + nt
            nd = next_day(d + 1)
            if nd is None:
                return None
        res = nd * DAY + first_tod
        return res if res <= MAX_WALL else None

    return next_wall


_MAX_DAYS = (0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _always(item: DayItem, longest: int) -> bool:
    """Whether the item selects a day in some month of the allowed (longest) length."""
    kind, a, b = item
    if kind == "last":
        return a < longest
    if kind == "nearest":
        return a <= longest
    if kind == "nth":
        return b <= 4
    return True


_SCHEDULES: dict[CronFields, Schedule] = {}
_DAY_PLANS: dict[tuple[object, ...], DayPlan] = {}
_SCHEDULES_LOCK = threading.Lock()


def day_plan(fields: CronFields) -> DayPlan:
    """The shared day plan of ``fields`` (interned by the day fields only; bounded)."""
    key = fields.day_key
    plan = _DAY_PLANS.get(key)
    if plan is None:
        plan = DayPlan(fields)
        with _SCHEDULES_LOCK:
            if len(_DAY_PLANS) >= 16_384:
                _DAY_PLANS.clear()
            plan = _DAY_PLANS.setdefault(key, plan)
    return plan


def compile_schedule(fields: CronFields) -> Schedule:
    """The shared compiled schedule of ``fields`` (interned; bounded)."""
    sched = _SCHEDULES.get(fields)
    if sched is None:
        sched = Schedule(fields)
        with _SCHEDULES_LOCK:
            if len(_SCHEDULES) >= 65_536:
                _SCHEDULES.clear()
            sched = _SCHEDULES.setdefault(fields, sched)
    return sched
