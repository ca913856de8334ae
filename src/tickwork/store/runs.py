"""Run rows: the record of every fire. Written by claims, by the outcome writer and by faces."""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from operator import itemgetter
from typing import Any

from sqlalchemy import (
    Connection,
    and_,
    bindparam,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from tickwork.models import ACTIVE_STATUSES, RunStatus
from tickwork.store.database import Database
from tickwork.store.records import RunRecord
from tickwork.store.tables import job, run

_ACTIVE = [s.value for s in ACTIVE_STATUSES]
# The columns an outcome sets, in one order for both finish statements (the hot write path).
_OUTCOME_FIELDS = (
    "status", "started_at", "finished_at", "duration_s", "result", "error", "traceback", "log",
)  # fmt: skip
_outcome_values = itemgetter(*_OUTCOME_FIELDS)
_MAX_RUN_ID = "SELECT COALESCE(MAX(id), 0) FROM tw_run"
_SQLITE_INSERT_RUNS = (
    "INSERT OR IGNORE INTO tw_run (id, job_id, scheduled_for, due_at, attempt, retry_of, "
    "reason, status, node_id, cancel_requested, created_at, finished_at, error, params, "
    "triggered_by, fires, last_scheduled_for) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?)"
)
# The outcome writer's statement on PostgreSQL (RunRepo._finish_postgres): the batch as one
# array per column. The casts type arrays whose elements are all NULL (skips have no start).
_PG_FINISH = (
    "UPDATE tw_run SET status = o.status, started_at = o.started_at, "
    "finished_at = o.finished_at, duration_s = o.duration_s, result = o.result, "
    "error = o.error, traceback = o.traceback, log = o.log "
    "FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::bigint[], %s::bigint[], "
    "%s::float8[], %s::text[], %s::text[], %s::text[], %s::text[]) "
    "AS o(rid, node, status, started_at, finished_at, duration_s, result, error, traceback, "
    "log) WHERE tw_run.id = o.rid AND tw_run.node_id = o.node "
    "AND tw_run.status IN ('scheduled', 'running', 'lost') RETURNING tw_run.id"
)
# The claim's insert on PostgreSQL (RunRepo._insert_many_postgres): an array per column, in
# their order (WITH ORDINALITY: ids follow the list); a duplicate fire is skipped silently.
_PG_INSERT_RUNS = (
    "INSERT INTO tw_run (job_id, scheduled_for, due_at, attempt, retry_of, reason, status, "
    "node_id, cancel_requested, created_at, finished_at, error, params, triggered_by, fires, "
    "last_scheduled_for) "
    "SELECT job_id, scheduled_for, due_at, attempt, retry_of, reason, status, node_id, false, "
    "%s, finished_at, error, params::json, triggered_by, fires, last_scheduled_for "
    "FROM unnest(%s::text[], %s::bigint[], %s::bigint[], %s::int[], %s::bigint[], %s::text[], "
    "%s::text[], %s::text[], %s::bigint[], %s::text[], %s::text[], %s::text[], %s::int[], "
    "%s::bigint[]) WITH ORDINALITY AS r(job_id, scheduled_for, due_at, attempt, retry_of, "
    "reason, status, node_id, finished_at, error, params, triggered_by, fires, "
    "last_scheduled_for, n) ORDER BY n "
    "ON CONFLICT DO NOTHING RETURNING id, job_id, scheduled_for, attempt"
)
# Columns a run list shows; the large text columns (log, traceback) come only with one run.
LIST_COLUMNS = [c for c in run.c if c.name not in ("log", "traceback")]


@dataclass(frozen=True, slots=True)
class RunFilter:
    job_id: str | None = None
    statuses: Collection[str] | None = None
    since: int | None = None  # scheduled_for >= since
    until: int | None = None  # scheduled_for < until
    node_id: str | None = None
    # Leave out the runs of jobs in these groups (groups the caller may not see).
    hidden_groups: frozenset[str] = frozenset()


@dataclass(slots=True)  # not frozen: the claim builds one per fire (frozen __init__ is slower)
class NewRun:
    """A run to record. ``node_id`` set means claimed by that node already."""

    job_id: str
    scheduled_for: int
    due_at: int
    reason: str
    status: str
    attempt: int = 1
    retry_of: int | None = None
    node_id: str | None = None
    finished_at: int | None = None
    error: str | None = None
    params: dict[str, Any] | None = None
    triggered_by: str | None = None
    fires: int = 1  # a counted missed record stands for many fires
    last_scheduled_for: int | None = None

    def row(self, now: int) -> dict[str, Any]:
        return {
            "job_id": self.job_id,
            "scheduled_for": self.scheduled_for,
            "due_at": self.due_at,
            "attempt": self.attempt,
            "retry_of": self.retry_of,
            "reason": self.reason,
            "status": self.status,
            "node_id": self.node_id,
            "cancel_requested": False,
            "created_at": now,
            "finished_at": self.finished_at,
            "error": self.error,
            "params": self.params,
            "triggered_by": self.triggered_by,
            "fires": self.fires,
            "last_scheduled_for": self.last_scheduled_for,
        }


class RunRepo:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._insert_ignore = _insert_ignoring_duplicates(db)

    # -- writes -------------------------------------------------------------------------------
    def insert_many(self, conn: Connection, runs: Sequence[NewRun], now: int) -> list[int | None]:
        """Record runs; the unique key (job, scheduled_for, attempt) silently refuses
        duplicates, whose place in the returned list is None."""
        if not runs:
            return []
        if self.db.is_sqlite:
            return self._insert_many_sqlite(conn, runs, now)
        if self.db.is_postgres:
            return self._insert_many_postgres(conn, runs, now)
        stmt = self._insert_ignore.returning(
            run.c.id, run.c.job_id, run.c.scheduled_for, run.c.attempt
        )
        rows = conn.execute(stmt, [r.row(now) for r in runs]).all()
        ids = {(j, s, a): i for i, j, s, a in rows}
        return [ids.get((r.job_id, r.scheduled_for, r.attempt)) for r in runs]

    def _insert_many_postgres(
        self, conn: Connection, runs: Sequence[NewRun], now: int
    ) -> list[int | None]:
        """PostgreSQL: the claim's insert as one fixed statement over an array per column
        (``_PG_INSERT_RUNS``): nothing compiled or processed per row by SQLAlchemy in the
        loop thread, whose Python work a due fire's dispatcher waits behind for the GIL."""
        cols = _columns([_insert_values(r) for r in runs])
        rows = conn.exec_driver_sql(_PG_INSERT_RUNS, (now, *cols))
        ids = {(j, s, a): int(i) for i, j, s, a in rows}
        return [ids.get((r.job_id, r.scheduled_for, r.attempt)) for r in runs]

    def _insert_many_sqlite(
        self, conn: Connection, runs: Sequence[NewRun], now: int
    ) -> list[int | None]:
        """SQLite: one ``executemany`` of plain SQL with ids chosen here. The transaction holds
        SQLite's only write lock (BEGIN IMMEDIATE), so the next ids are ours; the driver-level
        statement skips SQLAlchemy's per-row parameter handling (the claim's biggest cost)."""
        base = int(conn.exec_driver_sql(_MAX_RUN_ID).scalar_one())
        rows = [
            (
                base + i,
                r.job_id,
                r.scheduled_for,
                r.due_at,
                r.attempt,
                r.retry_of,
                r.reason,
                r.status,
                r.node_id,
                now,
                r.finished_at,
                r.error,
                None if r.params is None else json.dumps(r.params),
                r.triggered_by,
                r.fires,
                r.last_scheduled_for,
            )
            for i, r in enumerate(runs, 1)
        ]
        inserted = conn.exec_driver_sql(_SQLITE_INSERT_RUNS, rows).rowcount
        if inserted == len(rows):
            return [row[0] for row in rows]
        # A duplicate fire was refused (its id was not used): report which rows exist.
        ids = [row[0] for row in rows]
        found = set(conn.execute(select(run.c.id).where(run.c.id.in_(ids))).scalars())
        return [i if i in found else None for i in ids]

    def insert_one(
        self,
        conn: Connection,
        new: NewRun,
        now: int,
        *,
        keep_due: bool = False,
        avoid: Callable[[int], bool] | None = None,
    ) -> int:
        """Record one run, moving its instant by a microsecond on the rare exact collision
        (two manual runs of one job requested in the same microsecond); ``keep_due``: only
        the fire instant moves (a manual run or a workflow step is due now, whatever its
        recorded instant). ``avoid``: instants it must not take even while they are free,
        the fires of the job's schedule, which a claim records later under the same unique
        key and whose record it would refuse."""
        for bump in range(100):
            candidate = replace(
                new,
                scheduled_for=new.scheduled_for + bump,
                due_at=new.due_at + (0 if keep_due else bump),
            )
            if avoid is not None and avoid(candidate.scheduled_for):
                continue
            try:
                with conn.begin_nested():
                    result = conn.execute(insert(run).returning(run.c.id), [candidate.row(now)])
                    return int(result.scalar_one())
            except IntegrityError:
                continue
        raise RuntimeError("could not record the run: 100 collisions")  # pragma: no cover

    def start(self, conn: Connection, node_id: str, items: Sequence[tuple[int, int]]) -> set[int]:
        """Record runs of this node as started (the durable start, before their bodies run);
        returns the ids recorded. A run that is no longer this node's claimed run (handed back
        after the node was declared dead, or cancelled) is left alone: it must not start."""
        if not items:
            return set()
        m = self.db.mark
        ids = [rid for rid, _ in items]
        started_at = {started for _, started in items}
        if len(started_at) == 1 and self.db.is_postgres:  # one batch, one instant: one statement
            returned = conn.exec_driver_sql(
                "UPDATE tw_run SET status = 'running', started_at = %s "
                "WHERE id = ANY(%s) AND node_id = %s AND status = 'scheduled' RETURNING id",
                (next(iter(started_at)), ids, node_id),
            )
            done = {int(rid) for (rid,) in returned}
            if len(done) == len(set(ids)):
                return done
        else:
            if len(started_at) == 1:
                result = conn.exec_driver_sql(
                    f"UPDATE tw_run SET status = 'running', started_at = {m} "
                    f"WHERE id IN ({self.db.marks(len(ids))}) AND node_id = {m} "
                    "AND status = 'scheduled'",
                    (next(iter(started_at)), *ids, node_id),
                )
            else:
                result = conn.exec_driver_sql(
                    f"UPDATE tw_run SET status = 'running', started_at = {m} "
                    f"WHERE id = {m} AND node_id = {m} AND status = 'scheduled'",
                    [(started, rid, node_id) for rid, started in items],
                )
            if result.rowcount == len(set(ids)):
                return set(ids)
        # Some were not this node's claims any more (or a retried batch was recorded before):
        # the runs started at this batch's instant are this batch's.
        wanted = dict(items)
        rows = conn.execute(
            select(run.c.id, run.c.started_at).where(
                run.c.id.in_(ids), run.c.node_id == node_id, run.c.status == "running"
            )
        ).all()
        return {rid for rid, started in rows if wanted[rid] == started}

    def finish(self, conn: Connection, outcomes: Sequence[dict[str, Any]]) -> set[int]:
        """Write outcomes of runs; each names the node that claimed its run (``node_id``).
        Returns the ids written. An outcome lands on its run while the run is that node's and
        unfinished, or ``lost`` (its node was declared dead but lived on: what really became
        of the run is worth more than the guess); any other run is left alone."""
        if not outcomes:
            return set()
        if self.db.is_postgres:
            return self._finish_postgres(conn, outcomes)
        m = self.db.mark
        # Plain SQL through the driver's executemany: the outcome writer's hot statement.
        assigns = ", ".join(f"{name} = {m}" for name in _OUTCOME_FIELDS)
        result = conn.exec_driver_sql(
            f"UPDATE tw_run SET {assigns} "
            f"WHERE id = {m} AND node_id = {m} AND status IN ('scheduled', 'running', 'lost')",
            [(*_outcome_values(o), o["id"], o["node_id"]) for o in outcomes],
        )
        ids = {o["id"] for o in outcomes}
        if result.rowcount == len(ids):
            return ids
        # Some were not ours any more: find the ones we wrote.
        wanted = {o["id"]: (o["node_id"], o["status"], o["finished_at"]) for o in outcomes}
        rows = conn.execute(
            select(run.c.id, run.c.node_id, run.c.status, run.c.finished_at).where(
                run.c.id.in_(ids)
            )
        ).all()
        return {rid for rid, node, status, fin in rows if wanted[rid] == (node, status, fin)}

    def _finish_postgres(self, conn: Connection, outcomes: Sequence[dict[str, Any]]) -> set[int]:
        """PostgreSQL: one fixed ``UPDATE ... FROM unnest(arrays) RETURNING id`` per batch.
        One statement instead of one per run (a 20,000-run burst spent most of its time in
        the pipelined statements); RETURNING names exactly the runs written. Its text never
        changes, so nothing is compiled per batch (compiling a ``VALUES`` list of the batch
        was 60 % of the writer thread's GIL time at 200 runs/s, time a due fire's dispatcher
        waited for) and the driver prepares it once per connection."""
        cols = _columns((o["id"], o["node_id"], *_outcome_values(o)) for o in outcomes)
        rows = conn.exec_driver_sql(_PG_FINISH, tuple(cols))
        return {int(rid) for (rid,) in rows}

    def lost_of(self, conn: Connection, run_ids: Collection[int]) -> set[int]:
        """Which of these runs are recorded ``lost`` now."""
        if not run_ids:
            return set()
        query = select(run.c.id).where(run.c.id.in_(list(run_ids)), run.c.status == "lost")
        return set(conn.execute(query).scalars())

    def cancel_queued_retries(
        self, conn: Connection, of_run_ids: Collection[int], now: int, reason: str
    ) -> int:
        """Cancel queued retries of runs that turned out to have succeeded after all."""
        if not of_run_ids:
            return 0
        result = conn.execute(
            update(run)
            .where(
                run.c.retry_of.in_(list(of_run_ids)),
                run.c.status == RunStatus.SCHEDULED.value,
                run.c.node_id.is_(None),
            )
            .values(status=RunStatus.CANCELLED.value, finished_at=now, error=reason)
        )
        return int(result.rowcount or 0)

    def reap(
        self, conn: Connection, node_ids: Collection[str], now: int, reason: str
    ) -> tuple[list[RunRecord], int]:
        """Settle the unfinished runs of nodes that are gone: a run whose start was recorded
        ends ``lost`` (returned as it was, for the retry policy); a claimed run that never
        started goes back to the queue for any node (its count is returned)."""
        if not node_ids:
            return [], 0
        query = select(*LIST_COLUMNS).where(
            run.c.node_id.in_(list(node_ids)), run.c.status.in_(_ACTIVE)
        )
        if self.db.skip_locked:
            query = query.with_for_update(skip_locked=True)
        active = [RunRecord.from_row(r) for r in conn.execute(query).mappings()]
        started = [r for r in active if r.status == RunStatus.RUNNING.value]
        unstarted = [r.id for r in active if r.status == RunStatus.SCHEDULED.value]
        if started:
            conn.execute(
                update(run)
                .where(
                    run.c.id.in_([r.id for r in started]),
                    run.c.status == RunStatus.RUNNING.value,
                )
                .values(status=RunStatus.LOST.value, finished_at=now, error=reason)
            )
        released = 0
        for chunk in range(0, len(unstarted), 1000):
            released += self._release_ids(conn, unstarted[chunk : chunk + 1000], None)
        return started, released

    def stopped_nodes_with_runs(self, conn: Connection) -> dict[str, str]:
        """Nodes that stopped (cleanly, replaced or declared dead) and still hold unfinished
        runs, with the reason they stopped."""
        from tickwork.store.tables import node

        query = (
            select(node.c.id, node.c.stop_reason)
            .join(run, node.c.id == run.c.node_id)
            .where(run.c.status.in_(_ACTIVE), node.c.stopped_at.is_not(None))
            .distinct()
        )
        return {str(n): str(why or "stopped") for n, why in conn.execute(query).all()}

    def write_live_logs(
        self, conn: Connection, node_id: str, logs: Sequence[tuple[int, str]]
    ) -> None:
        """Store the log so far of running runs (never over a finished run's final log)."""
        conn.execute(
            update(run)
            .where(
                run.c.id == bindparam("rid"),
                run.c.node_id == node_id,
                # its start may not be written yet; a finished run is never touched
                or_(
                    run.c.status == RunStatus.SCHEDULED.value,
                    run.c.status == RunStatus.RUNNING.value,
                ),
            )
            .values(log=bindparam("text")),
            [{"rid": rid, "text": text} for rid, text in logs],
        )

    def release(self, conn: Connection, node_id: str, run_ids: Collection[int]) -> int:
        """Hand claimed, never-started runs back to the queue (clean shutdown, fencing)."""
        released = 0
        ids = list(run_ids)
        for chunk in range(0, len(ids), 1000):
            released += self._release_ids(conn, ids[chunk : chunk + 1000], node_id)
        return released

    def _release_ids(self, conn: Connection, ids: list[int], node_id: str | None) -> int:
        if not ids:
            return 0
        conds = [run.c.id.in_(ids), run.c.status == RunStatus.SCHEDULED.value]
        if node_id is not None:
            conds.append(run.c.node_id == node_id)
        result = conn.execute(update(run).where(*conds).values(node_id=None))
        return int(result.rowcount or 0)

    def request_cancel(self, conn: Connection, run_id: int, now: int, reason: str) -> str | None:
        """Cancel a queued run at once, or flag a claimed one for its node. Returns the
        run's status afterwards (None if there is no such run)."""
        row = conn.execute(
            select(run.c.status, run.c.node_id, run.c.published_at).where(run.c.id == run_id)
        ).first()
        if row is None:
            return None
        status, node_id, published_at = row
        if status == RunStatus.SCHEDULED.value and (node_id is None or published_at is not None):
            # Queued, or handed to Celery and not started: a worker's guarded start that
            # comes later finds it cancelled and drops the message.
            waiting = run.c.node_id.is_(None) | run.c.published_at.is_not(None)
            result = conn.execute(
                update(run)
                .where(run.c.id == run_id, run.c.status == status, waiting)
                .values(status=RunStatus.CANCELLED.value, finished_at=now, error=reason)
            )
            if result.rowcount == 1:
                return RunStatus.CANCELLED.value
            return self.request_cancel(conn, run_id, now, reason)  # it started meanwhile
        if status in _ACTIVE:
            # The reason travels in the error column to the run's node (its outcome then
            # writes the final error).
            conn.execute(
                update(run)
                .where(run.c.id == run_id, run.c.status.in_(_ACTIVE))
                .values(cancel_requested=True, error=reason)
            )
        return str(status)

    # -- claims of queued runs ----------------------------------------------------------------
    def claim_queued(
        self, conn: Connection, node_id: str, horizon: int, limit: int
    ) -> list[RunRecord]:
        query = (
            select(*LIST_COLUMNS)
            .where(
                run.c.status == RunStatus.SCHEDULED.value,
                run.c.node_id.is_(None),
                run.c.due_at <= horizon,
            )
            .order_by(run.c.due_at)
            .limit(limit)
        )
        if self.db.skip_locked:
            query = query.with_for_update(skip_locked=True)
        rows = [RunRecord.from_row(r) for r in conn.execute(query).mappings()]
        if rows:
            conn.execute(
                update(run)
                .where(run.c.id.in_([r.id for r in rows]), run.c.node_id.is_(None))
                .values(node_id=node_id)
            )
        return rows

    # -- reads --------------------------------------------------------------------------------
    def get(self, conn: Connection, run_id: int) -> RunRecord | None:
        row = conn.execute(select(run).where(run.c.id == run_id)).mappings().first()
        return RunRecord.from_row(row) if row else None

    def page(
        self,
        conn: Connection,
        flt: RunFilter = RunFilter(),
        *,
        before_id: int | None = None,
        limit: int = 100,
    ) -> list[RunRecord]:
        """Newest first; ``before_id`` is the cursor of the next page."""
        query = select(*LIST_COLUMNS).where(*_conditions(flt)).order_by(run.c.id.desc())
        if before_id is not None:
            query = query.where(run.c.id < before_id)
        return [RunRecord.from_row(r) for r in conn.execute(query.limit(limit)).mappings()]

    def active_counts(
        self, conn: Connection, job_ids: Collection[str], *, exclude_node: str | None = None
    ) -> dict[str, int]:
        if not job_ids:
            return {}
        query = (
            select(run.c.job_id, func.count())
            .where(run.c.job_id.in_(list(job_ids)), run.c.status.in_(_ACTIVE))
            .group_by(run.c.job_id)
        )
        if exclude_node is not None:
            query = query.where((run.c.node_id != exclude_node) | run.c.node_id.is_(None))
        return {j: int(n) for j, n in conn.execute(query).all()}

    def active_ids_of_job(
        self, conn: Connection, job_id: str, *, exclude_node: str | None = None
    ) -> list[int]:
        query = select(run.c.id).where(run.c.job_id == job_id, run.c.status.in_(_ACTIVE))
        if exclude_node is not None:
            query = query.where((run.c.node_id != exclude_node) | run.c.node_id.is_(None))
        return list(conn.execute(query).scalars())

    def next_queued_due(self, conn: Connection) -> int | None:
        query = select(func.min(run.c.due_at)).where(
            run.c.status == RunStatus.SCHEDULED.value, run.c.node_id.is_(None)
        )
        return conn.execute(query).scalar_one()  # type: ignore[no-any-return]

    def cancel_requests(self, conn: Connection, node_id: str) -> list[tuple[int, str]]:
        """(run id, reason) of this node's runs asked to be cancelled."""
        query = select(run.c.id, run.c.error).where(
            run.c.node_id == node_id, run.c.status.in_(_ACTIVE), run.c.cancel_requested.is_(True)
        )
        return [(rid, why or "cancelled on request") for rid, why in conn.execute(query).all()]

    def count(self, conn: Connection, flt: RunFilter = RunFilter()) -> int:
        query = select(func.count()).select_from(run).where(*_conditions(flt))
        return int(conn.execute(query).scalar_one())


def _conditions(flt: RunFilter) -> list[Any]:
    conds: list[Any] = []
    if flt.job_id is not None:
        conds.append(run.c.job_id == flt.job_id)
    if flt.statuses:
        conds.append(run.c.status.in_(list(flt.statuses)))
    if flt.since is not None:
        conds.append(run.c.scheduled_for >= flt.since)
    if flt.until is not None:
        conds.append(run.c.scheduled_for < flt.until)
    if flt.node_id is not None:
        conds.append(run.c.node_id == flt.node_id)
    if flt.hidden_groups:
        conds.append(outside_groups(flt.hidden_groups))
    return [and_(*conds)] if conds else []


def outside_groups(hidden: Collection[str]) -> Any:
    """Runs whose job is in none of ``hidden`` (the runs of deleted jobs included)."""
    return run.c.job_id.not_in(select(job.c.id).where(job.c.group_name.in_(sorted(hidden))))


def _insert_ignoring_duplicates(db: Database) -> Any:
    if db.is_postgres:
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(run).on_conflict_do_nothing()
    if db.is_sqlite:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(run).on_conflict_do_nothing()
    return insert(run).prefix_with("IGNORE")


def _columns(rows: Iterable[tuple[Any, ...]]) -> list[list[Any]]:
    """Rows (at least one) as one list per column: the arrays PostgreSQL's ``unnest`` takes
    (the driver adapts lists, not tuples, to arrays)."""
    return [list(column) for column in zip(*rows, strict=True)]


def _insert_values(r: NewRun) -> tuple[Any, ...]:
    """A new run's values in _PG_INSERT_RUNS' array order."""
    params = None if r.params is None else json.dumps(r.params)
    return (
        r.job_id, r.scheduled_for, r.due_at, r.attempt, r.retry_of, r.reason, r.status,
        r.node_id, r.finished_at, r.error, params, r.triggered_by, r.fires, r.last_scheduled_for,
    )  # fmt: skip
