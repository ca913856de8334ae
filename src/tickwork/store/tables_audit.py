"""The audit trail: one row per mutation (jobs, groups, the scheduler, runs, accounts),
written in the same transaction as the mutation it records."""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Column, Index, String, Table

from tickwork.store.tables import _MYSQL, RowId, metadata

audit_event = Table(
    "tw_audit_event",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("at", BigInteger, nullable=False),
    Column("actor", String(100), nullable=False),  # username, "cli:<user>", "config", ...
    Column("action", String(40), nullable=False),  # job.create, job.pause, run.cancel, ...
    Column("job_id", String(191), nullable=True),
    Column("run_id", BigInteger, nullable=True),
    Column("subject", String(191), nullable=True),  # a group, user or token the action is on
    Column("before", JSON, nullable=True),  # the job (or object) before, secrets redacted
    Column("after", JSON, nullable=True),
    Column("detail", JSON, nullable=True),
    Index(None, "at"),
    Index(None, "actor", "id"),
    Index(None, "job_id", "id"),
    Index(None, "action", "id"),
    **_MYSQL,
)
