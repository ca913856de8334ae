"""A built-in's database session: one connection per run, with statement and lock timeouts set
for the whole session, identifiers checked against the catalog and quoted, and the errors a
missing privilege raises turned into findings.

Every statement a built-in sends goes through :class:`Db`; nothing is interpolated but
identifiers that the catalog returned (and the dialect quoted) and integers.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from tickwork.builtins.result import Report
from tickwork.targets.base import TargetFailed

APPLICATION_NAME = "tickwork-builtin"  # PostgreSQL: how cleanup_connection_pool knows its own
# (PostgreSQL SQLSTATE, MySQL error numbers) of a missing privilege
_PG_PRIVILEGE = {"42501"}
_MY_PRIVILEGE = {1044, 1045, 1142, 1143, 1227, 1095, 1370, 1449}


class Refused(Exception):
    """A built-in cannot do what its spec asks (an unknown table or column): the run fails
    with this message, before anything was changed."""


@dataclass(slots=True)
class TableInfo:
    schema: str | None
    name: str
    columns: dict[str, str]  # name -> type text
    primary_key: list[str]
    indexes: list[tuple[str, list[str], bool]] = field(default_factory=list)  # name, cols, unique

    def has_leading_index(self, column: str) -> bool:
        return (self.primary_key[:1] == [column]) or any(
            cols[:1] == [column] for _, cols, _ in self.indexes
        )


def privilege_error(exc: BaseException) -> bool:
    orig = getattr(exc, "orig", exc)
    state = getattr(orig, "sqlstate", None) or getattr(
        getattr(orig, "diag", None), "sqlstate", None
    )
    if state in _PG_PRIVILEGE:
        return True
    args: tuple[Any, ...] = tuple(getattr(orig, "args", ()))
    return bool(args) and isinstance(args[0], int) and args[0] in _MY_PRIVILEGE


def error_text(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip().splitlines()
    return text[0][:300] if text else type(orig).__name__


class Db:
    """One connection to the job's database for one run."""

    def __init__(self, url: str, statement_timeout_s: float, lock_timeout_s: float) -> None:
        import sqlalchemy as sa
        from sqlalchemy.pool import NullPool

        self.url = sa.engine.make_url(url)
        self.statement_timeout_s = statement_timeout_s
        self.lock_timeout_s = lock_timeout_s
        backend = self.url.get_backend_name()
        args: dict[str, Any] = {}
        if backend == "postgresql":
            args = {"connect_timeout": 10, "application_name": APPLICATION_NAME}
        elif backend in ("mysql", "mariadb"):
            args = {"connect_timeout": 10}
        self.engine = sa.create_engine(self.url, poolclass=NullPool, connect_args=args)
        self._lock = threading.Lock()
        self._stopped = False
        self.conn: Any = None
        started = time.monotonic()
        try:
            self.conn = self.engine.connect()
        except Exception as exc:
            self.engine.dispose()
            raise ConnectionError(error_text(exc)) from None
        self.connect_ms = (time.monotonic() - started) * 1000
        self.dialect = self.conn.dialect.name  # postgresql, mysql, sqlite
        if self.dialect == "mariadb":
            self.dialect = "mysql"
        self.mariadb = bool(getattr(self.conn.dialect, "is_mariadb", False))
        self.raw = self.conn.connection.dbapi_connection
        self._session_settings()
        self.session_id = self._session_id()

    # -- session -------------------------------------------------------------------------
    def _session_settings(self) -> None:
        ms = max(1, int(self.statement_timeout_s * 1000))
        lock_ms = max(1, int(self.lock_timeout_s * 1000))
        if self.dialect == "postgresql":
            self.conn.exec_driver_sql(f"SET statement_timeout = {ms}")
            self.conn.exec_driver_sql(f"SET lock_timeout = {lock_ms}")
            self.conn.exec_driver_sql("SET idle_in_transaction_session_timeout = 60000")
        elif self.dialect == "mysql":
            if self.mariadb:
                self.conn.exec_driver_sql(
                    f"SET SESSION max_statement_time = {self.statement_timeout_s:.3f}"
                )
            else:
                self.conn.exec_driver_sql(f"SET SESSION max_execution_time = {ms}")
            seconds = max(1, round(self.lock_timeout_s))
            self.conn.exec_driver_sql(f"SET SESSION innodb_lock_wait_timeout = {seconds}")
            self.conn.exec_driver_sql(f"SET SESSION lock_wait_timeout = {seconds}")
        elif self.dialect == "sqlite":
            self.conn.exec_driver_sql(f"PRAGMA busy_timeout = {lock_ms}")
            deadline: list[float] = [0.0]
            self._sqlite_deadline = deadline

            def handler() -> int:
                return int(deadline[0] and time.monotonic() > deadline[0])

            self.raw.set_progress_handler(handler, 1000)
        self.conn.commit()

    def _session_id(self) -> int | None:
        if self.dialect == "postgresql":
            return int(self.scalar("SELECT pg_backend_pid()"))
        if self.dialect == "mysql":
            return int(self.scalar("SELECT CONNECTION_ID()"))
        return None

    def close(self) -> None:
        with self._lock:
            conn, self.conn = self.conn, None
        if conn is not None:
            try:
                conn.rollback()
                conn.close()
            except Exception:
                conn.invalidate()
        self.engine.dispose()

    def stop(self) -> None:
        """Interrupt the statement running now (from another thread) and refuse the next."""
        self._stopped = True
        raw = self.raw
        try:
            if self.dialect == "sqlite":
                raw.interrupt()
            elif self.dialect == "postgresql":
                (getattr(raw, "cancel_safe", None) or raw.cancel)()
            elif self.dialect == "mysql" and self.session_id is not None:
                import pymysql

                u = self.url
                killer = pymysql.connect(
                    host=u.host or "localhost", port=u.port or 3306, user=u.username or "",
                    password=u.password or "", connect_timeout=5,
                )  # fmt: skip
                try:
                    with killer.cursor() as cursor:
                        cursor.execute("KILL QUERY %s", (int(self.session_id),))
                finally:
                    killer.close()
        except Exception:  # the statement may have ended meanwhile; its timeout still applies
            pass

    @property
    def stopped(self) -> bool:
        return self._stopped

    # -- statements -----------------------------------------------------------------------
    def _run(self, sql: str, params: Mapping[str, Any] | None) -> Any:
        import sqlalchemy as sa

        if self._stopped:
            raise TargetFailed("stopped")
        if self.dialect == "sqlite":
            self._sqlite_deadline[0] = time.monotonic() + self.statement_timeout_s
        return self.conn.execute(sa.text(sql), dict(params or {}))

    def rows(self, sql: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """The rows of a query, each a mapping; the read's transaction is ended at once (a
        maintenance job never leaves a snapshot open)."""
        try:
            result = self._run(sql, params)
            out = [dict(r._mapping) for r in result.fetchmany(10_000)]
        finally:
            self.end()
        return out

    def tuples(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        """Like :meth:`rows`, as plain tuples (the retention job reads thousands)."""
        try:
            out = [tuple(r) for r in self._run(sql, params).fetchmany(100_000)]
        finally:
            self.end()
        return out

    def delete_in(self, head: str, column_sql: str, keys: Sequence[Any], tail: str,
                  tail_params: Sequence[Any]) -> int:  # fmt: skip
        """``{head} WHERE {column} IN (keys){tail}`` inside :meth:`transaction`; the row
        count. ``tail`` binds its values with ``?``. PostgreSQL binds the keys as one array;
        the others through the driver directly (a thousand bound values through SQLAlchemy's
        text() cost more than the DELETE itself)."""
        if self._stopped:
            raise TargetFailed("stopped")
        if self.dialect == "sqlite":
            self._sqlite_deadline[0] = time.monotonic() + self.statement_timeout_s
        if self.dialect == "postgresql":
            marks = iter(f"%(t{i})s" for i in range(tail.count("?")))
            sql = f"{head} WHERE {column_sql} = ANY(%(keys)s){_fill(tail, marks)}"
            params: Any = {"keys": list(keys), **{f"t{i}": v for i, v in enumerate(tail_params)}}
        else:
            mark = "?" if self.dialect == "sqlite" else "%s"
            in_marks = ", ".join(mark for _ in keys)
            sql = f"{head} WHERE {column_sql} IN ({in_marks}){tail.replace('?', mark)}"
            params = (*keys, *tail_params)
        result = self.conn.exec_driver_sql(sql, params)
        return int(result.rowcount or 0)

    def scalar(self, sql: str, params: Mapping[str, Any] | None = None) -> Any:
        try:
            return self._run(sql, params).scalar()
        finally:
            self.end()

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> int:
        """A statement in its own transaction (committed); its row count."""
        try:
            result = self._run(sql, params)
            count = int(result.rowcount or 0)
            self.conn.commit()
            return count
        except BaseException:
            self.end()
            raise

    def end(self) -> None:
        if self.conn is not None:
            self.conn.rollback()

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        """Statements in one transaction, committed at the end, rolled back on an error."""
        try:
            yield self
            self.conn.commit()
        except BaseException:
            self.end()
            raise

    def autocommit(self, sql: str) -> None:
        """A statement that cannot run in a transaction (CREATE INDEX CONCURRENTLY)."""
        if self._stopped:
            raise TargetFailed("stopped")
        self.end()
        self.conn.connection.dbapi_connection.autocommit = True
        try:
            self.conn.exec_driver_sql(sql)
        finally:
            self.conn.connection.dbapi_connection.autocommit = False

    # -- identifiers ----------------------------------------------------------------------
    def quote(self, name: str) -> str:
        return str(self.conn.dialect.identifier_preparer.quote_identifier(name))

    def qualified(self, table: TableInfo) -> str:
        if table.schema:
            return f"{self.quote(table.schema)}.{self.quote(table.name)}"
        return self.quote(table.name)

    def current_schema(self) -> str | None:
        if self.dialect == "postgresql":
            return str(self.scalar("SELECT current_schema()"))
        if self.dialect == "mysql":
            value = self.scalar("SELECT DATABASE()")
            return None if value is None else str(value)
        return None

    def table(self, spec_name: str, field_name: str = "table") -> TableInfo:
        """The table ``spec_name`` ("name" or "schema.name") as the catalog has it; Refused
        when there is none (names are matched exactly, never interpolated)."""
        import sqlalchemy as sa

        schema, _, name = spec_name.rpartition(".")
        try:
            inspector = sa.inspect(self.conn)
            schemas = inspector.get_schema_names() if schema else []
            if schema and schema not in schemas:
                raise Refused(f"{field_name}: schema {schema!r} does not exist")
            names = inspector.get_table_names(schema=schema or None)
            if name not in names:
                raise Refused(f"{field_name}: table {spec_name!r} does not exist")
            columns = {
                str(c["name"]): str(c["type"])
                for c in inspector.get_columns(name, schema=schema or None)
            }
            pk = list(
                inspector.get_pk_constraint(name, schema=schema or None)["constrained_columns"]
            )
            indexes = [
                (str(i["name"]), [str(c) for c in i["column_names"] if c], bool(i["unique"]))
                for i in inspector.get_indexes(name, schema=schema or None)
            ]
        finally:
            self.end()
        return TableInfo(schema or None, name, columns, pk, indexes)

    def column(self, table: TableInfo, name: Any, field_name: str) -> str:
        if not isinstance(name, str) or name not in table.columns:
            raise Refused(f"{field_name}: table {table.name!r} has no column {name!r}")
        return name


def _fill(text: str, marks: Iterator[str]) -> str:
    return "".join(next(marks) if ch == "?" else ch for ch in text)


def user_grants_mysql(db: Db) -> set[str]:
    """The global privileges of the MySQL/MariaDB user this session logged in as."""
    rows = db.rows(
        "SELECT PRIVILEGE_TYPE AS p FROM information_schema.USER_PRIVILEGES WHERE GRANTEE = "
        "CONCAT('''', SUBSTRING_INDEX(CURRENT_USER(), '@', 1), '''@''', "
        "SUBSTRING_INDEX(CURRENT_USER(), '@', -1), '''')"
    )
    return {str(r["p"]).upper() for r in rows}


def pg_can(db: Db, role: str) -> bool:
    """Whether this PostgreSQL session is a superuser or a member of ``role``
    (pg_read_all_stats, pg_signal_backend, pg_monitor)."""
    return bool(
        db.scalar(
            "SELECT rolsuper OR pg_has_role(current_user, :role, 'MEMBER') FROM pg_roles "
            "WHERE rolname = current_user",
            {"role": role},
        )
    )


def missing_privilege(report: Report, what: str, action: str, exc: BaseException | None) -> None:
    detail = f": {error_text(exc)}" if exc is not None else ""
    report.finding("warning", "privileges", f"the connection's user may not {what}{detail}", action)
