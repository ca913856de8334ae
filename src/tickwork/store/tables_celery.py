"""Distributed execution on Celery: a job's queue, a run's hand-over to Celery, and the
workers' own row (queues and concurrency) beside their node row.

The queue columns are appended to the job and run tables here, so the core table module stays
as it was; Alembic and the drift test see them through the shared metadata."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table

from tickwork.store.tables import _MYSQL, job, metadata, run

# The Celery queue a job's runs go to (None: the scheduler node's own executors).
job.append_column(Column("queue", String(100), nullable=True))
# Set when the run was handed to Celery (its message published): the queue, and when.
run.append_column(Column("queue", String(100), nullable=True))
run.append_column(Column("published_at", BigInteger, nullable=True))
Index("ix_tw_run_queue_status", run.c.queue, run.c.status)

worker = Table(
    "tw_worker",
    metadata,
    Column("node_id", String(64), primary_key=True),  # its row in tw_node (role "worker")
    Column("queues", String(1000), nullable=False),  # comma-separated
    Column("concurrency", Integer, nullable=False),
    Column("broker", String(255), nullable=False),  # without its password
    **_MYSQL,
)
