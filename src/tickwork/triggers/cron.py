"""Cron triggers (strings and APScheduler keywords) and the one DST rule, Vixie cron's.

The search runs on the *wall axis* (local seconds counted like UTC seconds) inside a UTC-offset
segment of the zone, where wall = utc + offset exactly. Only at the end of a segment is the DST
rule needed. A *wildcard* job is one whose minute or hour field begins with ``*``
(``CronFields.wildcard``); every other job is *fixed-time*:

* gap (offset grows at ``T``): wall times in ``[T + old, T + new)`` do not exist. A fixed-time
  match there fires once, at ``T`` (the first instant after the gap); a wildcard job fires at
  real instants only, so its search goes on from ``T + new`` as if the gap's matches were not
  there (Vixie runs wildcard jobs for the current minute only after a jump forward);
* fold (offset shrinks at ``T``): wall times in ``[T + new, T + old)`` occur twice. A fixed-time
  job fires only at the first occurrence, so the search in the new segment starts at
  ``T + old``; a wildcard job fires at every real instant, so the search restarts at ``T + new``
  and the repeated wall times match again.

An ``after`` inside the second pass of a fold is handled the same way: the search for fixed-time
jobs starts no earlier than the end of the repeated stretch.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from datetime import UTC, datetime, tzinfo
from typing import Any

from tickwork.errors import TriggerError
from tickwork.triggers.base import Lang
from tickwork.triggers.common import (
    TriggerBase,
    check_lang,
    coerce_bounds,
    coerce_jitter,
    coerce_seed,
)
from tickwork.triggers.cron_parse import ParsedCron, parse_cron
from tickwork.triggers.jitter import next_jittered
from tickwork.triggers.schedule import MIN_WALL, CronFields, Schedule, compile_schedule
from tickwork.triggers.zones import (
    DAY,
    MAX_S,
    MIN_S,
    ZoneTable,
    fixed_offset,
    resolve_tz,
    zone_table,
)

# No fire exists at or after this second in any zone (fires end at MAX_WALL, 9999-12-28).
LAST_S = MAX_S - DAY

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MONTHS_EN = (
    "",
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


class CronTrigger(TriggerBase):
    """A cron schedule from a cron string or from APScheduler-style keywords."""

    kind = "cron"
    __slots__ = ("_expr", "_keywords", "_plain", "_runner", "_sched", "_uses_h")

    _expr: str | None
    _keywords: tuple[tuple[str, str], ...] | None
    _uses_h: bool
    _sched: Schedule
    _runner: Callable[[int], int | None]
    _plain: bool  # no jitter and no start/end dates: the fastest path applies

    def __init__(
        self,
        fields: CronFields,
        *,
        tz: tzinfo,
        expr: str | None = None,
        parsed: ParsedCron | None = None,
        keywords: tuple[tuple[str, str], ...] | None = None,
        uses_h: bool = False,
        seed: str | None = None,
        jitter: float | None = None,
        start_us: int | None = None,
        end_us: int | None = None,
        never_field: str = "expression",
    ) -> None:
        sched = compile_schedule(fields)
        if not sched.fires_somewhere():
            why, code, params = never_fires(fields, parsed)
            raise TriggerError(never_field, f"never fires ({why})", code=code, params=params)
        setter = object.__setattr__
        setter(self, "_expr", expr)
        setter(self, "_keywords", keywords)
        # The schedule's own fields are the canonical (shared) copy: a million triggers with
        # the same expression hold one CronFields between them.
        setter(self, "_sched", sched)
        setter(self, "_uses_h", uses_h)
        fixed = fixed_offset(tz)
        zone = None if fixed is not None else zone_table(tz)
        setter(self, "_runner", runner_for(sched, fixed, zone))
        setter(self, "_plain", not jitter and start_us is None and end_us is None)
        self._init_common(
            tz=tz,
            seed=seed,
            jitter=jitter,
            start_us=start_us,
            end_us=end_us,
            ident=(expr, keywords),
        )

    # -- the hot path ---------------------------------------------------------------------------

    def next_fire_us(self, after_us: int) -> int | None:
        if self._plain:
            u = self._runner(after_us // 1_000_000)
            return None if u is None else u * 1_000_000
        if self._jitter_us:
            return next_jittered(
                self._next_base_us, after_us, self._jitter_us, self._seed or "", self._end_us
            )
        return self._next_base_us(after_us)

    def _next_base_us(self, after_us: int) -> int | None:
        start = self._start_us
        if start is not None and after_us < start:
            after_us = start - 1
        u = self._runner(after_us // 1_000_000)
        if u is None:
            return None
        res = u * 1_000_000
        end = self._end_us
        return res if end is None or res <= end else None

    def next_fire_after(self, after: datetime) -> datetime | None:
        if not self._plain:
            return super().next_fire_after(after)
        try:
            delta = after - _EPOCH
        except TypeError:
            raise TriggerError(
                "after", "must be an aware datetime (with a time zone)", code="naive_datetime"
            ) from None
        # The whole second holding ``after``: timedelta keeps seconds in [0, 86400).
        u = self._runner(delta.days * 86_400 + delta.seconds)
        return None if u is None else datetime.fromtimestamp(u, self._tz)

    # -- the rest of the contract ---------------------------------------------------------------

    @property
    def expr(self) -> str | None:
        """The cron string (None for the keyword form)."""
        return self._expr

    @property
    def keywords(self) -> dict[str, str] | None:
        """The given APScheduler keywords (None for a cron string)."""
        return None if self._keywords is None else dict(self._keywords)

    @property
    def fields(self) -> CronFields:
        return self._sched.fields

    @property
    def uses_h(self) -> bool:
        """Whether an ``H`` item spread the schedule by the seed."""
        return self._uses_h

    def describe(self, lang: Lang = "en") -> str:
        from tickwork.triggers.describe import describe_cron

        return describe_cron(self, check_lang(lang))

    def __str__(self) -> str:
        """APScheduler 3's form for keywords (``cron[hour='2', minute='0']``: the given fields
        in its order); ``cron[expr='0 2 * * *', tz='Asia/Shanghai']`` for a cron string."""
        if self._expr is not None:
            return f"cron[expr={self._expr!r}, tz={self._tz_text()!r}]"
        from tickwork.triggers.keywords import FIELD_ORDER, apscheduler_field_text

        given = dict(self._keywords or ())
        shown = [f"{n}='{apscheduler_field_text(n, given[n])}'" for n in FIELD_ORDER if n in given]
        return f"cron[{', '.join(shown)}]"

    def to_spec(self) -> dict[str, Any]:
        spec: dict[str, Any] = {"kind": "cron"}
        if self._expr is not None:
            spec["expr"] = self._expr
        else:
            spec["fields"] = dict(self._keywords or ())
        return self._common_spec(spec)


def runner_for(
    sched: Schedule, fixed: int | None, zone: ZoneTable | None
) -> Callable[[int], int | None]:
    """The search "first fire (UTC second) strictly after second s" for a schedule in a zone.

    Built once per (schedule, zone) and shared; a closure because locals are far cheaper than
    attribute lookups on this path.
    """
    key = (fixed, zone)
    runner = sched.runners.get(key)
    if runner is None:
        runner = _make_runner(sched, fixed, zone)
        sched.runners[key] = runner
    return runner


def _make_runner(
    sched: Schedule, fixed: int | None, zone: ZoneTable | None
) -> Callable[[int], int | None]:
    next_wall = sched.next_wall
    if fixed is not None:
        # No transitions: the wall axis is the UTC axis, shifted.
        def next_second_fixed(s: int) -> int | None:
            w = next_wall(s + 1 + fixed)
            return None if w is None else w - fixed

        return next_second_fixed

    assert zone is not None
    table = zone
    wild = sched.fields.wildcard
    # The segment of the previous call: (start, end, offset, wall floor). Offsets change twice a
    # year, so most calls skip the table lookup. A segment is a fact about the zone, not about
    # any instant, and a stale read from another thread is still a correct segment.
    memo = [(1, 0, 0, 0)]

    def segment(s: int) -> tuple[int, int, int, int]:
        if s < MIN_S:  # before year 1: start the search at the table's first segment
            seg = (-(1 << 62), MIN_S, table.offset_at(MIN_S), MIN_WALL)
            memo[0] = seg
            return seg
        if s >= LAST_S:  # past every possible fire (see MAX_WALL)
            return (LAST_S, 1 << 62, 0, MIN_WALL)
        lo, guard, trans, offs = table.state
        if not lo <= s < guard:
            lo, guard, trans, offs = table.cover(s)
        i = bisect_right(trans, s)  # segment i holds s: trans[i-1] <= s < trans[i]
        off = offs[i]
        prev = offs[i - 1]
        # After a fold, a fixed-time job's repeated wall times already fired in the first
        # pass: its search in this segment starts no earlier than the end of the repetition.
        floor = trans[i - 1] + prev if not wild and prev > off else MIN_WALL
        seg = (trans[i - 1], trans[i], off, floor)
        memo[0] = seg
        return seg

    def next_second(s: int) -> int | None:
        start, end, off, floor = memo[0]
        if not start <= s < end:
            start, end, off, floor = segment(s)
        wall_lo = s + 1 + off
        if wall_lo < floor:  # noqa: PLR1730 (max() is a call; this is the hot path)
            wall_lo = floor
        w = next_wall(wall_lo)
        if w is not None and w - off < end:
            return w - off
        return cross(w, off, end)

    def cross(w: int | None, off: int, end: int) -> int | None:
        """The candidate is past the segment ending at ``end``: hand over segment by segment."""
        if end >= LAST_S:
            return None
        if w is not None and w - off > end + 2 * DAY:
            # A distant candidate (a yearly or year-limited schedule): w is the first matching
            # wall time after ``s``, so no gap or fold before it holds a match and none of
            # those changes can fire. Jump to the segment a day before it instead of walking
            # every change in between.
            _, _, trans, offs = table.cover(w - off)
            k = bisect_right(trans, w - off - DAY)
            off, end = offs[k], trans[k]
            if w - off < end:
                return w - off
        while True:
            _, _, trans, offs = table.cover(end)
            j = bisect_right(trans, end)
            new_off = offs[j]
            if new_off > off:  # gap: the wall times in [end + off, end + new_off) do not exist
                if w is None:
                    return None
                if w < end + new_off:
                    if not wild:  # fixed-time: once, at the first instant after the gap
                        return end
                    # wildcard: real instants only, nothing made up for the skipped wall times
                    w = next_wall(end + new_off)
                    if w is None:
                        return None
            elif new_off < off and wild:  # fold, wildcard job: the repeated wall times fire too
                w = next_wall(end + new_off)
                if w is None:
                    return None
            elif w is None:
                return None
            off = new_off
            end = trans[j]
            if w - off < end:
                return w - off

    return next_second


def never_fires_reason(fields: CronFields, parsed: ParsedCron | None) -> str:
    """Why no day ever matches, as specific as the simple cases allow."""
    return never_fires(fields, parsed)[0]


def never_fires(
    fields: CronFields, parsed: ParsedCron | None
) -> tuple[str, str, dict[str, object]]:
    """Why no day ever matches: the English text, a code and its params (``Feb 30``:
    ``never_fires_days``, ``{"days": [30], "months": [2]}``)."""
    simple = (
        fields.dow_full
        and not fields.dow_items
        and not fields.dom_items
        and fields.years is None
        and fields.weeks is None
        and not fields.day_or
        and fields.dom
    )
    if simple:
        days = sorted(fields.dom)
        day_text = " and ".join([", ".join(map(str, days[:-1])), str(days[-1])][-2:])
        if len(days) == 1:
            day_text = str(days[0])
        months = " or ".join(_MONTHS_EN[m] for m in sorted(fields.months))
        verb = "does" if len(days) == 1 else "do"
        text = f"day-of-month {day_text} {verb} not occur in {months}"
        return text, "never_fires_days", {"days": days, "months": sorted(fields.months)}
    if parsed is not None:
        texts = parsed.texts
        base = 0 if len(texts) == 5 else 1
        named = [
            ("day-of-month", texts[base + 2]),
            ("month", texts[base + 3]),
            ("day-of-week", texts[base + 4]),
        ]
        if len(texts) == 7:
            named.append(("year", texts[6]))
        given = [(name, text) for name, text in named if text not in ("*", "?")]
        shown = [f"{name} {text!r}" for name, text in given]
        return (
            "no date matches " + ", ".join(shown),
            "never_fires_fields",
            {"fields": [{"field": name, "text": text} for name, text in given]},
        )
    return "no date matches the day fields together", "never_fires", {}


def cron(
    expr: str,
    tz: str | tzinfo = "UTC",
    seed: str | None = None,
    *,
    start_date: object = None,
    end_date: object = None,
    jitter: float | None = None,
) -> CronTrigger:
    """A trigger from a cron string (5, 6 or 7 fields, macros, extensions; see docs/cron.md)."""
    zone = resolve_tz(tz)
    seed = coerce_seed(seed)
    parsed = parse_cron(expr, seed)
    start_us, end_us = coerce_bounds(start_date, end_date, zone)
    return CronTrigger(
        parsed.fields,
        tz=zone,
        expr=" ".join(expr.split()),
        parsed=parsed,
        uses_h=parsed.uses_h,
        seed=seed,
        jitter=coerce_jitter(jitter),
        start_us=start_us,
        end_us=end_us,
    )
