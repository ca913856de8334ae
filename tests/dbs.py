"""Real databases for tests: a fresh database per test session on each server, emptied
between tests. Servers come from TICKWORK_TEST_PG / TICKWORK_TEST_MYSQL (admin URLs)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from tickwork.store import Store
from tickwork.store.tables import metadata

PG_ADMIN = os.environ.get("TICKWORK_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
MYSQL_ADMIN = os.environ.get("TICKWORK_TEST_MYSQL", "mysql+pymysql://root@127.0.0.1:3306/test")
SERVER_NAMES = {"postgres": "PostgreSQL", "mysql": "MariaDB/MySQL"}


def admin_url(kind: str) -> str:
    return PG_ADMIN if kind == "postgres" else MYSQL_ADMIN


def reachable(kind: str) -> str | None:
    """None if the server answers, else the reason it does not."""
    engine = sa.create_engine(admin_url(kind), connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        return None
    except Exception as exc:
        return f"{type(exc).__name__}: {str(exc).splitlines()[0][:120]}"
    finally:
        engine.dispose()


def create_database(kind: str) -> Iterator[str]:
    """Create a uniquely named database, yield its URL, drop it afterwards."""
    name = f"tw_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(admin_url(kind), isolation_level="AUTOCOMMIT", pool_pre_ping=True)
    with admin.connect() as conn:
        if kind == "postgres":
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        else:
            conn.execute(sa.text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
    url = make_url(admin_url(kind)).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            if kind == "postgres":
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            else:
                conn.execute(sa.text(f"DROP DATABASE IF EXISTS `{name}`"))
        admin.dispose()


def empty_tables(store: Store) -> None:
    with store.db.write() as conn:
        for table in reversed(metadata.sorted_tables):
            conn.execute(table.delete())
