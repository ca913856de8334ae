"""The schema, in SQLAlchemy Core. One definition for SQLite, PostgreSQL and MySQL/MariaDB.

Instants are stored as epoch microseconds (UTC) in BIGINT columns: exact, index-friendly and
free of each dialect's time-zone handling. Free-form parts (target, trigger, tags, params) are
JSON; nothing is pickled.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects import mysql

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING)

# MySQL's TEXT holds 64 KiB; captured logs and tracebacks may be longer in UTF-8.
LongText = Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")
# SQLite only auto-increments an INTEGER PRIMARY KEY (the rowid alias).
RowId = BigInteger().with_variant(Integer(), "sqlite")
# Case-sensitive, exact identifiers on every dialect (MySQL's default collation folds case).
_MYSQL: dict[str, Any] = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_bin",
}

job = Table(
    "tw_job",
    metadata,
    Column("id", String(191), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("group_name", String(100), nullable=False, default="default"),
    Column("tags", JSON, nullable=False),
    Column("target_kind", String(20), nullable=False),
    # python: {"ref": "pkg.mod:func", "args": [], "kwargs": {}}; other kinds: their spec
    Column("target", JSON, nullable=False),
    Column("trigger_kind", String(20), nullable=False),
    Column("trigger", JSON, nullable=False),  # tickwork.triggers spec
    Column("timezone", String(64), nullable=False),
    Column("executor", String(20), nullable=False),
    Column("misfire_policy", String(16), nullable=False),
    Column("misfire_grace_s", Float, nullable=True),  # None: no limit
    Column("max_catchup", Integer, nullable=False),
    Column("concurrency_policy", String(16), nullable=False),
    Column("max_instances", Integer, nullable=False),
    Column("timeout_s", Float, nullable=True),
    Column("retries", Integer, nullable=False),
    Column("retry_backoff_s", Float, nullable=False),
    Column("retry_backoff_max_s", Float, nullable=False),
    Column("secret_keys", JSON, nullable=False),  # kwargs whose values are secrets
    Column("paused", Boolean, nullable=False, default=False),
    Column("owner", String(16), nullable=False),  # code / config / api / cli
    Column("owner_ref", String(255), nullable=True),  # e.g. the job file that defines it
    Column("version", Integer, nullable=False, default=1),
    Column("next_fire_at", BigInteger, nullable=True),  # None: paused or no further fire
    Column("created_at", BigInteger, nullable=False),
    Column("created_by", String(100), nullable=True),
    Column("updated_at", BigInteger, nullable=False),
    Column("updated_by", String(100), nullable=True),
    Index(None, "next_fire_at"),
    Index(None, "group_name"),
    **_MYSQL,
)

# Tags of a job, one row each, so the list filter by tag uses an index on every dialect.
job_tag = Table(
    "tw_job_tag",
    metadata,
    Column("job_id", String(191), primary_key=True),
    Column("tag", String(100), primary_key=True),
    Index(None, "tag", "job_id"),
    **_MYSQL,
)

run = Table(
    "tw_run",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("job_id", String(191), nullable=False),
    Column("scheduled_for", BigInteger, nullable=False),  # the fire instant
    Column("due_at", BigInteger, nullable=False),  # when it may start (later for retries)
    Column("attempt", Integer, nullable=False, default=1),
    Column("retry_of", BigInteger, nullable=True),  # the previous attempt's run id
    Column("reason", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("node_id", String(64), nullable=True),  # the claiming node; None while queued
    Column("cancel_requested", Boolean, nullable=False, default=False),
    Column("created_at", BigInteger, nullable=False),
    Column("started_at", BigInteger, nullable=True),
    Column("finished_at", BigInteger, nullable=True),
    Column("duration_s", Float, nullable=True),
    Column("result", Text, nullable=True),
    Column("error", Text, nullable=True),
    Column("traceback", LongText, nullable=True),
    Column("log", LongText, nullable=True),
    Column("params", JSON, nullable=True),  # overrides of a manual run
    Column("triggered_by", String(100), nullable=True),
    # A missed record may stand for many fires (a downtime): how many, and the last one.
    Column("fires", Integer, nullable=False, server_default="1"),
    Column("last_scheduled_for", BigInteger, nullable=True),
    # The database itself refuses a second record of one fire.
    UniqueConstraint("job_id", "scheduled_for", "attempt"),
    Index(None, "status", "due_at"),
    Index(None, "node_id", "status"),
    Index(None, "job_id", "status"),
    Index(None, "job_id", "id"),  # a job's runs newest first; its last run (API lists)
    Index(None, "scheduled_for"),
    **_MYSQL,
)

node = Table(
    "tw_node",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("host", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("roles", String(64), nullable=False),  # "scheduler", "api", "scheduler,api"
    Column("version", String(32), nullable=False),
    Column("started_at", BigInteger, nullable=False),
    Column("heartbeat_at", BigInteger, nullable=False),
    Column("stopped_at", BigInteger, nullable=True),  # set on clean stop or when reaped
    Column("stop_reason", String(255), nullable=True),
    **_MYSQL,
)

setting = Table(
    "tw_setting",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", JSON, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Column("updated_by", String(100), nullable=True),
    **_MYSQL,
)


# Tables of other modules join the same metadata, so Alembic and the drift test see them.
from tickwork.store import (  # noqa: E402, F401
    tables_alerts,
    tables_audit,
    tables_auth,
    tables_celery,
    tables_groups,
    tables_kinds,
    tables_templates,
    tables_workflows,
)
