"""Rules are pure: an ended run (and what the history says about its job) -> an alert or not.
The history comes through a small protocol the hook implements over its transaction, so this
module holds no SQL and no clock."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from tickwork.alerts.model import FAILED_STATUSES, Quiet, Rule, severity_rank
from tickwork.engine.hooks import RunEnded

ERROR_EXCERPT = 500


class History(Protocol):
    def recent_statuses(self, job_id: str, n: int) -> list[str]:
        """Statuses of the job's last ``n`` ended runs, newest first."""
        ...

    def window_counts(self, job_id: str, since_us: int) -> tuple[int, int]:
        """(ended runs, failed ones) of the job that finished at or after ``since_us``."""
        ...

    def durations(self, job_id: str, exclude_run: int, limit: int) -> list[float]:
        """Durations of the job's last ``limit`` successful runs but ``exclude_run``."""
        ...

    def result(self, run_id: int) -> str | None: ...


@dataclass(frozen=True, slots=True)
class Fire:
    """An alert a rule raised, before dedupe and quiet hours."""

    rule: Rule
    job_id: str | None
    run_id: int | None
    kind: str  # the rule's kind, or "summary"
    facts: dict[str, Any] = field(default_factory=dict)


def run_facts(ended: RunEnded, job_name: str | None) -> dict[str, Any]:
    facts: dict[str, Any] = {
        "job_id": ended.job_id,
        "job_name": job_name or ended.job_id,
        "status": ended.status,
        "run_id": ended.run_id,
        "scheduled_for": ended.scheduled_for,
        "attempt": ended.attempt,
    }
    if ended.duration_s is not None:
        facts["duration_s"] = round(ended.duration_s, 3)
    if ended.error:
        facts["error"] = ended.error[:ERROR_EXCERPT]
    if ended.fires > 1:
        facts["fires"] = ended.fires
    return facts


def evaluate(rule: Rule, ended: RunEnded, job_name: str | None, history: History) -> Fire | None:
    """The alert ``rule`` raises for ``ended``, if any (recovery is decided by the hook: it
    needs the alerting state)."""
    kind = rule.kind
    status = ended.status
    failed = status in FAILED_STATUSES and ended.final

    def fire(**extra: Any) -> Fire:
        return Fire(rule, ended.job_id, ended.run_id, kind, {**run_facts(ended, job_name), **extra})

    if kind == "failed":
        return fire() if failed else None
    if kind == "timed_out":
        return fire() if status == "timed_out" and ended.final else None
    if kind == "lost":
        return fire() if status == "lost" and ended.final else None
    if kind == "missed":
        return fire(fires=ended.fires) if status == "missed" else None
    if kind == "consecutive_failures":
        if not failed:
            return None
        count = int(rule.params["count"])
        statuses = history.recent_statuses(ended.job_id, count)
        if len(statuses) >= count and all(s in FAILED_STATUSES for s in statuses):
            return fire(count=count)
        return None
    if kind == "error_rate":
        if not failed or ended.finished_at is None:
            return None
        window = int(rule.params["window_s"])
        runs, failures = history.window_counts(ended.job_id, ended.finished_at - window * 1_000_000)
        rate = failures / runs if runs else 0.0
        if runs >= int(rule.params["min_runs"]) and rate >= float(rule.params["rate"]):
            return fire(rate=round(rate, 4), runs=runs, failures=failures, window_s=window)
        return None
    if kind == "long_run":
        return _long_run(rule, ended, history, fire)
    if kind == "finding":
        return _finding(rule, ended, history, fire)
    return None


def _long_run(
    rule: Rule, ended: RunEnded, history: History, fire: Callable[..., Fire]
) -> Fire | None:
    duration = ended.duration_s
    if duration is None or ended.status not in ("succeeded", "failed", "timed_out"):
        return None
    threshold = rule.params.get("threshold_s")
    if threshold is not None:
        return fire(threshold_s=threshold) if duration > float(threshold) else None
    factor = float(rule.params["p95_factor"])
    samples = history.durations(ended.job_id, ended.run_id, 200)
    if len(samples) < int(rule.params.get("min_samples", 20)):
        return None
    p95 = percentile(samples, 0.95)
    if duration > factor * p95:
        return fire(p95_s=round(p95, 3), p95_factor=factor, threshold_s=round(factor * p95, 3))
    return None


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[rank - 1]


def findings_of(result: str | None) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The findings and metrics of a built-in's result (``{"findings": [...], "metrics":
    {...}}``); anything else has none."""
    if not result:
        return [], {}
    try:
        data = json.loads(result)
    except ValueError:
        return [], {}
    if not isinstance(data, dict):
        return [], {}
    found = data.get("findings")
    metrics = data.get("metrics")
    items = [f for f in found if isinstance(f, dict)] if isinstance(found, list) else []
    return items, metrics if isinstance(metrics, dict) else {}


def _finding(
    rule: Rule, ended: RunEnded, history: History, fire: Callable[..., Fire]
) -> Fire | None:
    if ended.status not in ("succeeded", "failed"):
        return None
    findings, metrics = findings_of(history.result(ended.run_id))
    wanted_kind = rule.params.get("finding_kind")
    least = severity_rank(str(rule.params.get("min_severity", "warning")))
    hits = [
        {k: str(f.get(k, ""))[:500] for k in ("kind", "severity", "object", "message", "action")}
        for f in findings
        if severity_rank(str(f.get("severity", "info"))) >= least
        and (wanted_kind is None or f.get("kind") == wanted_kind)
    ]
    metric = rule.params.get("metric")
    over: dict[str, Any] = {}
    if metric is not None:
        value = metrics.get(metric)
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if number and float(value) > float(rule.params["above"]):  # type: ignore[arg-type]
            over = {"metric": metric, "value": value, "above": rule.params["above"]}
    if not hits and not over:
        return None
    return fire(findings=hits[:20], finding_count=len(hits), **over)


def quiet_until(quiet: Quiet | None, now_us: int) -> int | None:
    """The end of the quiet period ``now_us`` falls in (epoch microseconds), or None."""
    if quiet is None:
        return None
    from tickwork.triggers.zones import resolve_tz, us_to_local

    zone = resolve_tz(quiet.timezone)
    local = us_to_local(now_us, zone)
    minute = local.hour * 60 + local.minute
    start, end = quiet.start_min, quiet.end_min
    inside = start <= minute < end if start < end else minute >= start or minute < end
    if not inside:
        return None
    day = local.date() if minute < end else local.date() + timedelta(days=1)
    wall = datetime(day.year, day.month, day.day, end // 60, end % 60)
    moment = wall.replace(tzinfo=zone)
    return int(moment.timestamp() * 1_000_000)
