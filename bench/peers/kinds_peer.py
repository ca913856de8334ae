"""The kinds benchmark's measurements, each in its own process (``bench.engine_worker``):
the same work (a shell ``true``, an HTTP GET of a local server, ``SELECT 1``) done N times
directly (the bare cost), by Tickwork (a scheduler node on SQLite keeping every run record)
and by APScheduler 3 (BackgroundScheduler, its thread pool, no records).

Each run is a one-off job due at the same instant, added to a scheduler already running; the
time is from that instant until the last run ended (Tickwork: its ``finished_at`` in the run
table, so every record is written). CPU counts this process and its children (the shell's
``true`` processes) over that time, so each system pays for the same commands."""

from __future__ import annotations

import logging
import os
import subprocess
import tempfile
import threading
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

logging.getLogger("tickwork").setLevel(logging.ERROR)
logging.getLogger("apscheduler").setLevel(logging.ERROR)


LEAD_S = 3.0  # jobs are added this long before they are due, to a running scheduler


def _sleep_until(moment: float) -> None:
    while (left := moment - time.time()) > 0:
        time.sleep(min(left, 0.05))


def _cpu() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


# -- the work, as APScheduler's job function and the bare loop do it ---------------------------
_engines: dict[str, Any] = {}


def _engine(url: str) -> Any:
    import sqlalchemy as sa

    if url not in _engines:
        _engines[url] = sa.create_engine(url, pool_size=10, max_overflow=0)
    return _engines[url]


def work(kind: str, target: str) -> None:
    if kind == "shell":
        subprocess.run(["true"], check=True, capture_output=True)
    elif kind == "http":
        with urllib.request.urlopen(target, timeout=10) as response:
            response.read()
    else:
        import sqlalchemy as sa

        with _engine(target).connect() as conn:
            conn.execute(sa.text("SELECT 1")).scalar_one()


def bare(p: dict[str, Any]) -> dict[str, Any]:
    """The work itself, N times in a loop: what each run costs at the least."""
    n = p["n"]
    work(p["kind"], p["target"])  # warm: imports, pools
    c0, t0 = _cpu(), time.perf_counter()
    for _ in range(n):
        work(p["kind"], p["target"])
    elapsed = time.perf_counter() - t0
    return {
        "per_run_ms": round(elapsed / n * 1000, 3),
        "cpu_ms_per_run": round((_cpu() - c0) / n * 1000, 3),
    }


# -- APScheduler 3 -----------------------------------------------------------------------------
def apscheduler(p: dict[str, Any]) -> dict[str, Any]:
    from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.schedulers.background import BackgroundScheduler

    n, kind, target = p["n"], p["kind"], p["target"]
    work(kind, target)
    sched = BackgroundScheduler(
        executors={"default": ThreadPoolExecutor(p["workers"])},
        job_defaults={"misfire_grace_time": None, "coalesce": False, "max_instances": 1},
        timezone=UTC,
    )
    done = threading.Event()
    ended = [0, 0]  # finished, failed

    last = [0.0]

    def listener(event: Any) -> None:
        ended[0] += 1
        last[0] = time.time()
        if event.exception is not None:
            ended[1] += 1
        if ended[0] >= n:
            done.set()

    sched.add_listener(listener, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    sched.start()
    due = time.time() + LEAD_S
    run_date = datetime.fromtimestamp(due, UTC)
    for i in range(n):
        sched.add_job(work, "date", run_date=run_date, args=[kind, target], id=f"k-{i}")
    _sleep_until(due)
    c0 = _cpu()
    done.wait(p.get("timeout_s", 300))
    cpu = _cpu() - c0
    sched.shutdown(wait=True)
    return _figures(n, ended[0], ended[1], last[0] - due, cpu)


# -- Tickwork ----------------------------------------------------------------------------------
def _tickwork_target(kind: str, target: str) -> dict[str, Any]:
    if kind == "shell":
        return {"kind": "shell", "command": ["true"]}
    if kind == "http":
        return {"kind": "http", "url": target}
    return {"kind": "sql", "connection": "bench", "statement": "SELECT 1"}


def tickwork(p: dict[str, Any]) -> dict[str, Any]:
    from sqlalchemy import func, select

    from tickwork import JobSpec, Tickwork
    from tickwork.engine.node import NodeOptions
    from tickwork.settings import Settings
    from tickwork.store.tables import run

    n, kind, target = p["n"], p["kind"], p["target"]
    folder = Path(tempfile.mkdtemp(prefix="tw_kinds_"))
    settings = Settings(
        data_dir=folder,
        database_url=f"sqlite:///{folder / 'tw.db'}",
        timezone="UTC",
        ssrf_allow=("127.0.0.1/32",),
    )
    tw = Tickwork(
        settings=settings,
        node_options=NodeOptions(
            workers={"thread": p["workers"]}, switch_interval_s=0.001, gc_freeze=True
        ),
    )
    if kind == "sql":
        tw.add_connection("bench", "database", {"url": target})
    tw.start()
    due = time.time() + LEAD_S
    run_date = datetime.fromtimestamp(due, UTC)
    spec = _tickwork_target(kind, target)
    tw.add_jobs(
        [
            JobSpec(
                target=spec,
                trigger="date",
                trigger_args={"run_date": run_date},
                id=f"k-{i:06d}",
                owner="python",
            )
            for i in range(n)
        ]
    )
    ended_q = (
        select(func.count())
        .select_from(run)
        .where(run.c.status.in_(["succeeded", "failed", "timed_out", "cancelled"]))
    )
    _sleep_until(due)
    c0, t0 = _cpu(), time.perf_counter()
    ended = 0
    while ended < n and time.perf_counter() - t0 < p.get("timeout_s", 300):
        time.sleep(0.02)
        with tw.store.db.read() as conn:
            ended = int(conn.execute(ended_q).scalar_one())
    cpu = _cpu() - c0
    with tw.store.db.read() as conn:
        last_us = conn.execute(select(func.max(run.c.finished_at))).scalar_one() or 0
    elapsed = last_us / 1e6 - due
    with tw.store.db.read() as conn:
        failed = int(
            conn.execute(
                select(func.count()).select_from(run).where(run.c.status != "succeeded")
            ).scalar_one()
        )
        sample = conn.execute(
            select(run.c.error).where(run.c.status != "succeeded").limit(1)
        ).first()
    tw.shutdown(wait=True)
    tw.close()
    out = _figures(n, ended, failed, elapsed, cpu)
    if sample is not None:
        out["first_error"] = str(sample[0])[:200]
    return out


def _figures(n: int, ended: int, failed: int, elapsed: float, cpu: float) -> dict[str, Any]:
    return {
        "ended": ended,
        "failed": failed,
        "runs_per_s": round(ended / elapsed, 1) if ended >= n else None,
        "per_run_ms": round(elapsed / max(ended, 1) * 1000, 3),
        "cpu_ms_per_run": round(cpu / max(ended, 1) * 1000, 3),
        "elapsed_s": round(elapsed, 3),
    }
