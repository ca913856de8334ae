"""Writing many new rows at once, below SQLAlchemy's per-row work (issue 15: a million jobs).

SQLAlchemy's executemany processed every value of every row (the JSON columns dumped one by
one through the type system, the parameters built per row): that was most of the time of a
bulk insert, the driver's own work a small part. Here the rows arrive as plain tuples in the
table's column order with their JSON already text, and go to the driver as they are:
PostgreSQL takes them by COPY, the others by the driver's executemany (SQLite's in C,
PyMySQL's rewritten into multi-row INSERTs). Same transaction as the caller's connection.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Table

from tickwork.store.records import JOB_COLUMNS, JobRecord

_dumps = json.JSONEncoder().encode  # json.dumps' output (the JSON type's), without its checks
json_text = _dumps  # the text the JSON columns store of a value
_quote = json.encoder.encode_basestring_ascii  # how _dumps writes a string
_EMPTY_LIST = "[]"
_CRON_KEYS = ["kind", "expr", "tz", "seed"]


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
                r.target_kind, text, r.trigger_kind, trigger_text(r.trigger), r.timezone,
                r.executor, r.misfire_policy, r.misfire_grace_s, r.max_catchup,
                r.concurrency_policy, r.max_instances, r.timeout_s, r.retries,
                r.retry_backoff_s, r.retry_backoff_max_s,
                dumps(r.secret_keys) if r.secret_keys else _EMPTY_LIST,
                r.paused, r.owner, r.owner_ref, r.version, r.next_fire_at, r.created_at,
                r.created_by, r.updated_at, r.updated_by, r.queue,
            )
        )  # fmt: skip
    return out


@lru_cache(maxsize=1 << 17)
def _cron_prefix(expr: str, tz: str) -> str:
    """'{"kind": "cron", ..., "seed": ' of a cron spec's text: cron specs of a bulk differ only
    in their seed (the job id) over a few thousand expressions."""
    return _dumps({"kind": "cron", "expr": expr, "tz": tz, "seed": ""})[:-3]


def trigger_text(t: dict[str, Any]) -> str:
    """A trigger spec's JSON, as _dumps writes it."""
    if len(t) != 4 or list(t) != _CRON_KEYS or t["kind"] != "cron":
        return _dumps(t)
    expr, tz, seed = t["expr"], t["tz"], t["seed"]
    if type(expr) is not str or type(tz) is not str or type(seed) is not str:
        return _dumps(t)
    return _cron_prefix(expr, tz) + _quote(seed) + "}"


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


# A bulk add at least this large, and at least as large as what a table holds, builds the
# table's secondary indexes once at the end on SQLite: one sort instead of a million random
# B-tree inserts (measured on 1,000,000 jobs: 19 s of inserts became 6 s + 2 s of building).
REINDEX_MIN_ROWS = 50_000
# The bulk transaction's page cache on SQLite (KiB, allocated only as used; the default is
# 2 MB, which a million-row table's index pages outgrow at once).
BULK_CACHE_KIB = 262_144


@contextlib.contextmanager
def bulk_load(conn: Connection, tables: Sequence[Table], incoming: int) -> Iterator[None]:
    """Around inserting ``incoming`` new rows into each of ``tables`` in the caller's
    transaction. On SQLite: a large page cache for the duration, and the secondary indexes
    of a table that the bulk at least doubles dropped and built again after the inserts,
    in the same transaction (an error rolls the drop back with the rest; readers keep
    their snapshot). Other databases: nothing (PostgreSQL takes the rows by COPY)."""
    if conn.dialect.name != "sqlite" or incoming < REINDEX_MIN_ROWS:
        yield
        return
    (cache,) = conn.exec_driver_sql("PRAGMA cache_size").one()
    conn.exec_driver_sql(f"PRAGMA cache_size=-{BULK_CACHE_KIB}")
    try:
        rebuild: list[str] = []
        for table in tables:
            if last_rowid(conn, table) > incoming:  # an upper bound of the row count
                continue
            indexes = conn.exec_driver_sql(
                "SELECT name, sql FROM sqlite_master "
                "WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
                (table.name,),
            ).all()
            for name, sql in indexes:
                conn.exec_driver_sql(f'DROP INDEX "{name}"')
                rebuild.append(sql)
        yield
        for sql in rebuild:
            conn.exec_driver_sql(sql)
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size={int(cache)}")


def last_rowid(conn: Connection, table: Table) -> int:
    """SQLite: the largest rowid of ``table`` (0 when empty), read in one B-tree descent."""
    (last,) = conn.exec_driver_sql(f'SELECT max(rowid) FROM "{table.name}"').one()
    return int(last or 0)
