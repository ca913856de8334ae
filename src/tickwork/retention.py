"""Run-history retention as a built-in job: ``tickwork-retention`` (group ``tickwork``, owner
``builtin``) shows in the job list like any other, runs hourly on whichever node claims it,
and deletes old history in bounded batches (``tickwork.store.retention``): runs older than
``runs_keep_days`` or beyond the newest ``runs_keep_per_job`` of a job, alert history older
than ``alerts_keep_days``, audit events older than ``audit_keep_days``.

The job names its database by a digest of the URL (never the URL, which may hold a password):
each node registers its store under that digest when it starts, and the target finds it
there (the job runs on the thread executor, in the node's process)."""

from __future__ import annotations

import hashlib
import threading
from typing import TYPE_CHECKING, Any

from tickwork.store.retention import Policy, Pruner

if TYPE_CHECKING:
    from tickwork.clock import Clock
    from tickwork.store.database import Database

JOB_ID = "tickwork-retention"
TARGET = "tickwork.retention:prune_history"
_lock = threading.Lock()
_stores: dict[str, tuple[Database, Clock]] = {}


def store_key(url: str) -> str:
    return hashlib.sha256(b"tickwork store\x00" + url.encode()).hexdigest()[:16]


def register(key: str, db: Database, clock: Clock) -> None:
    with _lock:
        _stores[key] = (db, clock)


def unregister(key: str, db: Database) -> None:
    with _lock:
        if key in _stores and _stores[key][0] is db:
            del _stores[key]


def prune_history(
    store: str,
    runs_keep_days: float | None = 30,
    runs_keep_per_job: int | None = 10_000,
    alerts_keep_days: float | None = 90,
    audit_keep_days: float | None = 365,
    batch: int | None = None,
    pause_s: float = 0.01,
    target_s: float | None = None,
) -> dict[str, Any]:
    """The built-in job's target: one pruning pass; returns what it deleted."""
    with _lock:
        found = _stores.get(store)
    if found is None:
        raise RuntimeError(
            "no Tickwork store of this process matches the job's database; the retention job "
            "runs on a scheduler node's thread executor"
        )
    db, clock = found
    policy = Policy(
        runs_keep_days=runs_keep_days,
        runs_keep_per_job=runs_keep_per_job,
        alerts_keep_days=alerts_keep_days,
        audit_keep_days=audit_keep_days,
        batch=batch or (100 if db.is_sqlite else 1000),
        pause_s=pause_s,
        # SQLite: a batch holds the write lock due starts wait for; keep it to a few ms.
        # Elsewhere a batch's WAL (index pages of ~8 indexes a row) is flushed before the
        # next start record's commit is: small batches keep that flush short too.
        target_s=target_s or (0.004 if db.is_sqlite else 0.01),
    )
    return Pruner(db, policy).run(clock.now_us()).as_dict()
