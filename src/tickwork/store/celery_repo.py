"""Runs handed to Celery and the workers that run them: the hand-over, the worker's guarded
start, and the queue figures (backlog, workers, throughput) every face shows.

A run goes to Celery in two steps, each durable before the next: the scheduler node that
claimed it records the hand-over (``queue`` and ``published_at`` on the still ``scheduled``
run), then publishes a message whose task id is the run id. The worker that receives the
message starts the run with one conditional UPDATE (``scheduled`` and handed over ->
``running`` on this worker); a second message of the same run (a retried publish, a broker's
redelivery) finds it running or ended and is dropped. So a run starts at most once, however
often its message arrives.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, delete, func, insert, select, update

from tickwork.models import RunStatus
from tickwork.store.database import Database
from tickwork.store.tables import node, run
from tickwork.store.tables_celery import worker

_SCHEDULED = RunStatus.SCHEDULED.value
_RUNNING = RunStatus.RUNNING.value


@dataclass(frozen=True, slots=True)
class QueueFigures:
    """One Celery queue right now."""

    queue: str
    backlog: int  # handed to Celery, not started by a worker yet
    running: int  # started on a worker, not ended
    workers: int  # live workers consuming the queue
    concurrency: int  # their runs at once, together
    runs_per_min: float  # runs of the queue that ended in the last minute
    oldest_waiting_s: float | None  # how long the oldest backlog run has waited


@dataclass(frozen=True, slots=True)
class WorkerInfo:
    node_id: str
    host: str
    pid: int
    queues: list[str]
    concurrency: int
    broker: str
    started_at: int
    heartbeat_at: int
    running: list[int]  # ids of its runs now


class CeleryRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- the scheduler's side -----------------------------------------------------------------
    def hand_over(
        self, conn: Connection, node_id: str, queue: str, run_ids: Sequence[int], now: int
    ) -> set[int]:
        """Record that these claimed runs of ``node_id`` go to Celery on ``queue``; returns
        the ids recorded (a run no longer this node's claim, or cancelled, is left alone)."""
        if not run_ids:
            return set()
        ids = list(run_ids)
        result = conn.execute(
            update(run)
            .where(run.c.id.in_(ids), run.c.node_id == node_id, run.c.status == _SCHEDULED)
            .values(queue=queue, published_at=now)
        )
        if result.rowcount == len(set(ids)):
            return set(ids)
        rows = conn.execute(
            select(run.c.id).where(
                run.c.id.in_(ids),
                run.c.node_id == node_id,
                run.c.status == _SCHEDULED,
                run.c.published_at == now,
            )
        )
        return set(rows.scalars())

    def in_flight(
        self, conn: Connection, job_ids: Collection[str], exclude: Collection[int]
    ) -> dict[str, int]:
        """Instances of these jobs on Celery: handed over and waiting, or running anywhere
        (a worker or a node); the runs in ``exclude`` (being handed over now) not counted."""
        if not job_ids:
            return {}
        query = (
            select(run.c.job_id, func.count())
            .where(
                run.c.job_id.in_(list(job_ids)),
                (run.c.status == _RUNNING)
                | ((run.c.status == _SCHEDULED) & run.c.published_at.is_not(None)),
            )
            .group_by(run.c.job_id)
        )
        if exclude:
            query = query.where(run.c.id.not_in(list(exclude)))
        return {j: int(n) for j, n in conn.execute(query).all()}

    def stranded(
        self, conn: Connection, before: int, now: int, limit: int = 500
    ) -> list[tuple[int, str]]:
        """Handed-over runs published before ``before`` and not started, on queues where a
        live worker has a free slot right now (a message waiting for a slot is not lost),
        marked published again at ``now``: (run id, queue) pairs, each taken by one node only
        (the mark is conditional on the old publish time)."""
        idle = {q for w in self.workers(conn) if len(w.running) < w.concurrency for q in w.queues}
        if not idle:
            return []
        ids = list(
            conn.execute(
                select(run.c.id)
                .where(
                    run.c.queue.in_(sorted(idle)),
                    run.c.status == _SCHEDULED,
                    run.c.published_at < before,
                )
                .order_by(run.c.id)
                .limit(limit)
            ).scalars()
        )
        if not ids:
            return []
        conn.execute(
            update(run)
            .where(run.c.id.in_(ids), run.c.status == _SCHEDULED, run.c.published_at < before)
            .values(published_at=now)
        )
        rows = conn.execute(
            select(run.c.id, run.c.queue).where(
                run.c.id.in_(ids), run.c.status == _SCHEDULED, run.c.published_at == now
            )
        )
        return [(int(rid), str(q)) for rid, q in rows.all()]

    # -- the worker's side --------------------------------------------------------------------
    def start(self, conn: Connection, run_id: int, worker_id: str, now: int) -> bool:
        """The worker's durable start: only a handed-over run that no one started yet."""
        result = conn.execute(
            update(run)
            .where(
                run.c.id == run_id,
                run.c.status == _SCHEDULED,
                run.c.published_at.is_not(None),
            )
            .values(status=_RUNNING, node_id=worker_id, started_at=now)
        )
        return result.rowcount == 1

    def register_worker(
        self, conn: Connection, node_id: str, queues: Sequence[str], concurrency: int, broker: str
    ) -> None:
        conn.execute(delete(worker).where(worker.c.node_id == node_id))
        conn.execute(
            insert(worker),
            [
                {
                    "node_id": node_id,
                    "queues": ",".join(queues)[:1000],
                    "concurrency": concurrency,
                    "broker": broker[:255],
                }
            ],
        )

    # -- figures ------------------------------------------------------------------------------
    def workers(self, conn: Connection) -> list[WorkerInfo]:
        """Live workers with their queues, concurrency and current runs."""
        rows = conn.execute(
            select(
                node.c.id,
                node.c.host,
                node.c.pid,
                node.c.started_at,
                node.c.heartbeat_at,
                worker.c.queues,
                worker.c.concurrency,
                worker.c.broker,
            )
            .join(worker, worker.c.node_id == node.c.id)
            .where(node.c.stopped_at.is_(None))
            .order_by(node.c.started_at)
        ).all()
        if not rows:
            return []
        running: dict[str, list[int]] = {r[0]: [] for r in rows}
        for rid, nid in conn.execute(
            select(run.c.id, run.c.node_id).where(
                run.c.node_id.in_(list(running)), run.c.status == _RUNNING
            )
        ).all():
            running[nid].append(int(rid))
        return [
            WorkerInfo(
                node_id=nid,
                host=host,
                pid=int(pid),
                queues=[q for q in queues.split(",") if q],
                concurrency=int(conc),
                broker=broker,
                started_at=int(started),
                heartbeat_at=int(beat),
                running=sorted(running[nid]),
            )
            for nid, host, pid, started, beat, queues, conc, broker in rows
        ]

    def queue_figures(self, conn: Connection, now: int) -> list[QueueFigures]:
        """Per queue: backlog, running, live workers, runs ended in the last minute, and the
        wait of the oldest backlog run. Queues of jobs without any run yet are listed too."""
        backlog = {
            q: (int(n), oldest)
            for q, n, oldest in conn.execute(
                select(run.c.queue, func.count(), func.min(run.c.published_at))
                .where(run.c.queue.is_not(None), run.c.status == _SCHEDULED)
                .group_by(run.c.queue)
            ).all()
        }
        running: dict[str, int] = dict(
            conn.execute(
                select(run.c.queue, func.count())
                .where(run.c.queue.is_not(None), run.c.status == _RUNNING)
                .group_by(run.c.queue)
            ).all()
        )
        ended: dict[str, int] = dict(
            conn.execute(
                select(run.c.queue, func.count())
                .where(
                    run.c.queue.is_not(None),
                    run.c.finished_at >= now - 60_000_000,
                    run.c.status.not_in([_SCHEDULED, _RUNNING]),
                )
                .group_by(run.c.queue)
            ).all()
        )
        from tickwork.store.tables import job

        names = set(backlog) | set(running) | set(ended)
        names |= {
            q for q in conn.execute(select(job.c.queue).distinct()).scalars() if q is not None
        }
        live = self.workers(conn)
        for w in live:
            names |= set(w.queues)
        out = []
        for q in sorted(names):
            n, oldest = backlog.get(q, (0, None))
            consumers = [w for w in live if q in w.queues]
            out.append(
                QueueFigures(
                    queue=q,
                    backlog=n,
                    running=int(running.get(q, 0)),
                    workers=len(consumers),
                    concurrency=sum(w.concurrency for w in consumers),
                    runs_per_min=float(ended.get(q, 0)),
                    oldest_waiting_s=None if oldest is None else max(0.0, (now - oldest) / 1e6),
                )
            )
        return out
