"""The load forecast: how many fires the stored triggers will make in each bucket of the
coming hours, computed from the triggers alone (nothing is written), the hot spots, and what
the ``H`` form would make of them.

Pure: the caller hands the active jobs as ``(job id, trigger spec as stored JSON text)``.
Most jobs share a few specs, so fires are computed once per distinct behaviour: specs that
differ only by their seed (the job id) and use neither ``H`` nor jitter are one group, and
cron triggers whose ``H`` items resolved to the same fields (and zone) are one group too.
100,000 jobs thus cost a few thousand fire searches (``bench/forecast.py``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tickwork.errors import InvalidInput, TriggerError
from tickwork.triggers import Trigger, from_spec
from tickwork.triggers.cron import CronTrigger
from tickwork.triggers.cron_parse import _field_template
from tickwork.triggers.common import tz_identity

MAX_BUCKETS = 7 * 24 * 60 + 1  # a week per minute (plus a partial bucket)
MAX_HOURS = 24 * 31
MAX_FIRES_PER_GROUP = 1_000_000  # a per-second cron over a week is 604,800
MAX_JOBS_SHOWN = 50  # per hot spot
MAX_CHANGES_SHOWN = 500
_SEED = re.compile(r',?\s*"seed":\s*"(?:[^"\\]|\\.)*"')
_EXPR = re.compile(r'"expr":\s*"([^"]*)"')
_FIELDS_5 = ("minute", "hour", "day-of-month", "month", "day-of-week")
_FIELDS_6 = ("second", *_FIELDS_5)
_STEP = re.compile(r"^(?:\*|0)/([0-9]+)$")
_MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}


@dataclass(frozen=True, slots=True)
class HotSpot:
    """A bucket with more fires than the threshold."""

    start_s: int
    fires: int
    on_the_hour: int  # fires at minute :00, second :00 (UTC-offset zones in whole hours)
    jobs: list[str]  # up to MAX_JOBS_SHOWN of the jobs firing in it, most fires first
    job_count: int


@dataclass(frozen=True, slots=True)
class Change:
    """A cron expression the H form would spread."""

    job_id: str
    expr: str
    suggested: str


@dataclass(frozen=True, slots=True)
class Suggestion:
    """Spread the hot spots' jobs with ``H``: the changes and the heat map they would give."""

    changes: list[Change]  # up to MAX_CHANGES_SHOWN
    change_count: int
    buckets: list[int]
    peak: int
    hot_spots: int  # buckets above the threshold after the change


@dataclass(frozen=True, slots=True)
class Forecast:
    start_s: int  # the window: [start_s, end_s)
    end_s: int
    bucket_s: int
    first_bucket_s: int  # buckets are aligned to the epoch; the first may begin before start
    buckets: list[int]
    fires: int
    jobs: int  # active jobs looked at
    threshold: int  # a bucket with more fires than this is a hot spot
    peak: int
    hot_spots: list[HotSpot]
    suggestion: Suggestion | None
    truncated: list[str] = field(default_factory=list)  # groups whose fires were capped
    unreadable: list[str] = field(default_factory=list)  # jobs whose trigger no longer parses


@dataclass(slots=True)
class _Group:
    trigger: Trigger
    jobs: list[str]
    fires: list[int] = field(default_factory=list)  # epoch seconds in the window


def check_window(hours: int, bucket_s: int) -> None:
    """Refuse a window or bucket size the forecast does not do, naming the field."""
    if isinstance(hours, bool) or not isinstance(hours, int) or not 1 <= hours <= MAX_HOURS:
        raise InvalidInput(
            "hours",
            f"must be a whole number of hours 1-{MAX_HOURS}",
            code="expected_integer_in_range",
            params={"min": 1, "max": MAX_HOURS},
        )
    if isinstance(bucket_s, bool) or not isinstance(bucket_s, int) or not 60 <= bucket_s <= 86_400:
        raise InvalidInput(
            "bucket_s",
            "must be 60-86400 seconds",
            code="expected_integer_in_range",
            params={"min": 60, "max": 86_400},
        )
    count = -(-hours * 3600 // bucket_s) + 1
    if count > MAX_BUCKETS:
        raise InvalidInput(
            "bucket_s",
            f"{hours} hours in buckets of {bucket_s} s make {count} buckets; the limit is "
            f"{MAX_BUCKETS} (a week per minute): use larger buckets",
            code="too_many_buckets",
            params={"count": count, "max": MAX_BUCKETS},
        )


def spread_expr(expr: str) -> str | None:
    """The cron string with its fixed minute spread by ``H`` (``0 2 * * *`` -> ``H 2 * * *``,
    ``*/15 * * * *`` -> ``H/15 * * * *``), or None when the minute is already spread or is
    not one value or step."""
    text = _MACROS.get(expr.strip().lower(), expr)
    parts = text.split()
    if len(parts) == 5:
        at = 0
    elif len(parts) in (6, 7):
        at = 1
    else:
        return None
    minute = parts[at]
    step = _STEP.match(minute)
    if minute.isdigit():
        parts[at] = "H"
    elif step is not None:
        parts[at] = f"H/{step.group(1)}"
    else:
        return None
    return " ".join(parts)


def _cut(text: str, key: str) -> tuple[int, int] | None:
    """Where the string value of ``"key": "..."`` lies in a stored spec (None: absent or
    escaped, which the slow path handles)."""
    at = text.find(f'"{key}": "')
    if at < 0:
        return None
    begin = at + len(key) + 5
    end = text.find('"', begin)
    if end < 0 or "\\" in text[begin:end]:
        return None
    return begin, end


def _seedless(text: str) -> str | None:
    """The stored spec without its seed when the seed changes nothing (no H, no jitter):
    jobs with equal seedless specs fire together. None when the seed matters (or may)."""
    if "jitter" in text or '"fields"' in text or "\\" in text:
        return None
    expr = _cut(text, "expr")
    if expr is not None and "h" in text[expr[0] : expr[1]].lower():
        return None
    seed = _cut(text, "seed")
    if seed is None:
        return text if '"seed"' not in text else None
    return text[: seed[0]] + text[seed[1] :]


def _h_key(spec: dict[str, Any]) -> object | None:
    """For a plain cron string with H: (expression, zone, the values its H items take for
    this job's seed), which decides its fires; None for any other spec."""
    expr = spec.get("expr")
    if not isinstance(expr, str) or set(spec) - {"kind", "expr", "tz", "seed"}:
        return None
    parts = expr.split()
    if len(parts) not in (5, 6, 7):
        return None
    names = _FIELDS_5 if len(parts) == 5 else _FIELDS_6
    seed = str(spec.get("seed") or "")
    resolved: list[object] = []
    for name, part in zip(names, parts, strict=False):
        if "H" in part.upper():
            for recipe in _field_template(name, part)[2]:
                resolved.append(recipe.resolve(seed))
    return (" ".join(parts), spec.get("tz"), tuple(resolved))


def _group_key(trigger: Trigger) -> object:
    if isinstance(trigger, CronTrigger) and not trigger.jitter:
        if trigger.start_us is None and trigger.end_us is None:
            return ("cron", trigger.fields, tz_identity(trigger.tz))
    return trigger


def _fires(trigger: Trigger, start_s: int, end_s: int) -> tuple[list[int], bool]:
    """Fire instants (epoch seconds) in [start_s, end_s), and whether they were capped."""
    out: list[int] = []
    nxt = trigger.next_fire_us
    t = nxt(start_s * 1_000_000 - 1)
    end_us = end_s * 1_000_000
    while t is not None and t < end_us:
        out.append(t // 1_000_000)
        if len(out) >= MAX_FIRES_PER_GROUP:
            return out, True
        t = nxt(t)
    return out, False


def _groups(
    rows: Iterable[tuple[str, str | dict[str, Any]]], unreadable: list[str]
) -> list[_Group]:
    by_text: dict[str, _Group] = {}  # seedless spec text -> its group
    by_h: dict[object, _Group] = {}  # H expression resolved for a seed -> its group
    by_key: dict[object, _Group] = {}  # what decides the fires -> the group
    for job_id, raw in rows:
        text = raw if isinstance(raw, str) else json.dumps(raw, sort_keys=True)
        seedless = _seedless(text)
        found = None if seedless is None else by_text.get(seedless)
        if found is not None:
            found.jobs.append(job_id)
            continue
        try:
            spec = json.loads(text) if isinstance(raw, str) else raw
            h_key = _h_key(spec) if seedless is None else None
            found = None if h_key is None else by_h.get(h_key)
            if found is not None:
                found.jobs.append(job_id)
                continue
            trigger = from_spec(spec)
        except (TriggerError, ValueError, TypeError):
            unreadable.append(job_id)
            continue
        key = _group_key(trigger)
        group = by_key.get(key)
        if group is None:
            group = by_key[key] = _Group(trigger, [])
        group.jobs.append(job_id)
        if seedless is not None:
            by_text[seedless] = group
        if h_key is not None:
            by_h[h_key] = group
    return list(by_key.values())


def _add(buckets: list[int], fires: Sequence[int], first: int, size: int, weight: int) -> None:
    for s in fires:
        buckets[(s - first) // size] += weight


def compute(
    rows: Iterable[tuple[str, str | dict[str, Any]]],
    *,
    now_s: int,
    hours: int = 24,
    bucket_s: int = 60,
    threshold: int | None = None,
) -> Forecast:
    """The forecast of ``rows`` (active jobs: id and stored trigger spec) for the ``hours``
    after ``now_s``, per ``bucket_s`` seconds. A bucket with more than ``threshold`` fires is
    a hot spot (default: 4 times the mean of the non-empty buckets, at least 10)."""
    check_window(hours, bucket_s)
    if threshold is not None and (isinstance(threshold, bool) or threshold < 1):
        raise InvalidInput(
            "hot", "must be a whole number of fires, 1 or more", code="expected_positive"
        )
    start, end = now_s, now_s + hours * 3600
    first = start - start % bucket_s
    count = -(-(end - first) // bucket_s)
    unreadable: list[str] = []
    groups = _groups(rows, unreadable)
    buckets = [0] * count
    truncated: list[str] = []
    for g in groups:
        g.fires, capped = _fires(g.trigger, start, end)
        if capped:
            truncated.append(g.jobs[0])
        _add(buckets, g.fires, first, bucket_s, len(g.jobs))
    total = sum(buckets)
    used = [b for b in buckets if b]
    if threshold is None:
        threshold = max(10, (4 * total) // len(used)) if used else 10
    hot_idx = [i for i, b in enumerate(buckets) if b > threshold]
    hot_spots = _hot_spots(groups, buckets, hot_idx, first, bucket_s)
    suggestion = _suggest(groups, buckets, hot_idx, first, bucket_s, start, end, threshold)
    return Forecast(
        start_s=start,
        end_s=end,
        bucket_s=bucket_s,
        first_bucket_s=first,
        buckets=buckets,
        fires=total,
        jobs=sum(len(g.jobs) for g in groups) + len(unreadable),
        threshold=threshold,
        peak=max(buckets, default=0),
        hot_spots=hot_spots,
        suggestion=suggestion,
        truncated=truncated,
        unreadable=unreadable[:MAX_JOBS_SHOWN],
    )


def _hot_spots(
    groups: list[_Group], buckets: list[int], hot_idx: list[int], first: int, size: int
) -> list[HotSpot]:
    if not hot_idx:
        return []
    wanted = set(hot_idx)
    # per hot bucket: (fires of a group, its jobs) and fires on the hour
    per: dict[int, list[tuple[int, _Group]]] = {i: [] for i in hot_idx}
    on_hour = dict.fromkeys(hot_idx, 0)
    for g in groups:
        hits: dict[int, int] = {}
        for s in g.fires:
            i = (s - first) // size
            if i in wanted:
                hits[i] = hits.get(i, 0) + 1
                if s % 3600 == 0:
                    on_hour[i] += len(g.jobs)
        for i, n in hits.items():
            per[i].append((n, g))
    out = []
    for i in sorted(hot_idx, key=lambda i: (-buckets[i], i))[:100]:
        ranked = sorted(per[i], key=lambda pair: -pair[0])
        jobs: list[str] = []
        for _, g in ranked:
            jobs.extend(g.jobs[: MAX_JOBS_SHOWN - len(jobs)])
            if len(jobs) >= MAX_JOBS_SHOWN:
                break
        out.append(
            HotSpot(
                start_s=first + i * size,
                fires=buckets[i],
                on_the_hour=on_hour[i],
                jobs=jobs,
                job_count=sum(len(g.jobs) for _, g in per[i]),
            )
        )
    return out


def _suggest(
    groups: list[_Group],
    buckets: list[int],
    hot_idx: list[int],
    first: int,
    size: int,
    start: int,
    end: int,
    threshold: int,
) -> Suggestion | None:
    """Move the cron jobs that fire in hot spots to the H form; the heat map that gives."""
    if not hot_idx:
        return None
    wanted = set(hot_idx)
    preview = list(buckets)
    changes: list[Change] = []
    spread: dict[object, _Group] = {}
    for g in groups:
        trig = g.trigger
        if not isinstance(trig, CronTrigger) or trig.expr is None:
            continue
        if not any((s - first) // size in wanted for s in g.fires):
            continue
        new_expr = spread_expr(trig.expr)
        if new_expr is None:
            continue
        spec = trig.to_spec()
        spec["expr"] = new_expr
        _add(preview, g.fires, first, size, -len(g.jobs))
        for job_id in g.jobs:
            spec["seed"] = job_id
            key = _h_key(spec) or ("job", job_id)
            target = spread.get(key)
            if target is None:
                try:
                    new = from_spec(spec)
                except TriggerError:  # e.g. a range H cannot take: keep the job as it is
                    _add(preview, g.fires, first, size, 1)
                    continue
                target = spread[key] = _Group(new, [])
                target.fires, _ = _fires(new, start, end)
            target.jobs.append(job_id)
            changes.append(Change(job_id, trig.expr, new_expr))
    if not changes:
        return None
    for g in spread.values():
        _add(preview, g.fires, first, size, len(g.jobs))
    return Suggestion(
        changes=changes[:MAX_CHANGES_SHOWN],
        change_count=len(changes),
        buckets=preview,
        peak=max(preview, default=0),
        hot_spots=sum(1 for b in preview if b > threshold),
    )
