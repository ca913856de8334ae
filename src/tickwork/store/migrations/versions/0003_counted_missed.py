"""A missed record may account for many fires: how many (``fires``) and the last one
(``last_scheduled_for``; its first is ``scheduled_for``). Every other run accounts for one.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tw_run") as batch:
        batch.add_column(sa.Column("fires", sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(sa.Column("last_scheduled_for", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tw_run") as batch:
        batch.drop_column("last_scheduled_for")
        batch.drop_column("fires")
