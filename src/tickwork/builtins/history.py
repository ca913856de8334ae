"""Reading built-ins' reports back from run records (the faces' side): the database sizes
collected over time with their growth per week, and every built-in job's latest metrics and
findings for ``/metrics``. The reports are the runs' results; nothing else is stored."""

from __future__ import annotations

import json
from typing import Any

SIZE_JOBS = ("collect_database_sizes", "generate_performance_report")
WEEK_US = 7 * 86_400 * 1_000_000


def builtin_jobs(tw: Any, names: tuple[str, ...] | None = None) -> list[Any]:
    """The records of the jobs whose target is a built-in (of ``names``, if given)."""
    out = []
    for job in tw.get_jobs():
        record = job.record
        if record.target_kind == "builtin" and (
            names is None or record.target.get("name") in names
        ):
            out.append(record)
    return out


def _report(run: Any) -> dict[str, Any] | None:
    try:
        value = json.loads(run.result or "")
    except ValueError:
        return None
    if isinstance(value, dict) and isinstance(value.get("metrics"), dict):
        return value
    return None


def size_history(
    tw: Any, connection: str | None = None, job_id: str | None = None, limit: int = 200
) -> dict[str, Any]:
    """``{"points": [{job_id, connection, run_id, at_us, database_bytes, tables}],
    "growth_per_week_bytes": {connection: n}}``, oldest first."""
    points: list[dict[str, Any]] = []
    for record in builtin_jobs(tw, SIZE_JOBS):
        conn_name = record.target.get("connection")
        if (connection and conn_name != connection) or (job_id and record.id != job_id):
            continue
        for run in tw.get_runs(record.id, status="succeeded", limit=limit):
            report = _report(run)
            if report is None or "database_bytes" not in report["metrics"]:
                continue
            tables = report.get("tables", {}).get("tables", {}).get("rows", [])
            points.append({
                "job_id": record.id, "connection": conn_name, "run_id": run.id,
                "at_us": run.finished_at or run.scheduled_for,
                "database_bytes": report["metrics"]["database_bytes"],
                "tables": {str(r[0]): r[1] for r in tables if len(r) >= 2},
            })  # fmt: skip
    points.sort(key=lambda p: p["at_us"])
    points = points[-limit:]
    growth: dict[str, float] = {}
    by_connection: dict[str, list[dict[str, Any]]] = {}
    for p in points:
        by_connection.setdefault(str(p["connection"]), []).append(p)
    for name, series in by_connection.items():
        first, last = series[0], series[-1]
        span = last["at_us"] - first["at_us"]
        if span > 0:
            change = last["database_bytes"] - first["database_bytes"]
            growth[name] = round(change * WEEK_US / span, 1)
    return {"points": points, "growth_per_week_bytes": growth}


def latest_reports(tw: Any) -> list[tuple[Any, dict[str, Any]]]:
    """(job record, report) of each built-in job's latest ended run that has a report."""
    out = []
    for record in builtin_jobs(tw):
        for run in tw.get_runs(record.id, status=("succeeded", "failed"), limit=1):
            report = _report(run)
            if report is not None:
                out.append((record, report))
    return out
