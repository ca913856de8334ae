"""Alerts: channels, rules, the rule-and-job state, alerts, the delivery outbox and every
delivery attempt.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_MYSQL: dict[str, Any] = {
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_bin",
    "mysql_engine": "InnoDB",
}
_ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _stamps() -> list[sa.Column[Any]]:
    return [
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=True),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_by", sa.String(length=100), nullable=True),
    ]


def upgrade() -> None:
    op.create_table(
        "tw_alert_channel",
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("public", sa.JSON(), nullable=False),
        sa.Column("secret", sa.Text(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        *_stamps(),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_tw_alert_channel")),
        **_MYSQL,
    )
    op.create_table(
        "tw_alert_rule",
        sa.Column("id", sa.String(length=63), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("scope", sa.String(length=8), nullable=False),
        sa.Column("scope_value", sa.String(length=191), nullable=True),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("severity", sa.String(length=10), nullable=False),
        sa.Column("dedupe_s", sa.Integer(), nullable=False),
        sa.Column("quiet", sa.JSON(), nullable=True),
        sa.Column("channels", sa.JSON(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        *_stamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tw_alert_rule")),
        **_MYSQL,
    )
    op.create_table(
        "tw_alert_state",
        sa.Column("rule_id", sa.String(length=63), nullable=False),
        sa.Column("job_id", sa.String(length=191), nullable=False),
        sa.Column("window_until", sa.BigInteger(), nullable=False),
        sa.Column("suppressed", sa.Integer(), nullable=False),
        sa.Column("alerting", sa.Boolean(), nullable=False),
        sa.Column("last_event_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("rule_id", "job_id", name=op.f("pk_tw_alert_state")),
        **_MYSQL,
    )
    op.create_index(op.f("ix_tw_alert_state_job_id"), "tw_alert_state", ["job_id"])
    op.create_table(
        "tw_alert",
        sa.Column("id", _ROW_ID, autoincrement=True, nullable=False),
        sa.Column("rule_id", sa.String(length=63), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("job_id", sa.String(length=191), nullable=True),
        sa.Column("run_id", sa.BigInteger(), nullable=True),
        sa.Column("severity", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tw_alert")),
        **_MYSQL,
    )
    op.create_index(op.f("ix_tw_alert_created_at"), "tw_alert", ["created_at"])
    op.create_index(op.f("ix_tw_alert_job_id_id"), "tw_alert", ["job_id", "id"])
    op.create_index(op.f("ix_tw_alert_rule_id_id"), "tw_alert", ["rule_id", "id"])
    op.create_table(
        "tw_alert_delivery",
        sa.Column("id", _ROW_ID, autoincrement=True, nullable=False),
        sa.Column("alert_id", sa.BigInteger(), nullable=False),
        sa.Column("channel", sa.String(length=63), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.BigInteger(), nullable=False),
        sa.Column("lease_until", sa.BigInteger(), nullable=True),
        sa.Column("node_id", sa.String(length=64), nullable=True),
        sa.Column("delivered_at", sa.BigInteger(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tw_alert_delivery")),
        **_MYSQL,
    )
    op.create_index(
        op.f("ix_tw_alert_delivery_status_next_attempt_at"),
        "tw_alert_delivery",
        ["status", "next_attempt_at"],
    )
    op.create_index(op.f("ix_tw_alert_delivery_alert_id"), "tw_alert_delivery", ["alert_id"])
    op.create_table(
        "tw_alert_attempt",
        sa.Column("id", _ROW_ID, autoincrement=True, nullable=False),
        sa.Column("delivery_id", sa.BigInteger(), nullable=False),
        sa.Column("alert_id", sa.BigInteger(), nullable=False),
        sa.Column("channel", sa.String(length=63), nullable=False),
        sa.Column("node_id", sa.String(length=64), nullable=True),
        sa.Column("started_at", sa.BigInteger(), nullable=False),
        sa.Column("finished_at", sa.BigInteger(), nullable=True),
        sa.Column("ok", sa.Boolean(), nullable=True),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("response", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tw_alert_attempt")),
        **_MYSQL,
    )
    op.create_index(
        op.f("ix_tw_alert_attempt_channel_started_at"),
        "tw_alert_attempt",
        ["channel", "started_at"],
    )
    op.create_index(op.f("ix_tw_alert_attempt_delivery_id"), "tw_alert_attempt", ["delivery_id"])
    op.create_index(op.f("ix_tw_alert_attempt_started_at"), "tw_alert_attempt", ["started_at"])


def downgrade() -> None:
    for name in (
        "tw_alert_attempt",
        "tw_alert_delivery",
        "tw_alert",
        "tw_alert_state",
        "tw_alert_rule",
        "tw_alert_channel",
    ):
        op.drop_table(name)
