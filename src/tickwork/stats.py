"""Run statistics for the API and console: per job and over all jobs, within a time window.

Everything is computed in the database with portable SQL (window functions exist in SQLite
3.25+, MariaDB 10.2+ and PostgreSQL), so a window of a million runs never comes to Python.
The p95 is the nearest-rank percentile of the finished runs' durations.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Float, and_, case, cast, func, select

from tickwork.models import RunStatus
from tickwork.store.database import Database
from tickwork.store.records import RunRecord
from tickwork.store.runs import LIST_COLUMNS, outside_groups
from tickwork.store.tables import job, run

# Statuses that count in the success rate: runs that started (or should have) and ended.
_COUNTED = [s.value for s in (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.TIMED_OUT,
                              RunStatus.CANCELLED, RunStatus.LOST)]  # fmt: skip
SLOW_LIMIT = 20


@dataclass(frozen=True, slots=True)
class RunStats:
    job_id: str | None  # None: all jobs
    runs: int  # every run recorded in the window, whatever its status
    by_status: dict[str, int]
    success_rate: float | None  # succeeded / (succeeded + failed + timed_out + cancelled + lost)
    duration_min_s: float | None
    duration_avg_s: float | None
    duration_max_s: float | None
    duration_p95_s: float | None
    last_status: str | None
    last_run_id: int | None
    slow_threshold_s: float
    slow_runs: int
    slowest: list[RunRecord] = field(default_factory=list)  # up to SLOW_LIMIT, slowest first


@dataclass(frozen=True, slots=True)
class StatsReport:
    since: int | None
    until: int | None
    total: RunStats
    jobs: list[RunStats]  # one per job with runs in the window, most runs first


def run_stats(
    db: Database,
    *,
    job_id: str | None = None,
    since: int | None = None,
    until: int | None = None,
    slow_s: float = 60.0,
    hidden_groups: frozenset[str] = frozenset(),
) -> StatsReport:
    conds = _conditions(job_id, since, until)
    if hidden_groups:  # runs of jobs in groups the caller may not see
        conds.append(outside_groups(hidden_groups))
    with db.read() as conn:
        per_job = _aggregate(conn, conds, by_job=True)
        total = _aggregate(conn, conds, by_job=False).get(None)
        p95 = _p95(conn, conds)
        slow_counts: dict[str, int] = dict(
            conn.execute(
                select(run.c.job_id, func.count())
                .where(*conds, run.c.duration_s > slow_s)
                .group_by(run.c.job_id)
            ).all()
        )
        slowest = [
            RunRecord.from_row(r)
            for r in conn.execute(
                select(*LIST_COLUMNS)
                .where(*conds, run.c.duration_s > slow_s)
                .order_by(run.c.duration_s.desc(), run.c.id.desc())
                .limit(SLOW_LIMIT)
            ).mappings()
        ]
        last = last_runs_in(conn, [j for j in per_job if j is not None]) if per_job else {}
        newest = conn.execute(
            select(run.c.id, run.c.status).where(*conds).order_by(run.c.id.desc()).limit(1)
        ).first()
    jobs = []
    for jid, agg in per_job.items():
        assert jid is not None
        runs = last.get(jid)
        jobs.append(
            _finish(
                agg,
                slow_s,
                p95.get(jid),
                int(slow_counts.get(jid, 0)),
                [r for r in slowest if r.job_id == jid],
                runs.status if runs else None,
                runs.id if runs else None,
            )
        )
    jobs.sort(key=lambda s: (-s.runs, s.job_id or ""))
    if total is None:
        return StatsReport(since=since, until=until, total=_empty(job_id, slow_s), jobs=[])
    overall = _finish(
        total,
        slow_s,
        _overall_p95(db, conds),
        int(sum(slow_counts.values())),
        slowest,
        newest[1] if newest else None,
        newest[0] if newest else None,
    )
    if job_id is not None:
        overall = jobs[0] if jobs else _empty(job_id, slow_s)
    return StatsReport(since=since, until=until, total=overall, jobs=jobs)


def last_runs(db: Database, job_ids: Sequence[str]) -> dict[str, RunRecord]:
    if not job_ids:
        return {}
    with db.read() as conn:
        return last_runs_in(conn, list(job_ids))


def last_runs_in(conn: Any, job_ids: list[str]) -> dict[str, RunRecord]:
    """The newest run of each (stored) job, in one statement: a correlated MAX per job that
    the (job_id, id) index answers on every dialect, where a GROUP BY over the jobs' runs
    would read every one of them."""
    out: dict[str, RunRecord] = {}
    newer = run.alias("newest")
    for start in range(0, len(job_ids), 500):
        chunk = job_ids[start : start + 500]
        newest = select(func.max(newer.c.id)).where(newer.c.job_id == job.c.id).scalar_subquery()
        query = select(*LIST_COLUMNS).where(run.c.id.in_(select(newest).where(job.c.id.in_(chunk))))
        for row in conn.execute(query).mappings():
            record = RunRecord(**row)  # the list columns are exactly RunRecord's fields
            out[record.job_id] = record
    return out


# -- internals -----------------------------------------------------------------------------
def _conditions(job_id: str | None, since: int | None, until: int | None) -> list[Any]:
    conds: list[Any] = []
    if job_id is not None:
        conds.append(run.c.job_id == job_id)
    if since is not None:
        conds.append(run.c.scheduled_for >= since)
    if until is not None:
        conds.append(run.c.scheduled_for < until)
    return conds


def _aggregate(conn: Any, conds: list[Any], *, by_job: bool) -> dict[str | None, dict[str, Any]]:
    status_cols = [
        func.sum(case((run.c.status == s.value, 1), else_=0)).label(s.value) for s in RunStatus
    ]
    cols = [
        func.count().label("runs"),
        *status_cols,
        func.min(run.c.duration_s).label("dmin"),
        func.avg(cast(run.c.duration_s, Float)).label("davg"),
        func.max(run.c.duration_s).label("dmax"),
    ]
    if by_job:
        query = select(run.c.job_id, *cols).where(*conds).group_by(run.c.job_id)
    else:
        query = select(*cols).where(*conds)
    out: dict[str | None, dict[str, Any]] = {}
    for row in conn.execute(query).mappings():
        if not row["runs"]:
            continue
        out[row["job_id"] if by_job else None] = dict(row)
    return out


def _p95(conn: Any, conds: list[Any]) -> dict[str, float]:
    finished = and_(*conds, run.c.duration_s.is_not(None))
    ranked = (
        select(
            run.c.job_id,
            run.c.duration_s,
            func.row_number()
            .over(partition_by=run.c.job_id, order_by=run.c.duration_s)
            .label("rn"),
            func.count().over(partition_by=run.c.job_id).label("n"),
        )
        .where(finished)
        .subquery()
    )
    rows = conn.execute(select(ranked.c.job_id, ranked.c.duration_s, ranked.c.rn, ranked.c.n))
    out: dict[str, float] = {}
    for jid, duration, rn, n in rows:
        if rn == _rank(int(n)):
            out[jid] = float(duration)
    return out


def _overall_p95(db: Database, conds: list[Any]) -> float | None:
    finished = [*conds, run.c.duration_s.is_not(None)]
    with db.read() as conn:
        n = int(conn.execute(select(func.count()).select_from(run).where(*finished)).scalar_one())
        if not n:
            return None
        value = conn.execute(
            select(run.c.duration_s)
            .where(*finished)
            .order_by(run.c.duration_s)
            .limit(1)
            .offset(_rank(n) - 1)
        ).scalar()
    return None if value is None else float(value)


def _rank(n: int) -> int:
    """Nearest-rank index (1-based) of the 95th percentile of n values."""
    return max(1, -(-95 * n // 100))


def _finish(
    agg: dict[str, Any],
    slow_s: float,
    p95: float | None,
    slow: int,
    slowest: list[RunRecord],
    last_status: str | None,
    last_id: int | None,
) -> RunStats:
    by_status = {s.value: int(agg.get(s.value) or 0) for s in RunStatus}
    counted = sum(by_status[s] for s in _COUNTED)
    return RunStats(
        job_id=agg.get("job_id"),
        runs=int(agg["runs"]),
        by_status={k: v for k, v in by_status.items() if v},
        success_rate=(by_status["succeeded"] / counted) if counted else None,
        duration_min_s=_float(agg.get("dmin")),
        duration_avg_s=_float(agg.get("davg")),
        duration_max_s=_float(agg.get("dmax")),
        duration_p95_s=p95,
        last_status=last_status,
        last_run_id=last_id,
        slow_threshold_s=slow_s,
        slow_runs=slow,
        slowest=slowest,
    )


def _empty(job_id: str | None, slow_s: float) -> RunStats:
    return RunStats(
        job_id=job_id,
        runs=0,
        by_status={},
        success_rate=None,
        duration_min_s=None,
        duration_avg_s=None,
        duration_max_s=None,
        duration_p95_s=None,
        last_status=None,
        last_run_id=None,
        slow_threshold_s=slow_s,
        slow_runs=0,
    )


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def backlog(db: Database, now: int) -> dict[str, int]:
    """Due jobs not yet claimed, and queued runs due but not taken by a node."""
    with db.read() as conn:
        due_jobs = conn.execute(
            select(func.count()).select_from(job).where(job.c.next_fire_at <= now)
        ).scalar_one()
        queued = conn.execute(
            select(func.count())
            .select_from(run)
            .where(
                run.c.status == RunStatus.SCHEDULED.value,
                run.c.node_id.is_(None),
                run.c.due_at <= now,
            )
        ).scalar_one()
    return {"due_jobs": int(due_jobs), "queued_runs": int(queued)}


Timing = tuple[str, float | None, float | None]  # job id, duration s, lateness s


def run_timings(db: Database, run_ids: Sequence[int]) -> list[Timing]:
    out: list[Timing] = []
    ids = list(run_ids)
    with db.read() as conn:
        for start in range(0, len(ids), 1000):
            rows = conn.execute(
                select(run.c.job_id, run.c.duration_s, run.c.started_at, run.c.scheduled_for).where(
                    run.c.id.in_(ids[start : start + 1000])
                )
            ).all()
            for job_id, duration, started, scheduled in rows:
                late = None if started is None else max(0.0, (started - scheduled) / SEC)
                out.append((job_id, duration, late))
    return out


SEC = 1_000_000
