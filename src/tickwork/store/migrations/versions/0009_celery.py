"""Distributed execution on Celery: a job's queue, a run's hand-over (queue, published_at) and
the workers' table.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_MYSQL: dict[str, Any] = {
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_bin",
    "mysql_engine": "InnoDB",
}


def upgrade() -> None:
    with op.batch_alter_table("tw_job") as batch:
        batch.add_column(sa.Column("queue", sa.String(length=100), nullable=True))
    with op.batch_alter_table("tw_run") as batch:
        batch.add_column(sa.Column("queue", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("published_at", sa.BigInteger(), nullable=True))
    op.create_index("ix_tw_run_queue_status", "tw_run", ["queue", "status"])
    op.create_table(
        "tw_worker",
        sa.Column("node_id", sa.String(length=64), nullable=False),
        sa.Column("queues", sa.String(length=1000), nullable=False),
        sa.Column("concurrency", sa.Integer(), nullable=False),
        sa.Column("broker", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("node_id", name=op.f("pk_tw_worker")),
        **_MYSQL,
    )


def downgrade() -> None:
    op.drop_table("tw_worker")
    op.drop_index("ix_tw_run_queue_status", table_name="tw_run")
    with op.batch_alter_table("tw_run") as batch:
        batch.drop_column("published_at")
        batch.drop_column("queue")
    with op.batch_alter_table("tw_job") as batch:
        batch.drop_column("queue")
