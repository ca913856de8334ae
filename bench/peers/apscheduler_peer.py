"""APScheduler 3.11 BackgroundScheduler in the engine benchmark: MemoryJobStore, or
SQLAlchemyJobStore on an SQLite file; a ThreadPoolExecutor with the same worker count as
Tickwork; APScheduler's job defaults (misfire_grace_time=1 s, coalesce, max_instances=1)
except in the burst, where the grace time is unlimited so that no fire is dropped."""

from __future__ import annotations

import logging
import pickle
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

logging.getLogger("apscheduler").setLevel(logging.CRITICAL)


def _dt(epoch_s: float) -> datetime:
    return datetime.fromtimestamp(epoch_s, UTC)


def _store(p: dict[str, Any]) -> Any:
    if p["store"] == "memory":
        from apscheduler.jobstores.memory import MemoryJobStore

        return MemoryJobStore()
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

    return SQLAlchemyJobStore(url=f"sqlite:///{p['path']}")


def _scheduler(p: dict[str, Any], **job_defaults: Any) -> Any:
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.schedulers.background import BackgroundScheduler

    return BackgroundScheduler(
        jobstores={"default": _store(p)},
        executors={"default": ThreadPoolExecutor(p["workers"])},
        job_defaults=job_defaults,
        timezone=UTC,
    )


def lateness(p: dict[str, Any]) -> dict[str, Any]:
    n, seconds, job_ms = p["n"], p["seconds"], p.get("job_ms", 0)
    sched = _scheduler(p)
    # Jobs go into the store while paused (the SQLite store inserts them one at a time).
    sched.start(paused=True)
    grid = Grid(n, seconds, float(int(time.time()) + p.get("warmup_s", 4)), p["aligned"])
    end = _dt(grid.end)
    func = engine_tasks.record_sleep if job_ms else engine_tasks.record
    for i in range(n):
        sched.add_job(
            func,
            "interval",
            seconds=1,
            start_date=_dt(grid.first(i)),
            end_date=end,
            args=[i, job_ms] if job_ms else [i],
            id=f"lat-{i:06d}",
        )
    added = time.time()
    if added > grid.t0 - 0.5:
        raise RuntimeError(f"adding took too long: {added - grid.t0 + 0.5:.1f} s past the warm-up")
    sched.resume()
    wait_until(grid.t0)
    c0 = cpu_s()
    wait_until(grid.end + 0.2)
    cpu = cpu_s() - c0
    time.sleep(p.get("settle_s", 3))  # queued runs start (or are dropped past their grace)
    sched.shutdown(wait=True)
    calls = list(engine_tasks.CALLS)
    late, executed = lateness_ms(grid, calls)
    return {
        **summary(late),
        "due": grid.due,
        "executed": executed,
        "calls": len(calls),
        "cpu_s_per_s": round(cpu / (grid.end - grid.t0), 3),
    }


def burst(p: dict[str, Any]) -> dict[str, Any]:
    """``n`` one-off jobs due at once; "recorded" is "executed" (APScheduler keeps no run
    records): time from resume() until every job function has returned."""
    n = p["n"]
    sched = _scheduler(p, misfire_grace_time=None)
    sched.start(paused=True)
    run_date = datetime.now(UTC)
    a0 = time.perf_counter()
    for i in range(n):
        sched.add_job(engine_tasks.record, "date", run_date=run_date, args=[i], id=f"b-{i:06d}")
    add_s = time.perf_counter() - a0
    t0 = time.perf_counter()
    c0 = cpu_s()
    sched.resume()
    timeout = p.get("timeout_s", 300)
    while len(engine_tasks.CALLS) < n and time.perf_counter() - t0 < timeout:
        time.sleep(0.005)
    elapsed = time.perf_counter() - t0
    cpu = cpu_s() - c0
    done = len(engine_tasks.CALLS)
    sched.shutdown(wait=True)
    return {
        "runs_per_s": round(done / elapsed, 1) if done >= n else None,
        "recorded": done,
        "elapsed_s": round(elapsed, 3),
        "add_s": round(add_s, 3),
        "cpu_s": round(cpu, 2),
    }


def _trigger(expr: str) -> Any:
    """One trigger per job, parsed from the expression, as users write
    ``add_job(func, CronTrigger.from_crontab(expr))`` (Tickwork parses each job's too)."""
    from apscheduler.triggers.cron import CronTrigger

    return CronTrigger.from_crontab(expr, timezone=UTC)


def _first_pass_event(sched_cls: Any) -> threading.Event:
    done = threading.Event()
    original = sched_cls._process_jobs

    def process(self: Any) -> Any:
        try:
            return original(self)
        finally:
            if self.state == 1:  # STATE_RUNNING: a pass that looked at the jobs
                done.set()

    sched_cls._process_jobs = process
    return done


def many_memory(p: dict[str, Any]) -> dict[str, Any]:
    """MemoryJobStore: add ``n`` cron jobs to a started-but-paused scheduler (each add_job
    inserts into the store's sorted list), then resume and wait for its first pass. Nothing
    persists: a restart pays the add again. Adding stops at ``budget_s``."""
    from apscheduler.schedulers.background import BackgroundScheduler

    n, budget = p["n"], p["budget_s"]
    exprs = cron_mix(n, p["hour"])
    first = _first_pass_event(BackgroundScheduler)
    sched = _scheduler(p)
    sched.start(paused=True)
    t0 = time.perf_counter()
    added = 0
    for i, expr in enumerate(exprs):
        sched.add_job(engine_tasks.noop, _trigger(expr), id=f"cron-{i:07d}")
        added += 1
        if added % 1000 == 0 and time.perf_counter() - t0 > budget:
            break
    add_s = time.perf_counter() - t0
    if added < n:
        sched.shutdown(wait=False)
        return {
            "add_s": None,
            "added": added,
            "rate_per_s": round(added / add_s, 1),
            "budget_s": budget,
            "start_s": None,
            "rss_mb": None,
            "idle_cpu_s_per_s": None,
        }
    s0 = time.perf_counter()
    sched.resume()
    first.wait(600)
    start_s = time.perf_counter() - s0
    time.sleep(1.0)
    rss = rss_mb()
    cpu = idle_cpu(p.get("idle_s", 10))
    fired = len(engine_tasks.CALLS)
    sched.shutdown(wait=False)
    return {
        "add_s": round(add_s, 3),
        "added": added,
        "rate_per_s": round(added / add_s, 1),
        "start_s": round(start_s, 3),
        "rss_mb": round(rss, 1),
        "idle_cpu_s_per_s": round(cpu, 4),
        "fired": fired,
    }


def many_sqlite_add(p: dict[str, Any]) -> dict[str, Any]:
    """SQLAlchemyJobStore on SQLite: add_job one at a time (APScheduler pickles and inserts
    each job in its own transaction) until all are added or ``budget_s`` is spent. Past the
    budget the rest of the store is filled in bulk with the very rows add_job writes (the
    job's pickled state), so that start-up can be measured on ``n`` stored jobs; the add
    time is then reported as null, with the measured rate."""
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.util import datetime_to_utc_timestamp

    n, budget = p["n"], p["budget_s"]
    exprs = cron_mix(n, p["hour"])
    sched = _scheduler(p)
    sched.start(paused=True)
    t0 = time.perf_counter()
    added = 0
    for i, expr in enumerate(exprs):
        sched.add_job(engine_tasks.noop, _trigger(expr), id=f"cron-{i:07d}")
        added += 1
        if added % 100 == 0 and time.perf_counter() - t0 > budget:
            break
    add_s = time.perf_counter() - t0
    store = sched._lookup_jobstore("default")
    filled = 0
    if added < n and not p.get("fill", True):
        sched.shutdown(wait=False)
    elif added < n:
        # The rest: the same Job objects add_job builds, their next run time computed as
        # add_job does, pickled with the store's protocol, inserted 10,000 per transaction.
        sched.shutdown(wait=False)
        helper = BackgroundScheduler(timezone=UTC)  # stopped: add_job only builds the Job
        now = datetime.now(UTC)
        batch: list[dict[str, Any]] = []
        for i in range(added, n):
            job = helper.add_job(engine_tasks.noop, _trigger(exprs[i]), id=f"cron-{i:07d}")
            # What _real_add_job does before the store's add_job: defaults, next run time.
            changes = {k: v for k, v in helper._job_defaults.items() if not hasattr(job, k)}
            changes["next_run_time"] = job.trigger.get_next_fire_time(None, now)
            job._modify(**changes)
            batch.append(
                {
                    "id": job.id,
                    "next_run_time": datetime_to_utc_timestamp(job.next_run_time),
                    "job_state": pickle.dumps(job.__getstate__(), store.pickle_protocol),
                }
            )
            if len(batch) == 10_000 or i == n - 1:
                with store.engine.begin() as conn:
                    conn.execute(store.jobs_t.insert(), batch)
                filled += len(batch)
                batch.clear()
                helper._pending_jobs.clear()
    else:
        sched.shutdown(wait=False)
    return {
        "add_s": round(add_s, 3) if added == n else None,
        "added": added,
        "rate_per_s": round(added / add_s, 1),
        "budget_s": budget,
        "bulk_filled": filled,
    }


def many_sqlite_start(p: dict[str, Any]) -> dict[str, Any]:
    """A fresh process starts a scheduler on the filled SQLite store: time until its first
    pass over the store, RSS after it, CPU per idle second."""
    from apscheduler.schedulers.background import BackgroundScheduler

    first = _first_pass_event(BackgroundScheduler)
    rss0 = rss_mb()
    t0 = time.perf_counter()
    sched = _scheduler(p)
    sched.start()
    first.wait(600)
    start_s = time.perf_counter() - t0
    time.sleep(1.0)
    rss = rss_mb()
    cpu = idle_cpu(p.get("idle_s", 10))
    fired = len(engine_tasks.CALLS)
    sched.shutdown(wait=False)
    return {
        "start_s": round(start_s, 3),
        "rss_mb": round(rss, 1),
        "rss_before_mb": round(rss0, 1),
        "idle_cpu_s_per_s": round(cpu, 4),
        "fired": fired,
    }
