"""Tables of the job kinds: named connections (credentials sealed by the vault) and scripts
with their immutable versions."""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Column, Integer, String, Table, Text, UniqueConstraint

from tickwork.store.tables import _MYSQL, LongText, RowId, metadata

connection = Table(
    "tw_connection",
    metadata,
    Column("name", String(63), primary_key=True),
    Column("kind", String(20), nullable=False),  # database, redis, http, smtp
    Column("description", Text, nullable=False),
    Column("public", JSON, nullable=False),  # what may be shown (URL without password, host)
    Column("secret", Text, nullable=True),  # sealed JSON of the secret fields (vault)
    Column("version", Integer, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("created_by", String(100), nullable=True),
    Column("updated_at", BigInteger, nullable=False),
    Column("updated_by", String(100), nullable=True),
    **_MYSQL,
)

script = Table(
    "tw_script",
    metadata,
    Column("name", String(63), primary_key=True),
    Column("language", String(16), nullable=False),  # python, bash
    Column("description", Text, nullable=False),
    Column("latest_version", Integer, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("created_by", String(100), nullable=True),
    Column("updated_at", BigInteger, nullable=False),
    Column("updated_by", String(100), nullable=True),
    **_MYSQL,
)

# Versions are only ever inserted: a save is a new version, a rollback too.
script_version = Table(
    "tw_script_version",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("script_name", String(63), nullable=False),
    Column("version", Integer, nullable=False),
    Column("code", LongText, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("message", String(500), nullable=False),
    Column("author", String(100), nullable=True),
    Column("created_at", BigInteger, nullable=False),
    UniqueConstraint("script_name", "version"),
    **_MYSQL,
)
