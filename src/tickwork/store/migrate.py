"""Schema migrations: ``tickwork db upgrade`` and every start apply them, under a lock."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text

from tickwork.store.database import Database

MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_TABLE = "tw_alembic_version"
_LOCK_NAME = "tickwork_migrate"
_LOCK_KEY = 0x7417_C0DE  # PostgreSQL advisory lock id


def alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(db: Database) -> str | None:
    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
        return ctx.get_current_revision()


def upgrade(db: Database) -> str:
    """Bring the schema to the newest revision; safe when several nodes start at once."""
    with db.write() as conn:
        if db.is_postgres:
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
        elif db.is_mysql:
            conn.execute(text("SELECT GET_LOCK(:n, 120)"), {"n": _LOCK_NAME})
        try:
            command.upgrade(alembic_config(conn), "head")
        finally:
            if db.is_mysql:
                conn.execute(text("SELECT RELEASE_LOCK(:n)"), {"n": _LOCK_NAME})
    return head_revision()
