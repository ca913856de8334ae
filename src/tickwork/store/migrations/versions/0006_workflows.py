"""Workflows (DAGs of jobs): definitions, workflow runs, step states, and a job's then list.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_MYSQL: dict[str, Any] = {
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_bin",
    "mysql_engine": "InnoDB",
}
_ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "tw_workflow",
        sa.Column("id", sa.String(length=191), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("steps", sa.JSON(), nullable=False),
        sa.Column("trigger", sa.JSON(), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("deadline_s", sa.Float(), nullable=True),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("next_fire_at", sa.BigInteger(), nullable=True),
        sa.Column("owner", sa.String(length=16), nullable=False),
        sa.Column("owner_ref", sa.String(length=255), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=True),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_by", sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tw_workflow")),
        **_MYSQL,
    )
    op.create_index(op.f("ix_tw_workflow_next_fire_at"), "tw_workflow", ["next_fire_at"])
    op.create_table(
        "tw_workflow_run",
        sa.Column("id", _ROW_ID, autoincrement=True, nullable=False),
        sa.Column("workflow_id", sa.String(length=191), nullable=False),
        sa.Column("scheduled_for", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("steps", sa.JSON(), nullable=False),
        sa.Column("deadline_at", sa.BigInteger(), nullable=True),
        sa.Column("rerun_of", sa.BigInteger(), nullable=True),
        sa.Column("triggered_by", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("finished_at", sa.BigInteger(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tw_workflow_run")),
        sa.UniqueConstraint(
            "workflow_id",
            "scheduled_for",
            name=op.f("uq_tw_workflow_run_workflow_id_scheduled_for"),
        ),
        **_MYSQL,
    )
    op.create_index(
        op.f("ix_tw_workflow_run_workflow_id_id"), "tw_workflow_run", ["workflow_id", "id"]
    )
    op.create_index(
        op.f("ix_tw_workflow_run_status_deadline_at"),
        "tw_workflow_run",
        ["status", "deadline_at"],
    )
    op.create_table(
        "tw_workflow_step_run",
        sa.Column("workflow_run_id", sa.BigInteger(), nullable=False),
        sa.Column("step", sa.String(length=100), nullable=False),
        sa.Column("job_id", sa.String(length=191), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("run_id", sa.BigInteger(), nullable=True),
        sa.Column("scheduled_for", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("carried", sa.Boolean(), nullable=False),
        sa.Column("released_at", sa.BigInteger(), nullable=True),
        sa.Column("finished_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("workflow_run_id", "step", name=op.f("pk_tw_workflow_step_run")),
        **_MYSQL,
    )
    op.create_index(
        op.f("ix_tw_workflow_step_run_state_job_id"), "tw_workflow_step_run", ["state", "job_id"]
    )
    op.create_index(
        op.f("ix_tw_workflow_step_run_job_id_scheduled_for"),
        "tw_workflow_step_run",
        ["job_id", "scheduled_for"],
    )
    op.create_index(op.f("ix_tw_workflow_step_run_run_id"), "tw_workflow_step_run", ["run_id"])
    op.create_table(
        "tw_job_then",
        sa.Column("job_id", sa.String(length=191), nullable=False),
        sa.Column("next_job_id", sa.String(length=191), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("job_id", "next_job_id", name=op.f("pk_tw_job_then")),
        **_MYSQL,
    )
    op.create_index(op.f("ix_tw_job_then_next_job_id"), "tw_job_then", ["next_job_id"])


def downgrade() -> None:
    op.drop_table("tw_job_then")
    op.drop_table("tw_workflow_step_run")
    op.drop_table("tw_workflow_run")
    op.drop_table("tw_workflow")
