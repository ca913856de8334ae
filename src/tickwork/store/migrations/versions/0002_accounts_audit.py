"""Accounts (users, API tokens, sessions, login attempts), the audit trail, and an index of
a job's runs newest first.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_MYSQL: dict[str, Any] = {
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_bin",
    "mysql_engine": "InnoDB",
}
_ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_index(op.f("ix_tw_run_job_id_id"), "tw_run", ["job_id", "id"], unique=False)

    op.create_table(
        "tw_user",
        sa.Column("id", _ROW_ID, autoincrement=True, nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=True),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("password_changed_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tw_user")),
        sa.UniqueConstraint("username", name=op.f("uq_tw_user_username")),
        **_MYSQL,
    )

    op.create_table(
        "tw_api_token",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=True),
        sa.Column("last_used_at", sa.BigInteger(), nullable=True),
        sa.Column("revoked_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tw_api_token")),
        sa.UniqueConstraint("digest", name=op.f("uq_tw_api_token_digest")),
        **_MYSQL,
    )
    op.create_index(op.f("ix_tw_api_token_user_id"), "tw_api_token", ["user_id"], unique=False)

    op.create_table(
        "tw_session",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("absolute_expires_at", sa.BigInteger(), nullable=False),
        sa.Column("last_seen_at", sa.BigInteger(), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_tw_session")),
        **_MYSQL,
    )
    op.create_index(op.f("ix_tw_session_expires_at"), "tw_session", ["expires_at"], unique=False)
    op.create_index(op.f("ix_tw_session_user_id"), "tw_session", ["user_id"], unique=False)

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

    op.create_table(
        "tw_audit_event",
        sa.Column("id", _ROW_ID, autoincrement=True, nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("job_id", sa.String(length=191), nullable=True),
        sa.Column("run_id", sa.BigInteger(), nullable=True),
        sa.Column("subject", sa.String(length=191), nullable=True),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tw_audit_event")),
        **_MYSQL,
    )
    op.create_index(
        op.f("ix_tw_audit_event_action_id"), "tw_audit_event", ["action", "id"], unique=False
    )
    op.create_index(
        op.f("ix_tw_audit_event_actor_id"), "tw_audit_event", ["actor", "id"], unique=False
    )
    op.create_index(op.f("ix_tw_audit_event_at"), "tw_audit_event", ["at"], unique=False)
    op.create_index(
        op.f("ix_tw_audit_event_job_id_id"), "tw_audit_event", ["job_id", "id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_tw_audit_event_job_id_id"), table_name="tw_audit_event")
    op.drop_index(op.f("ix_tw_audit_event_at"), table_name="tw_audit_event")
    op.drop_index(op.f("ix_tw_audit_event_actor_id"), table_name="tw_audit_event")
    op.drop_index(op.f("ix_tw_audit_event_action_id"), table_name="tw_audit_event")
    op.drop_table("tw_audit_event")
    op.drop_index(op.f("ix_tw_login_attempt_username_at"), table_name="tw_login_attempt")
    op.drop_index(op.f("ix_tw_login_attempt_at"), table_name="tw_login_attempt")
    op.drop_index(op.f("ix_tw_login_attempt_address_at"), table_name="tw_login_attempt")
    op.drop_table("tw_login_attempt")
    op.drop_index(op.f("ix_tw_session_user_id"), table_name="tw_session")
    op.drop_index(op.f("ix_tw_session_expires_at"), table_name="tw_session")
    op.drop_table("tw_session")
    op.drop_index(op.f("ix_tw_api_token_user_id"), table_name="tw_api_token")
    op.drop_table("tw_api_token")
    op.drop_table("tw_user")
    op.drop_index(op.f("ix_tw_run_job_id_id"), table_name="tw_run")
