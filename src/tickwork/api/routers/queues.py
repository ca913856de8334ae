"""/api/queues: Celery queues (backlog, workers, throughput, oldest waiting run) and the
workers with their heartbeat, concurrency and current runs (docs/celery.md)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from tickwork.accounts.roles import Role
from tickwork.api import convert
from tickwork.api.security import TW, route
from tickwork.service import Tickwork
from tickwork.store.celery_repo import CeleryRepo, QueueFigures, WorkerInfo

router = APIRouter()


class QueueOut(BaseModel):
    queue: str
    backlog: int = Field(description="runs handed to Celery and not started by a worker yet")
    running: int = Field(description="runs of the queue running on workers now")
    workers: int = Field(description="live workers consuming the queue")
    concurrency: int = Field(description="their runs at once, together")
    runs_per_min: float = Field(description="runs of the queue that ended in the last minute")
    oldest_waiting_s: float | None = Field(description="wait of the oldest backlog run")


class WorkerOut(BaseModel):
    node_id: str
    host: str
    pid: int
    queues: list[str]
    concurrency: int
    broker: str = Field(description="the broker URL without its password")
    started_at: str
    heartbeat_at: str
    heartbeat_age_s: float
    running: list[int] = Field(description="ids of the runs running on it now")


class QueuesOut(BaseModel):
    queues: list[QueueOut]
    workers: list[WorkerOut]


def queue_status(tw: Tickwork) -> tuple[list[QueueFigures], list[WorkerInfo], int]:
    """(queues, workers, now) from the shared database (every node sees the same)."""
    now = tw.clock.now_us()
    repo = CeleryRepo(tw.store.db)
    with tw.store.db.read() as conn:
        return repo.queue_figures(conn, now), repo.workers(conn), now


@route(router, "GET", "/api/queues", role=Role.VIEWER, response_model=QueuesOut, tags=["queues"])
def get_queues(tw: TW) -> QueuesOut:
    """Per Celery queue: backlog, running runs, live workers, runs per minute and the oldest
    waiting run; the live workers with heartbeat, concurrency and current runs."""
    figures, workers, now = queue_status(tw)
    return QueuesOut(
        queues=[
            QueueOut(
                queue=f.queue,
                backlog=f.backlog,
                running=f.running,
                workers=f.workers,
                concurrency=f.concurrency,
                runs_per_min=f.runs_per_min,
                oldest_waiting_s=None
                if f.oldest_waiting_s is None
                else round(f.oldest_waiting_s, 3),
            )
            for f in figures
        ],
        workers=[
            WorkerOut(
                node_id=w.node_id,
                host=w.host,
                pid=w.pid,
                queues=w.queues,
                concurrency=w.concurrency,
                broker=w.broker,
                started_at=convert.iso_required(w.started_at),
                heartbeat_at=convert.iso_required(w.heartbeat_at),
                heartbeat_age_s=round(max(0.0, (now - w.heartbeat_at) / 1e6), 3),
                running=w.running,
            )
            for w in workers
        ],
    )
