"""Login throttling per (account, address) and per address with growing delays, counted
before the password is checked (replaces the per-account lockout of tw_login_attempt).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
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
        "tw_login_throttle",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", sa.BigInteger(), nullable=False),
        sa.Column("blocked_until", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_tw_login_throttle")),
        **_MYSQL,
    )
    op.create_index(
        op.f("ix_tw_login_throttle_last_failure_at"),
        "tw_login_throttle",
        ["last_failure_at"],
        unique=False,
    )
    op.drop_index(op.f("ix_tw_login_attempt_username_at"), table_name="tw_login_attempt")
    op.drop_index(op.f("ix_tw_login_attempt_at"), table_name="tw_login_attempt")
    op.drop_index(op.f("ix_tw_login_attempt_address_at"), table_name="tw_login_attempt")
    op.drop_table("tw_login_attempt")


def downgrade() -> None:
    op.create_table(
        "tw_login_attempt",
        sa.Column("id", _ROW_ID, autoincrement=True, nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tw_login_attempt")),
        **_MYSQL,
    )
    op.create_index(
        op.f("ix_tw_login_attempt_address_at"), "tw_login_attempt", ["address", "at"], unique=False
    )
    op.create_index(op.f("ix_tw_login_attempt_at"), "tw_login_attempt", ["at"], unique=False)
    op.create_index(
        op.f("ix_tw_login_attempt_username_at"),
        "tw_login_attempt",
        ["username", "at"],
        unique=False,
    )
    op.drop_index(op.f("ix_tw_login_throttle_last_failure_at"), table_name="tw_login_throttle")
    op.drop_table("tw_login_throttle")
