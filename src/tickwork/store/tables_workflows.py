"""Tables of workflows (DAGs of jobs): definitions, workflow runs (one per fire), the state of
each step in each workflow run (which links the step's run record to its workflow run), and a
job's ``then`` list (the two-level form: run these jobs after it succeeds)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from tickwork.store.tables import _MYSQL, RowId, metadata

workflow = Table(
    "tw_workflow",
    metadata,
    Column("id", String(191), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("description", Text, nullable=False),
    # [{"id", "job", "after": [{"step", "on"}]}]: saved and read whole, validated at save
    Column("steps", JSON, nullable=False),
    Column("trigger", JSON, nullable=True),  # a tickwork.triggers spec; None: by hand / API
    Column("timezone", String(64), nullable=False),
    Column("deadline_s", Float, nullable=True),  # overall deadline of each workflow run
    Column("paused", Boolean, nullable=False),
    Column("next_fire_at", BigInteger, nullable=True),
    Column("owner", String(16), nullable=False),  # python / config / api / cli
    Column("owner_ref", String(255), nullable=True),
    Column("version", Integer, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("created_by", String(100), nullable=True),
    Column("updated_at", BigInteger, nullable=False),
    Column("updated_by", String(100), nullable=True),
    Index(None, "next_fire_at"),
    **_MYSQL,
)

workflow_run = Table(
    "tw_workflow_run",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("workflow_id", String(191), nullable=False),
    Column("scheduled_for", BigInteger, nullable=False),
    Column("reason", String(16), nullable=False),  # schedule, manual, rerun
    Column("status", String(16), nullable=False),  # running, succeeded, failed, timed_out, ...
    Column("steps", JSON, nullable=False),  # the graph as it was at the fire
    Column("deadline_at", BigInteger, nullable=True),
    Column("rerun_of", BigInteger, nullable=True),
    Column("triggered_by", String(100), nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("finished_at", BigInteger, nullable=True),
    Column("error", Text, nullable=True),
    # One workflow run per fire, whichever node fires it.
    UniqueConstraint("workflow_id", "scheduled_for"),
    Index(None, "workflow_id", "id"),
    Index(None, "status", "deadline_at"),
    **_MYSQL,
)

workflow_step_run = Table(
    "tw_workflow_step_run",
    metadata,
    Column("workflow_run_id", BigInteger, primary_key=True),
    Column("step", String(100), primary_key=True),
    Column("job_id", String(191), nullable=False),
    Column("state", String(16), nullable=False),  # waiting, running, succeeded, failed, skipped..
    Column("run_id", BigInteger, nullable=True),  # the step's run record (its first attempt)
    Column("scheduled_for", BigInteger, nullable=True),  # that run's fire: every attempt shares it
    Column("reason", Text, nullable=True),  # why skipped, or the run's error
    Column("carried", Boolean, nullable=False),  # a rerun kept this step's earlier success
    Column("released_at", BigInteger, nullable=True),
    Column("finished_at", BigInteger, nullable=True),
    Index(None, "state", "job_id"),  # the run hook: running steps of the jobs that ended
    Index(None, "job_id", "scheduled_for"),  # a run's step (any attempt), by the run's fire
    Index(None, "run_id"),
    **_MYSQL,
)

job_then = Table(
    "tw_job_then",
    metadata,
    Column("job_id", String(191), primary_key=True),
    Column("next_job_id", String(191), primary_key=True),
    Column("position", Integer, nullable=False),
    Index(None, "next_job_id"),
    **_MYSQL,
)
