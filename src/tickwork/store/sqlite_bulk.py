"""Inserting many job rows on SQLite with what they share written into the statement.

Jobs added in bulk share most of their 31 columns (group, target, policies, owner, times):
the driver binds every parameter of every row in Python, and for a million jobs that
binding was the larger part of the insert (measured: 4.9 s for 31 bound columns against
1.9 s for the 4 that differ). Here the columns every job of a batch holds equal go into
the statement as SQL literals and only the others are bound (the id, name, trigger and
first fire, and whatever else differs, such as a crontab line's description). Only values
whose literal reads back exactly are written so (text without NUL, integers, booleans,
whole floats, NULL); other values are bound.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from operator import attrgetter
from typing import Any

from sqlalchemy import Connection, Table

from tickwork.store.bulk_rows import JOB_ROW_COLUMNS, insert_rows, job_rows, trigger_text
from tickwork.store.job_batch import OWN_COLUMNS, JobRun
from tickwork.store.records import JobRecord

_BOUND = ("id", "name", "trigger", "next_fire_at")  # what differs between jobs of a bulk
_ATTR = {c: c for c in JOB_ROW_COLUMNS} | {"group_name": "group"}
_JSON = frozenset({"tags", "target", "secret_keys"})  # stored as text made from the record
_MAX_EXACT = 2**53


class _NotLiteral(Exception):
    pass


def _literal(value: Any) -> str:
    if value is None:
        return "NULL"
    kind = type(value)
    if kind is bool:
        return "1" if value else "0"
    if kind is int:
        return str(value)
    if kind is float and value.is_integer() and abs(value) < _MAX_EXACT:
        return repr(value)  # "10.0": exact; other floats are bound (no decimal round trip)
    if kind is str and "\x00" not in value:
        text: str = value
        return "'" + text.replace("'", "''") + "'"
    raise _NotLiteral


def _shared_columns(records: Sequence[JobRecord]) -> list[str]:
    """The columns (besides _BOUND) whose values are equal in every record. Equal values
    are stored alike (SQLite's column affinity makes 1, 1.0 and True one stored value)."""
    shared = [c for c in JOB_ROW_COLUMNS if c not in _BOUND]
    first = records[0]
    get = attrgetter(*(_ATTR[c] for c in shared))
    key = get(first)
    for r in records:
        values = get(r)
        if values != key:  # some column differs: drop it, compare the rest from here on
            shared = [c for c, v, k in zip(shared, values, key, strict=True) if v == k]
            if len(shared) < 2:  # one left: not worth a statement of its own shape
                return []
            get = attrgetter(*(_ATTR[c] for c in shared))
            key = get(first)
    return shared


def insert_jobs(conn: Connection, table: Table, records: Sequence[JobRecord]) -> None:
    """Insert ``records`` (new ids) into ``table`` in the caller's transaction; a duplicate
    id raises SQLAlchemy's IntegrityError."""
    if not records:
        return
    first = dict(zip(JOB_ROW_COLUMNS, job_rows(records[:1])[0], strict=True))
    literals: dict[str, str] = {}
    for c in _shared_columns(records):
        with contextlib.suppress(_NotLiteral):  # bound instead
            literals[c] = _literal(first[c])
    bound = [c for c in JOB_ROW_COLUMNS if c not in literals and c != "trigger"]
    if _JSON.intersection(bound) or len(bound) > 12:  # little to gain: every column bound
        insert_rows(conn, table, JOB_ROW_COLUMNS, job_rows(records))
        return
    # ?1 is the trigger's text, ?2... the other bound columns in their order
    number = {c: i for i, c in enumerate(bound, start=2)} | {"trigger": 1}
    values = ", ".join(literals.get(c) or f"?{number[c]}" for c in JOB_ROW_COLUMNS)
    get = attrgetter(*(_ATTR[c] for c in bound))  # id, name, next_fire_at at least: a tuple
    _insert(conn, table, values, [(trigger_text(r.trigger), *get(r)) for r in records])


def insert_run(conn: Connection, table: Table, run: JobRun) -> None:
    """Insert the jobs of ``run`` (new ids): each job's own tuple bound as it is (``?1`` to
    ``?8``, in ``OWN_COLUMNS`` order), the shared record's values as literals, or bound after
    the own ones where they have no exact literal."""
    if not run.rows:
        return
    shared = dict(zip(JOB_ROW_COLUMNS, job_rows([run.shared])[0], strict=True))
    marks = {c: f"?{i}" for i, c in enumerate(OWN_COLUMNS, start=1)}
    extra: list[Any] = []
    for c in JOB_ROW_COLUMNS:
        if c in marks:
            continue
        try:
            marks[c] = _literal(shared[c])
        except _NotLiteral:
            extra.append(shared[c])
            marks[c] = f"?{len(OWN_COLUMNS) + len(extra)}"
    more = tuple(extra)
    values = ", ".join(marks[c] for c in JOB_ROW_COLUMNS)
    _insert(conn, table, values, run.rows if not more else [own + more for own in run.rows])


def _insert(conn: Connection, table: Table, values: str, rows: Sequence[Sequence[Any]]) -> None:
    """One INSERT of every job column, ``values`` its VALUES list, once per row."""
    quote = conn.dialect.identifier_preparer.quote
    names = ", ".join(quote(c) for c in JOB_ROW_COLUMNS)
    conn.exec_driver_sql(f"INSERT INTO {quote(table.name)} ({names}) VALUES ({values})", rows)
