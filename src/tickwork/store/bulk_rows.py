"""Writing many new rows at once, below SQLAlchemy's per-row work (issue 15: a million jobs).

SQLAlchemy's executemany processed every value of every row (the JSON columns dumped one by
one through the type system, the parameters built per row): that was most of the time of a
bulk insert, the driver's own work a small part. Here the rows arrive as plain tuples in the
table's column order with their JSON already text, and go to the driver as they are:
PostgreSQL takes them by COPY, the others by the driver's executemany (SQLite's in C,
PyMySQL's rewritten into multi-row INSERTs). Same transaction as the caller's connection.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Table

from tickwork.store.records import JOB_COLUMNS, JobRecord

_dumps = json.JSONEncoder().encode  # json.dumps' output (the JSON type's), without its checks
_EMPTY_LIST = "[]"


# job_rows' order of the job table's columns
JOB_ROW_COLUMNS = (
    "id", "name", "description", "group_name", "tags", "target_kind", "target", "trigger_kind",
    "trigger", "timezone", "executor", "misfire_policy", "misfire_grace_s", "max_catchup",
    "concurrency_policy", "max_instances", "timeout_s", "retries", "retry_backoff_s",
    "retry_backoff_max_s", "secret_keys", "paused", "owner", "owner_ref", "version",
    "next_fire_at", "created_at", "created_by", "updated_at", "updated_by", "queue",
)  # fmt: skip
assert sorted(JOB_ROW_COLUMNS) == sorted(JOB_COLUMNS)


def job_rows(records: Sequence[JobRecord]) -> list[tuple[Any, ...]]:
    """The job table's rows of ``records``, in JOB_ROW_COLUMNS order, JSON as text."""
    dumps = _dumps
    plain_target: dict[str, str] = {}  # a python target without arguments, by its ref
    out = []
    for r in records:
        t = r.target
        if r.target_kind == "python" and len(t) == 3 and not t["args"] and not t["kwargs"]:
            ref = t["ref"]
            text = plain_target.get(ref)
            if text is None:
                text = plain_target[ref] = dumps(t)
        else:
            text = dumps(t)
        out.append(
            (
                r.id, r.name, r.description, r.group,
                dumps(r.tags) if r.tags else _EMPTY_LIST,
                r.target_kind, text, r.trigger_kind, dumps(r.trigger), r.timezone,
                r.executor, r.misfire_policy, r.misfire_grace_s, r.max_catchup,
                r.concurrency_policy, r.max_instances, r.timeout_s, r.retries,
                r.retry_backoff_s, r.retry_backoff_max_s,
                dumps(r.secret_keys) if r.secret_keys else _EMPTY_LIST,
                r.paused, r.owner, r.owner_ref, r.version, r.next_fire_at, r.created_at,
                r.created_by, r.updated_at, r.updated_by, r.queue,
            )
        )  # fmt: skip
    return out


def insert_rows(
    conn: Connection, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Insert ``rows`` (values in ``columns`` order) into ``table`` in the caller's
    transaction. A duplicate key raises SQLAlchemy's IntegrityError on every dialect."""
    if not rows:
        return
    dialect = conn.dialect
    quote = dialect.identifier_preparer.quote
    names = ", ".join(quote(c) for c in columns)
    if dialect.name == "postgresql":
        _copy(conn, f"COPY {quote(table.name)} ({names}) FROM STDIN", rows)
        return
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    marks = ", ".join([mark] * len(columns))
    conn.exec_driver_sql(f"INSERT INTO {quote(table.name)} ({names}) VALUES ({marks})", rows)


def _copy(conn: Connection, statement: str, rows: Sequence[Sequence[Any]]) -> None:
    from sqlalchemy.exc import IntegrityError

    raw: Any = conn.connection.driver_connection
    dbapi: Any = conn.dialect.dbapi
    try:
        with raw.cursor() as cursor, cursor.copy(statement) as copy:
            write = copy.write_row
            for row in rows:
                write(row)
    except dbapi.IntegrityError as exc:  # as exec_driver_sql would have wrapped it
        raise IntegrityError(statement, None, exc) from exc
