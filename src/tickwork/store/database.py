"""Connections to the one SQL database every node shares, with each dialect's settings."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from tickwork.errors import InvalidInput
from tickwork.store.write_turn import WriteTurn

# Drivers Tickwork installs with its extras; a bare "postgresql://" would pick psycopg2.
_DEFAULT_DRIVERS = {
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mariadb+pymysql",
    "sqlite": "sqlite+pysqlite",
}


def normalise_url(url: str) -> URL:
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise InvalidInput("database_url", f"not a database URL: {exc}") from None
    if parsed.drivername in _DEFAULT_DRIVERS:
        parsed = parsed.set(drivername=_DEFAULT_DRIVERS[parsed.drivername])
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql", "mysql", "mariadb"):
        raise InvalidInput(
            "database_url", f"unsupported database {backend!r}; use sqlite, postgresql or mysql"
        )
    if backend == "sqlite" and parsed.database in (None, "", ":memory:"):
        raise InvalidInput("database_url", "SQLite needs a file path (sqlite:///path/to/file.db)")
    return parsed


@dataclass
class _Unit:
    """A unit of work in progress: its one connection, and what runs once it commits."""

    db: Database
    conn: Connection
    after_commit: list[Callable[[], None]] = field(default_factory=list)


_unit: ContextVar[_Unit | None] = ContextVar("tickwork_unit_of_work", default=None)


class Database:
    """An SQLAlchemy engine plus what the store needs to know about its dialect."""

    def __init__(self, url: str, *, pool_size: int = 8, echo: bool = False) -> None:
        self.url = normalise_url(url)
        self.backend = self.url.get_backend_name()
        self.is_sqlite = self.backend == "sqlite"
        self.is_mysql = self.backend in ("mysql", "mariadb")
        self.is_postgres = self.backend == "postgresql"
        kwargs: dict[str, Any] = {"echo": echo, "pool_pre_ping": True}
        if self.is_sqlite:
            path = Path(self.url.database or "")
            _private_sqlite_file(path)
            self.sqlite_path: Path | None = path.resolve()
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
            kwargs["pool_size"] = pool_size
        else:
            self.sqlite_path = None
            kwargs["pool_size"] = pool_size
            kwargs["max_overflow"] = pool_size
            kwargs["pool_recycle"] = 1800
            kwargs["isolation_level"] = "READ COMMITTED"
            if self.is_postgres and "application_name" not in self.url.query:
                # how the cleanup_connection_pool built-in knows Tickwork's own sessions
                kwargs["connect_args"] = {"application_name": "tickwork-store"}
        self.engine: Engine = create_engine(self.url, **kwargs)
        # SQLite: the WAL pages after which a COMMIT checkpoints (0 while a node's
        # WalCheckpointer does it off the write turn); connections follow it at checkout.
        self.autocheckpoint = 1000
        if self.is_sqlite:
            _configure_sqlite(self.engine, self)
        self._write_turn = WriteTurn() if self.is_sqlite else None
        # Row locks that other claimers skip: PostgreSQL 9.5+, MySQL 8, MariaDB 10.6+.
        self.skip_locked = not self.is_sqlite
        # The driver's placeholder, for the few hot statements sent as plain SQL.
        self.mark = "?" if self.engine.dialect.paramstyle == "qmark" else "%s"

    def marks(self, n: int) -> str:
        """``n`` comma-separated placeholders of the driver."""
        return ", ".join([self.mark] * n)

    @property
    def display_url(self) -> str:
        """The URL with its password hidden, for logs and pages."""
        return self.url.render_as_string(hide_password=True)

    @contextlib.contextmanager
    def unit(self) -> Iterator[None]:
        """One transaction for every write and read of this context (thread, task) until it
        ends: it commits when the block ends, or nothing is written at all. The API runs each
        write request in one, its response built inside, so a request that fails after a
        change (a response that cannot be rendered) leaves the database as it was. Inside,
        ``write()`` and ``read()`` are savepoints of the unit's connection, and callbacks
        given to ``after_commit`` wait for the commit (and are dropped on a rollback)."""
        current = _unit.get()
        if current is not None and current.db is self:
            yield
            return
        with self.write() as conn:
            state = _Unit(self, conn)
            token = _unit.set(state)
            try:
                yield
            finally:
                _unit.reset(token)
        for callback in state.after_commit:
            callback()

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` now, or when the unit of work in progress commits."""
        state = _unit.get()
        if state is not None and state.db is self:
            state.after_commit.append(callback)
        else:
            callback()

    def _joined(self) -> Connection | None:
        state = _unit.get()
        return state.conn if state is not None and state.db is self else None

    @contextlib.contextmanager
    def write(self, *, urgent: bool = False) -> Iterator[Connection]:
        """A transaction that will write. On SQLite it takes the write lock up front
        (BEGIN IMMEDIATE), so it never fails half-way on a lock upgrade.

        On SQLite the threads of this process also take turns on a Python lock first: SQLite
        has one writer at a time anyway, and a thread that finds the database locked waits
        in SQLite's busy handler, which sleeps in steps of up to 100 ms, however soon the
        lock is free again. Between processes the busy handler still applies.

        ``urgent`` (the dispatcher's start records, which due runs wait for) goes before the
        ordinary writers of this process that wait for their turn (``WriteTurn``).

        Inside a ``unit()`` of this context it is a savepoint of the unit's transaction."""
        joined = self._joined()
        if joined is not None:
            with joined.begin_nested():
                yield joined
            return
        if self._write_turn is None:
            with self.engine.connect().execution_options(tw_write=True) as conn, conn.begin():
                yield conn
            return
        with (
            self._write_turn.taken(urgent),
            self.engine.connect().execution_options(tw_write=True) as conn,
            conn.begin(),
        ):
            yield conn

    @contextlib.contextmanager
    def write_on(self, conn: Connection) -> Iterator[Connection]:
        """Like :meth:`write`, on a connection the caller holds (opened with
        ``execution_options(tw_write=True)``) and has set up for itself; the write turn is
        taken the same way."""
        turn = self._write_turn.taken() if self._write_turn else contextlib.nullcontext()
        with turn, conn.begin():
            yield conn

    @contextlib.contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only transaction (a consistent snapshot where the dialect gives one)."""
        joined = self._joined()
        if joined is not None:
            with joined.begin_nested():
                yield joined
            return
        with self.engine.connect() as conn, conn.begin():
            yield conn

    def set_autocheckpoint(self, pages: int) -> None:
        """SQLite: checkpoint in a COMMIT past ``pages`` WAL pages (0: never; see
        ``store.wal_checkpoint``); each connection takes it at its next checkout."""
        self.autocheckpoint = pages

    def dispose(self) -> None:
        self.engine.dispose()


def _private_sqlite_file(path: Path) -> None:
    """The database holds job definitions and run logs: its directory is created 0700 and
    the file 0600 (SQLite gives its -wal and -shm files the database file's mode), and an
    existing file readable by others is tightened."""
    import os
    import stat

    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for name in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            try:
                st = name.stat()
                if stat.S_IMODE(st.st_mode) & 0o077 and st.st_uid == os.getuid():
                    name.chmod(0o600)
            except (FileNotFoundError, PermissionError):
                pass
    else:
        os.close(fd)


def _configure_sqlite(engine: Engine, db: Database) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take transaction control from pysqlite so BEGIN IMMEDIATE is possible.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")  # durable at checkpoints; WAL keeps it safe
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        if record.info.get("tw_autocheckpoint", 1000) != db.autocheckpoint:
            dbapi_conn.execute(f"PRAGMA wal_autocheckpoint={int(db.autocheckpoint)}")
            record.info["tw_autocheckpoint"] = db.autocheckpoint

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get("tw_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
