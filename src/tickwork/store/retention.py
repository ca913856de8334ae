"""Deleting old history in bounded transactions: runs by age and by count per job, alert
history and the audit trail by age. Each batch is one short transaction of one DELETE whose
rows the database picks (no id list passes through this process, the scheduler node's; on
SQLite the write lock that due starts wait for is held for one batch only) followed by a
pause, so pruning a million rows never stalls the scheduler; a batch that finds fewer rows
than its size ends the pass."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Connection, Table, delete, func, select

from tickwork.models import ACTIVE_STATUSES
from tickwork.store.database import Database
from tickwork.store.tables import run
from tickwork.store.tables_alerts import alert, alert_attempt, alert_delivery
from tickwork.store.tables_audit import audit_event

_ACTIVE = [s.value for s in ACTIVE_STATUSES]
DAY_US = 86_400 * 1_000_000


@dataclass(slots=True)
class Pruned:
    runs_by_age: int = 0
    runs_by_count: int = 0
    alerts: int = 0
    audit_events: int = 0
    batches: int = 0
    elapsed_s: float = 0.0
    jobs_over_count: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "runs_by_age": self.runs_by_age,
            "runs_by_count": self.runs_by_count,
            "alerts": self.alerts,
            "audit_events": self.audit_events,
            "batches": self.batches,
            "elapsed_s": round(self.elapsed_s, 3),
        }


@dataclass(frozen=True, slots=True)
class Policy:
    runs_keep_days: float | None = 30
    runs_keep_per_job: int | None = 10_000
    alerts_keep_days: float | None = 90
    audit_keep_days: float | None = 365
    batch: int = 500  # rows of the first batch; then sized to hold the lock ~target_s
    pause_s: float = 0.01  # at least this between batches
    # How long one batch's transaction may take: the batch size adapts (halved when a batch
    # takes longer, doubled when it takes under half), and the pause after a batch is at
    # least ``duty`` times its duration, so pruning uses at most 1/(1+duty) of the database's
    # write time. On SQLite a batch holds the one write lock that due starts wait for.
    target_s: float = 0.05
    duty: float = 3.0
    min_batch: int = 10
    max_batch: int = 5000


@dataclass(slots=True)
class _Floor:
    """Where a pass's previous batch stopped (see ``Pruner._delete_first``)."""

    value: Any = None


class Pruner:
    """One pruning pass over the store; ``stop`` (an Event) ends it between batches."""

    def __init__(
        self,
        db: Database,
        policy: Policy,
        *,
        stop: threading.Event | None = None,
        sleep: Callable[[float], None] = time.sleep,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self.db = db
        self.policy = policy
        self.stop = stop or threading.Event()
        self.sleep = sleep
        self.timer = timer
        self.result = Pruned()
        self.size = max(policy.min_batch, min(policy.batch, policy.max_batch))
        self._own_checkpoints = False  # SQLite: after each batch (see _connection)

    def run(self, now_us: int) -> Pruned:
        started = time.monotonic()
        p = self.policy
        if p.runs_keep_days is not None:
            self.result.runs_by_age = self._runs_by_age(now_us - int(p.runs_keep_days * DAY_US))
        if p.runs_keep_per_job is not None:
            self.result.runs_by_count = self._runs_by_count(p.runs_keep_per_job)
        if p.alerts_keep_days is not None:
            self.result.alerts = self._alerts(now_us - int(p.alerts_keep_days * DAY_US))
        if p.audit_keep_days is not None:
            cutoff = now_us - int(p.audit_keep_days * DAY_US)
            floor = _Floor()
            self.result.audit_events = self._batched(
                lambda conn, limit: self._delete_first(
                    conn, audit_event, [audit_event.c.at < cutoff], audit_event.c.at, limit, floor
                )
            )
        self.result.elapsed_s = time.monotonic() - started
        return self.result

    def _delete_first(
        self,
        conn: Connection,
        table: Table,
        where: list[ColumnElement[bool]],
        order: ColumnElement[Any],
        limit: int,
        floor: _Floor | None = None,
    ) -> int:
        """Delete the first ``limit`` rows of ``table`` (by ``order``) that match ``where``, in
        one statement: the ids stay in the database (no list is read, built and bound in this
        process, which is the scheduler node's). Returns how many rows went.

        ``floor`` (PostgreSQL): where the previous batch of this pass stopped. A deleted row's
        index entries stay until vacuum, and while any older snapshot is open on the server
        the index scan cannot mark them dead: without the floor each batch walked past every
        row deleted before it (after 540,000 deletes, batches of 10 rows took 6 ms), and the
        pass slowed down as it went. Rows below the floor that stayed (running ones) are not
        deletable in this pass anyway; ties with the floor are looked at again (``>=``)."""
        if floor is not None and floor.value is not None:
            where = [*where, order >= floor.value]
        pick = select(table.c.id).where(*where).order_by(order).limit(limit)
        if self.db.is_mysql:
            # MySQL/MariaDB refuse LIMIT in an IN subquery and a subquery on the table deleted
            # from; a derived table (materialised first) is allowed.
            pick = select(pick.subquery().c.id)
        gone = delete(table).where(table.c.id.in_(pick))
        if floor is None or not self.db.is_postgres:
            return int(conn.execute(gone).rowcount)
        # one row back: how many went and the last of them in order
        cte = gone.returning(order.label("k")).cte("gone")
        n, last = conn.execute(select(func.count(), func.max(cte.c.k))).one()
        if last is not None:
            floor.value = last
        return int(n)

    @contextlib.contextmanager
    def _connection(self) -> Iterator[Connection]:
        """The pass's one connection. On SQLite its commits do not checkpoint the WAL: an
        automatic checkpoint (every 1,000 pages, a few batches of deletes) runs inside the
        COMMIT, copying and syncing pages while this process's write turn is still held, and
        made due starts wait 15-30 ms behind it. The pass checkpoints its own pages after each
        batch (:meth:`_checkpoint`), out of the turn: a running node's checkpointer
        (``store.wal_checkpoint``) would copy them too, but in bursts of a few batches."""
        with self.db.engine.connect().execution_options(tw_write=True) as conn:
            if not self.db.is_sqlite:
                yield conn
                return
            self._own_checkpoints = True
            raw: Any = conn.connection.driver_connection
            before = raw.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
            raw.execute("PRAGMA wal_autocheckpoint=0")
            try:
                yield conn
            finally:
                raw.execute(f"PRAGMA wal_autocheckpoint={int(before)}")

    def _checkpoint(self, conn: Connection) -> None:
        """SQLite: copy the WAL's pages into the database without waiting for (or blocking)
        readers and writers (PASSIVE), so the next automatic checkpoint of another
        connection finds little left to do."""
        if self._own_checkpoints:
            conn.connection.driver_connection.execute(  # type: ignore[union-attr]
                "PRAGMA wal_checkpoint(PASSIVE)"
            ).fetchall()

    def _batched(self, batch: Callable[[Connection, int], int]) -> int:
        """Delete one batch per transaction (``batch`` deletes up to its size and says how
        many it did) until a batch comes back short."""
        with self._connection() as conn:
            return self._batches(conn, batch)

    def _batches(self, conn: Connection, batch: Callable[[Connection, int], int]) -> int:
        total = 0
        p = self.policy
        while not self.stop.is_set():
            size = self.size
            started = self.timer()
            with self.db.write_on(conn):
                if self.db.is_postgres:
                    # Its commit need not wait for the WAL flush that the scheduler's start
                    # records wait for (a crash loses a few deletes; the next pass redoes them).
                    conn.exec_driver_sql("SET LOCAL synchronous_commit = off")
                done = batch(conn, size)
            held = self.timer() - started
            total += done
            if done:
                self.result.batches += 1
                self._checkpoint(conn)
            if done < size:
                break
            if held > p.target_s:
                self.size = max(p.min_batch, size // 2)
            elif held < p.target_s / 2:
                self.size = min(p.max_batch, size * 2)
            self.sleep(max(p.pause_s, held * p.duty))
        return total

    def _runs_by_age(self, cutoff: int) -> int:
        where = [run.c.scheduled_for < cutoff, run.c.status.not_in(_ACTIVE)]
        floor = _Floor()
        return self._batched(
            lambda conn, limit: self._delete_first(
                conn, run, where, run.c.scheduled_for, limit, floor
            )
        )

    def _runs_by_count(self, keep: int) -> int:
        with self.db.read() as conn:
            over = [
                r[0]
                for r in conn.execute(
                    select(run.c.job_id).group_by(run.c.job_id).having(func.count() > keep)
                ).all()
            ]
        self.result.jobs_over_count = over
        total = 0
        for job_id in over:
            if self.stop.is_set():
                break
            with self.db.read() as conn:
                # the id of the newest run beyond the ones kept (index job_id, id)
                edge = conn.execute(
                    select(run.c.id)
                    .where(run.c.job_id == job_id)
                    .order_by(run.c.id.desc())
                    .offset(keep)
                    .limit(1)
                ).scalar()
            if edge is None:
                continue
            where = [run.c.job_id == job_id, run.c.id <= edge, run.c.status.not_in(_ACTIVE)]
            floor = _Floor()
            total += self._batched(
                lambda conn, limit, where=where, floor=floor: self._delete_first(  # type: ignore[misc]
                    conn, run, where, run.c.id, limit, floor
                )
            )
        return total

    def _alerts(self, cutoff: int) -> int:
        """Alert history is small next to runs (an alert per outage, not per fire): its
        batches read the ids, since an alert whose delivery is still due must stay."""

        def batch(conn: Connection, limit: int) -> int:
            ids = [
                r[0]
                for r in conn.execute(
                    select(alert.c.id)
                    .where(alert.c.created_at < cutoff)
                    .order_by(alert.c.id)
                    .limit(limit)
                ).all()
            ]
            if not ids:
                return 0
            # an alert whose delivery is still due stays (and so do the later ones)
            waiting = conn.execute(
                select(func.min(alert_delivery.c.alert_id)).where(
                    alert_delivery.c.alert_id.in_(ids),
                    alert_delivery.c.status.in_(["pending", "sending"]),
                )
            ).scalar()
            gone = ids if waiting is None else [i for i in ids if i < waiting]
            if gone:
                conn.execute(delete(alert_attempt).where(alert_attempt.c.alert_id.in_(gone)))
                conn.execute(delete(alert_delivery).where(alert_delivery.c.alert_id.in_(gone)))
                conn.execute(delete(alert).where(alert.c.id.in_(gone)))
            return len(gone)  # cut short by a waiting delivery: the pass ends here

        return self._batched(batch)
