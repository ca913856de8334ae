"""Retention under load: a scheduler node firing N interval-1s jobs (N fires/s, every run
persisted) while the retention pass deletes a backlog of old runs from the same database.
Lateness is measured as in the engine benchmark (the job notes when it is called; its fire
instant comes from the run table)."""

from __future__ import annotations

import threading
import time
from typing import Any

from bench import engine_tasks
from bench.peers.common import Grid, summary, wait_until
from bench.peers.tickwork_peer import _active, _dt, _exact_lateness, _tickwork

DAY_US = 86_400 * 1_000_000


def fill_old_runs(tw: Any, rows: int, jobs: int = 1000) -> float:
    """``rows`` succeeded runs 40+ days old over ``jobs`` job ids, inserted by the database
    itself (INSERT ... SELECT over a generated series). Returns seconds taken."""
    from sqlalchemy import text

    old = int(time.time() * 1e6) - 40 * DAY_US
    started = time.monotonic()
    db = tw.store.db
    cols = "job_id, scheduled_for, due_at, attempt, reason, status, cancel_requested, created_at, finished_at, duration_s"  # noqa: E501
    with db.write() as conn:
        if db.is_sqlite:
            conn.execute(text(
                f"WITH RECURSIVE c(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM c WHERE x < {rows - 1}) "  # noqa: E501
                f"INSERT INTO tw_run ({cols}) SELECT 'old-' || (x % {jobs}), {old} + x * 1000, "
                f"{old} + x * 1000, 1, 'schedule', 'succeeded', 0, {old} + x * 1000, "
                f"{old} + x * 1000 + 500, 0.0005 FROM c"
            ))  # fmt: skip
        else:
            conn.execute(text(
                f"INSERT INTO tw_run ({cols}) SELECT 'old-' || (x % {jobs}), {old} + x * 1000, "
                f"{old} + x * 1000, 1, 'schedule', 'succeeded', false, {old} + x * 1000, "
                f"{old} + x * 1000 + 500, 0.0005 FROM generate_series(0, {rows - 1}) AS x"
            ))  # fmt: skip
    if db.is_postgres:
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE tw_run"))
            # The fill and its vacuum write ~500 MB of WAL in seconds, which starts a
            # checkpoint (max_wal_size) that would write their pages out during the measured
            # window, making the start records' WAL flushes wait 100-250 ms behind that I/O:
            # the fill's cost, not the pass's (old runs are not written just before a pass).
            conn.execute(text("CHECKPOINT"))
    return time.monotonic() - started


def prune_under_load(p: dict[str, Any]) -> dict[str, Any]:
    from tickwork import JobSpec
    from tickwork.store.retention import Policy, Pruner

    tw = _tickwork(p["url"], p.get("workers", 20))
    fill_s = fill_old_runs(tw, p["rows"]) if p["rows"] else 0.0
    n, seconds = p["n"], p["seconds"]
    grid = Grid(n, seconds, float(int(time.time()) + p.get("warmup_s", 4)), False)
    end = _dt(grid.end)
    tw.add_jobs([
        JobSpec(
            target="bench.engine_tasks:record", trigger="interval",
            trigger_args={"seconds": 1, "start_date": _dt(grid.first(i)), "end_date": end},
            args=[i], id=f"lat-{i:06d}", owner="python", check_target=False,
        )
        for i in range(n)
    ])  # fmt: skip
    tw.start()
    stop = threading.Event()
    pruned: dict[str, Any] = {}
    db = tw.store.db

    def prune() -> None:
        # the built-in job's defaults (tickwork.retention.prune_history)
        policy = Policy(
            runs_keep_days=30, runs_keep_per_job=None, alerts_keep_days=None,
            audit_keep_days=None, batch=100 if db.is_sqlite else 1000, pause_s=0.01,
            target_s=0.004 if db.is_sqlite else 0.01,
        )  # fmt: skip
        t = time.time()
        result = Pruner(db, policy, stop=stop).run(int(t * 1e6))
        pruned.update(result.as_dict(), started=t, ended=time.time())

    wait_until(grid.t0)
    worker = threading.Thread(target=prune) if p["prune"] else None
    if worker is not None:
        worker.start()
    # Measure until the window ends, or (pruning) until the pass is done, whichever first.
    while time.time() < grid.end and (worker is None or worker.is_alive()):
        time.sleep(0.1)
    measured_until = time.time()
    if worker is not None and worker.is_alive() and p.get("finish", False):
        worker.join(p.get("finish_s", 600))  # the rest of the pass, unmeasured
    stop.set()
    if worker is not None:
        worker.join()
    deadline = time.time() + 30
    while time.time() < deadline and _active(tw) > 0:
        time.sleep(0.2)
    tw.shutdown(wait=True)
    since, until = round(grid.t0 * 1e6), round(min(measured_until, grid.end) * 1e6)
    late = _exact_lateness(tw, list(engine_tasks.CALLS), since, until)
    left = _old_left(tw)
    tw.close()
    out: dict[str, Any] = {
        **summary(late),
        "fires_measured": len(late),
        "window_s": round((until - since) / 1e6, 1),
        "fill_s": round(fill_s, 1),
        "old_runs_left": left,
    }
    if pruned:
        deleted = int(pruned["runs_by_age"])
        took = pruned["ended"] - pruned["started"]
        out.update(deleted=deleted, prune_s=round(took, 1),
                   deleted_per_s=round(deleted / took) if took else None,
                   batches=pruned["batches"])  # fmt: skip
    return out


def _old_left(tw: Any) -> int:
    from sqlalchemy import func, select

    from tickwork.store.tables import run

    with tw.store.db.read() as conn:
        q = select(func.count()).select_from(run).where(run.c.job_id.like("old-%"))
        return int(conn.execute(q).scalar_one())
