"""The SQL kind: run one statement on a named database connection.

``{kind: sql, connection: name, statement: "...", params: {...}, read_only: false,
timeout_s: ...}``. Parameters are bound (``:name`` in the statement), never interpolated; a
manual run's declared parameters are bound the same way, so the statement never changes. The
statement timeout is enforced by the server where the dialect has one (PostgreSQL ``SET LOCAL
statement_timeout``; MariaDB ``max_statement_time``; MySQL ``max_execution_time``, which
covers SELECT only) and by a progress handler on SQLite; a cancel or the job's timeout
interrupts the statement (PostgreSQL cancel request, MySQL ``KILL QUERY``, SQLite
``interrupt()``). The result is the row count and, for a query, the first rows (bounded).
Engines (and their connection pools) are kept per connection URL in the worker.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import threading
import uuid
from collections.abc import Mapping
from typing import Any

from tickwork.targets.base import (
    Execution,
    Kind,
    Output,
    References,
    TargetFailed,
    Text,
    bool_field,
    connection_name,
    number_field,
    only_keys,
    refuse,
    text_field,
)

FIELDS = ("connection", "statement", "params", "read_only", "timeout_s", "max_rows")
MAX_STATEMENT = 100_000
ROWS_KEPT = 20  # default rows of a query kept in the result
MAX_ROWS = 200
CELL_CHARS = 500
COUNT_UP_TO = 1_000_000  # rows of a query counted beyond those kept

_engines: dict[str, Any] = {}
_engines_lock = threading.Lock()


def engine_for(url: str) -> Any:
    """One engine (with its pool) per connection URL in this process."""
    engine = _engines.get(url)
    if engine is not None:
        return engine
    import sqlalchemy as sa

    with _engines_lock:
        engine = _engines.get(url)
        if engine is None:
            # Every use ends its transaction itself (commit, or rollback on an error or for
            # read_only), so the pool's own rollback on return would be one more round trip.
            options: dict[str, Any] = {"pool_recycle": 600, "pool_reset_on_return": None}
            if not url.startswith("sqlite"):
                # Connections stay open for the next runs (an overflow one is closed after
                # each use, and a new MySQL connection costs a TLS context and a login).
                options.update(pool_size=10, max_overflow=20)
            if url.startswith("postgresql") and "application_name" not in url:
                # Tickwork's own sessions to the job's database (cleanup_connection_pool)
                options["connect_args"] = {"application_name": "tickwork-sql"}
            engine = sa.create_engine(url, **options)
            _engines[url] = engine
    return engine


def dispose_engines() -> None:
    with _engines_lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


def jsonable(value: Any) -> Any:
    """A database value as JSON (dates as ISO 8601, decimals and UUIDs as text, bytes as
    base64), long texts cut."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return value if len(value) <= CELL_CHARS else value[:CELL_CHARS] + "..."
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        data = bytes(value)
        text = base64.b64encode(data[:CELL_CHARS]).decode()
        return f"base64:{text}" + ("..." if len(data) > CELL_CHARS else "")
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value[:50]]
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in list(value.items())[:50]}
    return jsonable(str(value))


def bind_params(spec: Mapping[str, Any], name: str = "params") -> dict[str, Any]:
    value = spec.get(name) or {}
    if not isinstance(value, Mapping) or len(value) > 100:
        raise refuse(name, "must be a mapping of at most 100 parameter names to values")
    out: dict[str, Any] = {}
    for key, item in value.items():
        if not isinstance(key, str) or not key.isidentifier():
            raise refuse(name, f"{key!r} is not a parameter name (:name)", "bad_name", name=key)
        if not (item is None or isinstance(item, str | int | float | bool)):
            raise refuse(f"{name}.{key}", "must be text, a number, true/false or null")
        if isinstance(item, str) and len(item) > 65_536:
            raise refuse(f"{name}.{key}", "is longer than 65536 characters", "too_long")
        out[key] = item
    return out


class SqlKind(Kind):
    name = "sql"
    label = Text("SQL statement", "SQL 语句")
    parameter_field = "params"

    def validate(self, spec: Mapping[str, Any]) -> dict[str, Any]:
        only_keys(spec, FIELDS, self.name)
        connection = connection_name(spec)
        if connection is None:
            raise refuse("connection", "is required: a named database connection", "missing")
        statement = text_field(spec, "statement", required=True, limit=MAX_STATEMENT) or ""
        out: dict[str, Any] = {"connection": connection, "statement": statement}
        params = bind_params(spec)
        if params:
            out["params"] = params
        if bool_field(spec, "read_only", False):
            out["read_only"] = True
        timeout = number_field(spec, "timeout_s", low=0.001, high=86_400, default=None)
        if timeout is not None:
            out["timeout_s"] = timeout
        rows = number_field(spec, "max_rows", low=0, high=MAX_ROWS, default=None)
        if rows is not None:
            out["max_rows"] = int(rows)
        return out

    def describe(self, spec: Mapping[str, Any]) -> Text:
        statement = " ".join(str(spec.get("statement", "")).split())
        if len(statement) > 100:
            statement = statement[:97] + "..."
        text = f"{spec.get('connection')}: {statement}"
        return Text(text, text)

    def references(self, spec: Mapping[str, Any]) -> References:
        return References(connections=(str(spec["connection"]),))

    def execution(self, spec: Mapping[str, Any], timeout_s: float | None) -> Execution:
        return SqlExecution(spec)


class SqlExecution(Execution):
    def __init__(self, spec: Mapping[str, Any]) -> None:
        self.spec = spec
        self._raw: Any = None
        self._dialect = ""
        self._lock = threading.Lock()
        self._stopped = False

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            raw, dialect = self._raw, self._dialect
        if raw is not None:
            threading.Thread(target=_cancel, args=(raw, dialect, self.spec), daemon=True).start()

    def run(self, out: Output) -> Any:
        import sqlalchemy as sa
        from sqlalchemy.exc import DBAPIError, SQLAlchemyError

        connection = self.spec.get("_connection") or {}
        url = connection.get("url")
        if not url:
            raise TargetFailed("the connection has no database URL")
        engine = engine_for(str(url))
        dialect = engine.dialect.name
        read_only = bool(self.spec.get("read_only"))
        timeout = self.spec.get("timeout_s")
        params = {**(self.spec.get("params") or {}), **(self.spec.get("_params") or {})}
        keep = int(self.spec.get("max_rows", ROWS_KEPT))
        try:
            with engine.connect() as conn:
                raw = conn.connection.dbapi_connection
                with self._lock:
                    if self._stopped:
                        raise TargetFailed("stopped before the statement was sent")
                    self._raw, self._dialect = raw, dialect
                mariadb = bool(getattr(conn.dialect, "is_mariadb", False))
                try:
                    with conn.begin() as txn:
                        _before(conn, raw, dialect, mariadb, read_only, timeout)
                        try:
                            result = conn.execute(sa.text(self.spec["statement"]), params)
                            outcome = _collect(result, keep)
                        finally:
                            _after(conn, raw, dialect, mariadb, read_only, timeout)
                        if read_only:
                            txn.rollback()
                finally:
                    with self._lock:
                        self._raw = None
        except TargetFailed:
            raise
        except DBAPIError as exc:
            message = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            if self._stopped:
                raise TargetFailed(f"the statement was cancelled ({message})") from None
            raise TargetFailed(f"{type(exc.orig).__name__}: {message}") from None
        except SQLAlchemyError as exc:
            raise TargetFailed(f"{type(exc).__name__}: {exc}") from None
        shown = outcome.get("row_count")
        out.write(f"{dialect}: {shown} row(s)\n")
        return outcome


def _before(
    conn: Any, raw: Any, dialect: str, mariadb: bool, read_only: bool, timeout: float | None
) -> None:
    if dialect == "postgresql":
        if read_only:
            conn.exec_driver_sql("SET TRANSACTION READ ONLY")
        if timeout:
            conn.exec_driver_sql(f"SET LOCAL statement_timeout = {max(1, int(timeout * 1000))}")
    elif dialect in ("mysql", "mariadb"):
        if read_only:
            conn.exec_driver_sql("SET TRANSACTION READ ONLY")
        if timeout and mariadb:
            conn.exec_driver_sql(f"SET SESSION max_statement_time = {float(timeout):.3f}")
        elif timeout:
            conn.exec_driver_sql(f"SET SESSION max_execution_time = {max(1, int(timeout * 1000))}")
    elif dialect == "sqlite":
        if read_only:
            conn.exec_driver_sql("PRAGMA query_only = ON")
        if timeout:
            import time

            deadline = time.monotonic() + float(timeout)
            raw.set_progress_handler(lambda: int(time.monotonic() > deadline), 1000)


def _after(
    conn: Any, raw: Any, dialect: str, mariadb: bool, read_only: bool, timeout: float | None
) -> None:
    """Undo session settings (pooled connections are reused by other runs)."""
    try:
        if dialect in ("mysql", "mariadb") and timeout:
            name = "max_statement_time" if mariadb else "max_execution_time"
            conn.exec_driver_sql(f"SET SESSION {name} = DEFAULT")
        elif dialect == "sqlite":
            if read_only:
                conn.exec_driver_sql("PRAGMA query_only = OFF")
            if timeout:
                raw.set_progress_handler(None, 0)
    except Exception:
        conn.invalidate()  # never hand a connection with our settings to the next run


def _collect(result: Any, keep: int) -> dict[str, Any]:
    if not result.returns_rows:
        return {"row_count": result.rowcount}
    columns = [str(c) for c in result.keys()]  # noqa: SIM118 - a Result, not a dict
    rows = [[jsonable(v) for v in row] for row in result.fetchmany(keep)]
    count = len(rows)
    more = False
    if count == keep:
        while count < COUNT_UP_TO:
            batch = result.fetchmany(1000)
            if not batch:
                break
            count += len(batch)
        more = count >= COUNT_UP_TO
    out: dict[str, Any] = {"row_count": count, "columns": columns, "rows": rows}
    if count > len(rows):
        out["rows_truncated"] = True
    if more:
        out["row_count_capped"] = True
    return out


def _cancel(raw: Any, dialect: str, spec: Mapping[str, Any]) -> None:
    """Interrupt the statement running on ``raw`` (from another thread)."""
    try:
        if dialect == "sqlite":
            raw.interrupt()
        elif dialect == "postgresql":
            cancel = getattr(raw, "cancel_safe", None) or raw.cancel
            cancel()
        elif dialect in ("mysql", "mariadb"):
            import pymysql

            thread_id = raw.thread_id()
            url = str((spec.get("_connection") or {}).get("url"))
            from sqlalchemy.engine import make_url

            u = make_url(url)
            killer = pymysql.connect(
                host=u.host or "localhost",
                port=u.port or 3306,
                user=u.username or "",
                password=u.password or "",
                connect_timeout=5,
            )
            try:
                with killer.cursor() as cursor:
                    cursor.execute("KILL QUERY %s", (int(thread_id),))
            finally:
                killer.close()
    except Exception:  # the statement may have ended meanwhile; its timeout still applies
        pass


KIND = SqlKind()
