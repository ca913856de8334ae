"""Schema migrations: ``tickwork db upgrade`` and every start apply them, under a lock."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Connection, text

from tickwork.store.database import Database

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).parent / "migrations"
_ALEMBIC_LOCK = threading.RLock()  # Alembic's logger is process-wide: one redirect at a time


class _ToDebug(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        log.debug("alembic: %s", record.getMessage())


@contextlib.contextmanager
def _alembic_at_debug() -> Iterator[None]:
    """While Tickwork migrates, Alembic's records go to ``tickwork.store.migrate`` at DEBUG
    instead of propagating to the application's handlers (and a host's own Alembic logging
    is left as it was afterwards)."""
    alembic = logging.getLogger("alembic")
    handler = _ToDebug()
    with _ALEMBIC_LOCK:
        propagate, level = alembic.propagate, alembic.level
        alembic.addHandler(handler)
        alembic.propagate = False
        if log.isEnabledFor(logging.DEBUG):
            alembic.setLevel(logging.INFO)  # so that its records exist to be forwarded
        try:
            yield
        finally:
            alembic.removeHandler(handler)
            alembic.propagate = propagate
            alembic.setLevel(level)


# Importing Alembic logs a line per plugin at INFO: those go to DEBUG as well.
with _alembic_at_debug():
    from alembic import command
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
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
    """Bring the schema to the newest revision; safe when several nodes start at once.

    Quiet when embedded: Alembic's own log lines ("Context impl", "Will assume transactional
    DDL", "Running upgrade") go to Tickwork's logger at DEBUG, never into the host
    application's log; one INFO line says so when a migration actually ran."""
    head = head_revision()
    with _alembic_at_debug():
        if current_revision(db) == head:
            return head
        with db.write() as conn:
            if db.is_postgres:
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
            elif db.is_mysql:
                conn.execute(text("SELECT GET_LOCK(:n, 120)"), {"n": _LOCK_NAME})
            try:
                ctx = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
                before = ctx.get_current_revision()
                if before != head:
                    command.upgrade(alembic_config(conn), "head")
            finally:
                if db.is_mysql:
                    conn.execute(text("SELECT RELEASE_LOCK(:n)"), {"n": _LOCK_NAME})
    if before != head:
        log.info(
            "database schema of %s migrated from %s to %s",
            db.display_url,
            before or "an empty database",
            head,
        )
    return head
