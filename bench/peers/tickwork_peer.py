"""Tickwork in the engine benchmark: a scheduler node on SQLite or PostgreSQL, runs persisted."""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime
from typing import Any

from bench import engine_tasks
from bench.peers.common import (
    Grid,
    cpu_s,
    cron_mix,
    idle_cpu,
    lateness_ms,
    rss_mb,
    summary,
    wait_until,
)

logging.getLogger("tickwork").setLevel(logging.ERROR)


def _dt(epoch_s: float) -> datetime:
    return datetime.fromtimestamp(epoch_s, UTC)


def _tickwork(url: str, workers: int) -> Any:
    from tickwork import Tickwork
    from tickwork.engine.node import NodeOptions

    return Tickwork(
        url,
        node_options=NodeOptions(
            workers={"thread": workers}, switch_interval_s=0.001, gc_freeze=True
        ),
        timezone="UTC",
    )


def _window_counts(tw: Any, since_us: int, until_us: int) -> dict[str, Any]:
    """Run records of the window, straight from the run table."""
    from sqlalchemy import distinct, func, select, tuple_

    from tickwork.store.tables import run

    where = (run.c.scheduled_for >= since_us, run.c.scheduled_for <= until_us)
    with tw.store.db.read() as conn:
        total = conn.execute(select(func.count()).select_from(run).where(*where)).scalar_one()
        if tw.store.db.is_sqlite:  # SQLite has no COUNT(DISTINCT a, b)
            distinct_q = select(func.count()).select_from(
                select(run.c.job_id, run.c.scheduled_for).where(*where).distinct().subquery()
            )
        else:
            distinct_q = select(func.count(distinct(tuple_(run.c.job_id, run.c.scheduled_for))))
            distinct_q = distinct_q.where(*where)
        unique = conn.execute(distinct_q).scalar_one()
        by_status = dict(
            conn.execute(select(run.c.status, func.count()).where(*where).group_by(run.c.status))
            .tuples()
            .all()
        )
    return {"records": int(total), "unique_fires": int(unique), "by_status": by_status}


def _exact_lateness(tw: Any, calls: list[tuple[int, float]], since: int, until: int) -> list[float]:
    """Lateness of every call against its own fire, from the run table: the runs of one job
    never overlap (max_instances=1), so its k-th call is its k-th succeeded run. Exact even
    for runs more than a second late (which the grid attribution would give to the next
    fire)."""
    from sqlalchemy import select

    from tickwork.store.tables import run

    q = (
        select(run.c.job_id, run.c.scheduled_for)
        .where(run.c.scheduled_for >= since, run.c.scheduled_for <= until)
        .where(run.c.status == "succeeded")
        .order_by(run.c.job_id, run.c.scheduled_for)
    )
    fires: dict[int, list[int]] = {}
    with tw.store.db.read() as conn:
        for job_id, scheduled_for in conn.execute(q):
            fires.setdefault(int(job_id.rsplit("-", 1)[1]), []).append(scheduled_for)
    by_job: dict[int, list[float]] = {}
    for i, t in calls:
        by_job.setdefault(i, []).append(t)
    out: list[float] = []
    for i, times in by_job.items():
        times.sort()
        for t, fire in zip(times, fires.get(i, []), strict=False):
            out.append(max(0.0, t - fire / 1e6) * 1000.0)
    return out


def _active(tw: Any) -> int:
    from sqlalchemy import func, select

    from tickwork.store.tables import run

    with tw.store.db.read() as conn:
        q = select(func.count()).select_from(run).where(run.c.status.in_(["scheduled", "running"]))
        return int(conn.execute(q).scalar_one())


def lateness(p: dict[str, Any]) -> dict[str, Any]:
    """N interval-1s jobs over ``seconds``; the job records when it is called."""
    from tickwork import JobSpec

    n, seconds, job_ms = p["n"], p["seconds"], p.get("job_ms", 0)
    tw = _tickwork(p["url"], p["workers"])
    grid = Grid(n, seconds, float(int(time.time()) + p.get("warmup_s", 4)), p["aligned"])
    end = _dt(grid.end)
    specs = [
        JobSpec(
            target="bench.engine_tasks:record_sleep" if job_ms else "bench.engine_tasks:record",
            trigger="interval",
            trigger_args={"seconds": 1, "start_date": _dt(grid.first(i)), "end_date": end},
            args=[i, job_ms] if job_ms else [i],
            id=f"lat-{i:06d}",
            owner="python",
            check_target=False,
        )
        for i in range(n)
    ]
    tw.add_jobs(specs)
    tw.start()
    wait_until(grid.t0)
    c0 = cpu_s()
    wait_until(grid.end + 0.2)
    cpu = cpu_s() - c0
    # Let what was claimed finish (a backlog of 20 ms jobs drains), then stop cleanly.
    deadline = time.time() + p.get("drain_s", 30)
    while time.time() < deadline and _active(tw) > 0:
        time.sleep(0.2)
    tw.shutdown(wait=True)
    calls = list(engine_tasks.CALLS)
    since, until = round(grid.t0 * 1e6), round(grid.end * 1e6)
    counts = _window_counts(tw, since, until)
    late = _exact_lateness(tw, calls, since, until)
    tw.close()
    return {
        **summary(late),
        "due": grid.due,
        "executed": len(late),
        "calls": len(calls),
        "calls_attributed_by_grid": lateness_ms(grid, calls)[1],
        "cpu_s_per_s": round(cpu / (grid.end - grid.t0), 3),
        **counts,
    }


def burst(p: dict[str, Any]) -> dict[str, Any]:
    """``n`` one-off jobs, all due when the node starts: recorded runs/s until all are
    recorded as finished (succeeded) in the run table."""
    from sqlalchemy import func, select

    from tickwork import JobSpec
    from tickwork.store.tables import run

    n = p["n"]
    tw = _tickwork(p["url"], p["workers"])
    run_date = _dt(time.time() + 1.0)
    specs = [
        JobSpec(
            target="bench.engine_tasks:noop",
            trigger="date",
            trigger_args={"run_date": run_date},
            id=f"burst-{i:06d}",
            owner="python",
            check_target=False,
        )
        for i in range(n)
    ]
    a0 = time.perf_counter()
    tw.add_jobs(specs)
    add_s = time.perf_counter() - a0
    wait_until(run_date.timestamp() + 0.05)  # all due before the node starts
    q = select(func.count()).select_from(run).where(run.c.status == "succeeded")
    t0 = time.perf_counter()
    c0 = cpu_s()
    tw.start()
    done = 0
    while done < n and time.perf_counter() - t0 < p.get("timeout_s", 300):
        time.sleep(0.05)
        with tw.store.db.read() as conn:
            done = int(conn.execute(q).scalar_one())
    elapsed = time.perf_counter() - t0
    cpu = cpu_s() - c0
    tw.shutdown(wait=True)
    with tw.store.db.read() as conn:
        total = int(conn.execute(select(func.count()).select_from(run)).scalar_one())
    tw.close()
    return {
        "runs_per_s": round(done / elapsed, 1) if done == n else None,
        "recorded": done,
        "records": total,
        "elapsed_s": round(elapsed, 3),
        "add_s": round(add_s, 3),
        "cpu_s": round(cpu, 2),
    }


def many_add(p: dict[str, Any]) -> dict[str, Any]:
    """Register ``n`` cron jobs with ``add_jobs`` (in chunks of 50,000 specs), stopping after
    the chunk that passes ``budget_s`` (if given)."""
    from tickwork import JobSpec

    n, budget = p["n"], p.get("budget_s")
    exprs = cron_mix(n, p["hour"])
    tw = _tickwork(p["url"], p["workers"])
    t0 = time.perf_counter()
    chunk = 50_000
    added = 0
    for start in range(0, n, chunk):
        specs = [
            JobSpec(
                target="bench.engine_tasks:noop",
                trigger=exprs[i],
                id=f"cron-{i:07d}",
                owner="python",
                check_target=False,
            )
            for i in range(start, min(n, start + chunk))
        ]
        added += tw.add_jobs(specs)
        if budget is not None and time.perf_counter() - t0 > budget and added < n:
            break
    add_s = time.perf_counter() - t0
    tw.close()
    return {
        "add_s": round(add_s, 3) if added == n else None,
        "rate_per_s": round(added / add_s, 1),
        "added": added,
        "budget_s": budget,
    }


def many_start(p: dict[str, Any]) -> dict[str, Any]:
    """In a fresh process: open the store holding ``n`` jobs and start a node; time until its
    loop finished the first pass, RSS after it, CPU per second over ``idle_s`` idle seconds."""
    from tickwork.engine.loop import SchedulerLoop

    first_pass = threading.Event()
    original = SchedulerLoop.tick

    def tick(self: SchedulerLoop) -> float:
        try:
            return original(self)
        finally:
            first_pass.set()

    SchedulerLoop.tick = tick  # type: ignore[method-assign]
    rss0 = rss_mb()
    t0 = time.perf_counter()
    tw = _tickwork(p["url"], p["workers"])
    tw.start()
    first_pass.wait(300)
    start_s = time.perf_counter() - t0
    time.sleep(1.0)
    rss = rss_mb()
    ticks0 = tw.node.loop.ticks
    cpu = idle_cpu(p.get("idle_s", 10))
    ticks = tw.node.loop.ticks - ticks0
    calls = len(engine_tasks.CALLS)
    tw.shutdown(wait=True)
    tw.close()
    return {
        "start_s": round(start_s, 3),
        "rss_mb": round(rss, 1),
        "rss_before_mb": round(rss0, 1),
        "idle_cpu_s_per_s": round(cpu, 4),
        "loop_passes_idle": ticks,
        "fired": calls,
    }
