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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from hashlib import blake2b
from typing import Any

from tickwork.errors import InvalidInput, TriggerError
from tickwork.triggers import Trigger, from_spec
from tickwork.triggers.common import tz_identity
from tickwork.triggers.cron import CronTrigger
from tickwork.triggers.cron_parse import HashRecipe, _field_template

MAX_BUCKETS = 7 * 24 * 60 + 1  # a week per minute (plus a partial bucket)
MAX_HOURS = 24 * 31
MAX_FIRES_PER_GROUP = 1_000_000  # a per-second cron over a week is 604,800
MAX_JOBS_SHOWN = 50  # per hot spot
MAX_CHANGES_SHOWN = 500
_FIELDS_5 = ("minute", "hour", "day-of-month", "month", "day-of-week")
_FIELDS_6 = ("second", *_FIELDS_5)
_STEP = re.compile(r"^(?:\*|0)/([0-9]+)\Z")
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
    idx: list[int] = field(default_factory=list)  # the bucket of each fire


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


def _recipes(expr: str) -> tuple[HashRecipe, ...]:
    """The H items of a cron string, in the order the parser resolves them."""
    parts = expr.split()
    if len(parts) not in (5, 6, 7) or parts[0].startswith("@"):
        return ()
    names = _FIELDS_5 if len(parts) == 5 else _FIELDS_6
    out: list[HashRecipe] = []
    for name, part in zip(names, parts, strict=False):
        if "H" in part.upper():
            out.extend(_field_template(name, part)[2])
    return tuple(out)


def _resolver(recipes: tuple[HashRecipe, ...]) -> Callable[[str], tuple[int, ...]]:
    """``seed -> (recipe.resolve(seed).start, ...)`` (what decides each H item: its range's
    end and step are the recipe's), with the hash's fixed parts joined once: 100,000 jobs
    spread with H are resolved in one pass (tests/forecast compares it with
    ``HashRecipe.resolve``)."""
    parts = []
    for r in recipes:
        tail = f"\x1f{r.field}\x1f{r.index}\x1f{r.item}".encode("utf-8", "surrogatepass")
        span = r.hi - r.lo + 1
        parts.append((tail, r.lo, min(r.step, span) if r.step else span))
    if len(parts) == 1:
        ((tail, lo, modulus),) = parts

        def one(seed: str) -> tuple[int, ...]:
            digest = blake2b(("H\x1f" + seed).encode("utf-8", "surrogatepass") + tail,
                             digest_size=8).digest()  # fmt: skip
            return (lo + int.from_bytes(digest, "big") % modulus,)

        return one

    def resolve(seed: str) -> tuple[int, ...]:
        head = ("H\x1f" + seed).encode("utf-8", "surrogatepass")
        return tuple(
            lo + int.from_bytes(blake2b(head + tail, digest_size=8).digest(), "big") % modulus
            for tail, lo, modulus in parts
        )

    return resolve


@dataclass(slots=True)
class _Shape:
    """What a stored spec without its seed says about its jobs' fires."""

    group: _Group | None = None  # the seed changes nothing: all of them fire together
    spec: dict[str, Any] | None = None  # H: fires depend on the seed through recipes only
    resolve: Callable[[str], tuple[int, ...]] | None = None


def _group_key(trigger: Trigger) -> object:
    if (
        isinstance(trigger, CronTrigger)
        and not trigger.jitter
        and trigger.start_us is None
        and trigger.end_us is None
    ):
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
    shapes: dict[str, _Shape] = {}  # stored spec without the seed -> its shape
    by_h: dict[tuple[str, tuple[int, ...]], _Group] = {}  # shape + resolved H -> group
    by_key: dict[object, _Group] = {}  # what decides the fires -> the group

    def group_of(trigger: Trigger) -> _Group:
        key = _group_key(trigger)
        group = by_key.get(key)
        if group is None:
            group = by_key[key] = _Group(trigger, [])
        return group

    for job_id, raw in rows:
        text = raw if isinstance(raw, str) else json.dumps(raw)
        # The seed is the job id (tickwork.jobspec): without it, most specs are equal.
        seedless = text.replace(f'"seed": "{job_id}"', "", 1)
        shape = shapes.get(seedless) if len(seedless) < len(text) else None
        try:
            if shape is None and len(seedless) < len(text):
                shape = shapes[seedless] = _shape_of(json.loads(text), group_of)
            if shape is not None and shape.group is not None:
                shape.group.jobs.append(job_id)
                continue
            if shape is not None and shape.resolve is not None and shape.spec is not None:
                key = (seedless, shape.resolve(job_id))
                group = by_h.get(key)
                if group is None:
                    group = by_h[key] = group_of(from_spec({**shape.spec, "seed": job_id}))
                group.jobs.append(job_id)
                continue
            spec = json.loads(text) if isinstance(raw, str) else raw
            group_of(from_spec(spec)).jobs.append(job_id)
        except (TriggerError, ValueError, TypeError):
            unreadable.append(job_id)
    return list(by_key.values())


def _shape_of(spec: dict[str, Any], group_of: Callable[[Trigger], _Group]) -> _Shape:
    """Looked at once per distinct spec (less its seed)."""
    if not isinstance(spec, dict) or spec.get("jitter") or "fields" in spec:
        return _Shape()  # the seed may matter in ways only the trigger knows: job by job
    expr = spec.get("expr")
    recipes = _recipes(expr) if isinstance(expr, str) else ()
    if not recipes:
        return _Shape(group=group_of(from_spec(spec)))
    from_spec(spec)  # refuse a spec that does not parse before sharing its shape
    return _Shape(spec=spec, resolve=_resolver(recipes))


def _index(fires: Sequence[int], first: int, size: int) -> list[int]:
    return [(s - first) // size for s in fires]


def _add(buckets: list[int], idx: Sequence[int], weight: int) -> None:
    for i in idx:
        buckets[i] += weight


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
    a hot spot (default: 4 times the mean bucket, at least 10)."""
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
        g.idx = _index(g.fires, first, bucket_s)
        if capped:
            truncated.append(g.jobs[0])
        _add(buckets, g.idx, len(g.jobs))
    total = sum(buckets)
    if threshold is None:
        threshold = max(10, -(-4 * total // len(buckets)))
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
        if wanted.isdisjoint(g.idx):
            continue
        hits: dict[int, int] = {}
        for s, i in zip(g.fires, g.idx, strict=True):
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
    count = 0
    spread: dict[tuple[str, str, tuple[int, ...]], _Group] = {}
    for g in groups:
        trig = g.trigger
        if not isinstance(trig, CronTrigger) or trig.expr is None:
            continue
        if wanted.isdisjoint(g.idx):
            continue
        new_expr = spread_expr(trig.expr)
        if new_expr is None:
            continue
        spec = trig.to_spec()
        spec["expr"] = new_expr
        try:
            resolve = _resolver(_recipes(new_expr))
            from_spec(spec)
        except TriggerError:  # e.g. a range H cannot take: keep these jobs as they are
            continue
        base = json.dumps({k: v for k, v in spec.items() if k != "seed"}, sort_keys=True)
        _add(preview, g.idx, -len(g.jobs))
        for job_id in g.jobs:
            resolved = resolve(job_id)
            key = (base, job_id if spec.get("jitter") else "", resolved)
            target = spread.get(key)
            if target is None:
                new = from_spec({**spec, "seed": job_id})
                target = spread[key] = _Group(new, [])
                target.fires, _ = _fires(new, start, end)
                target.idx = _index(target.fires, first, size)
            target.jobs.append(job_id)
            count += 1
            if len(changes) < MAX_CHANGES_SHOWN:
                changes.append(Change(job_id, trig.expr, new_expr))
    if not changes:
        return None
    for g in spread.values():
        _add(preview, g.idx, len(g.jobs))
    return Suggestion(
        changes=changes,
        change_count=count,
        buckets=preview,
        peak=max(preview, default=0),
        hot_spots=sum(1 for b in preview if b > threshold),
    )
