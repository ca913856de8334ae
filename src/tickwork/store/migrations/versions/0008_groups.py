"""Groups as objects (description, owner, default time zone and policies) and users' roles
per group.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_MYSQL: dict[str, Any] = {
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_bin",
    "mysql_engine": "InnoDB",
}


def upgrade() -> None:
    op.create_table(
        "tw_group",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(length=100), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=True),
        sa.Column("defaults", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=True),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_by", sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_tw_group")),
        **_MYSQL,
    )
    op.create_table(
        "tw_group_grant",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("group_name", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint("user_id", "group_name", name=op.f("pk_tw_group_grant")),
        **_MYSQL,
    )
    op.create_index(
        op.f("ix_tw_group_grant_group_name"), "tw_group_grant", ["group_name"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_tw_group_grant_group_name"), table_name="tw_group_grant")
    op.drop_table("tw_group_grant")
    op.drop_table("tw_group")
