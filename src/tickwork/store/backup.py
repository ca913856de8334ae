"""Backup and restore of Tickwork's own tables (``tickwork db backup|restore``).

Two formats, both read by ``restore`` into any of the three databases:

* a **SQLite file**, made with SQLite's online backup API from a SQLite store (consistent
  while the scheduler writes);
* a **portable dump** (any store): JSON lines, a header line ``{"format": "tickwork-dump",
  "version": 1, "revision": <Alembic revision>, "dialect", "created_at", "counts": {table:
  rows}, "sha256": <digest of every line after the header>}``, then one ``{"t": table, "r":
  row}`` line per row. Bytes are ``{"$b64": ...}``; nothing is pickled. One read transaction
  (REPEATABLE READ on PostgreSQL and MariaDB), so the dump is one consistent moment.

Restore checks before writing anything: the format and its version, the digest (or SQLite's
``integrity_check``), that the dump's schema revision is this version's, that the target
store is empty and that no node is alive on it. It loads every table in one transaction,
resets PostgreSQL's id sequences, and compares each table's count with the dump's."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import sqlite3
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from tickwork.errors import TickworkError
from tickwork.store import Store
from tickwork.store.migrate import current_revision, head_revision
from tickwork.store.tables import metadata

FORMAT = "tickwork-dump"
VERSION = 1
SQLITE_MAGIC = b"SQLite format 3\x00"
_BATCH = 2000


class RestoreRefused(TickworkError):
    """The dump or the target store is not fit for a restore; nothing was written."""


@dataclass
class Outcome:
    path: Path
    kind: str  # "sqlite" or "dump"
    counts: dict[str, int]
    revision: str


def _tables() -> list[sa.Table]:
    return list(metadata.sorted_tables)  # parents before children (foreign keys)


def _encode(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return {"$b64": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and len(value) == 1:
        if "$b64" in value:
            return base64.b64decode(value["$b64"])
        if "$dt" in value:
            return datetime.fromisoformat(value["$dt"])
    return value


def _rows(conn: sa.Connection, table: sa.Table) -> Iterator[dict[str, Any]]:
    query = sa.select(table)
    pk = list(table.primary_key.columns)
    if pk:
        query = query.order_by(*pk)
    result = conn.execution_options(yield_per=_BATCH).execute(query)
    for row in result:
        yield dict(row._mapping)


# -- backup ---------------------------------------------------------------------------------
def backup(store: Store, path: Path, *, portable: bool = False) -> Outcome:
    """A SQLite store to a SQLite file (online backup API), or any store to a portable dump
    (``portable`` or a PostgreSQL/MariaDB store). Written beside ``path``, then renamed."""
    path = Path(path)
    revision = current_revision(store.db) or ""
    if store.db.sqlite_path is not None and not portable:
        tmp = path.with_name(path.name + ".partial")
        tmp.unlink(missing_ok=True)
        try:
            source = sqlite3.connect(store.db.sqlite_path)
            try:
                target = sqlite3.connect(tmp)
                try:
                    with target:
                        source.backup(target)
                finally:
                    target.close()
            finally:
                source.close()
            counts = _sqlite_counts(tmp)
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)  # no half-written backup is left behind
            raise
        return Outcome(path, "sqlite", counts, revision)
    return _dump(store, path, revision)


def _sqlite_counts(path: Path) -> dict[str, int]:
    conn = sqlite3.connect(path)
    try:
        return {
            t.name: int(conn.execute(f'SELECT count(*) FROM "{t.name}"').fetchone()[0])
            for t in _tables()
        }
    except sqlite3.OperationalError as exc:  # a backup of another schema revision
        raise RestoreRefused(f"{path} does not hold this version's tables: {exc}") from None
    finally:
        conn.close()


def _dump(store: Store, path: Path, revision: str) -> Outcome:
    counts: dict[str, int] = {}
    digest = hashlib.sha256()
    folder = path.parent if str(path.parent) else Path(".")
    with tempfile.TemporaryFile("w+b", dir=folder) as body:
        # One read transaction: REPEATABLE READ on PostgreSQL and MariaDB (SQLite's is one
        # snapshot already), so the dump is one moment of a store that keeps running.
        level = {} if store.db.is_sqlite else {"isolation_level": "REPEATABLE READ"}
        with store.db.engine.connect().execution_options(**level) as conn, conn.begin():
            for table in _tables():
                counts[table.name] = 0
                for row in _rows(conn, table):
                    line = (
                        json.dumps(
                            {"t": table.name, "r": {k: _encode(v) for k, v in row.items()}},
                            ensure_ascii=False,
                            separators=(",", ":"),
                        ).encode()
                        + b"\n"
                    )
                    digest.update(line)
                    body.write(line)
                    counts[table.name] += 1
        header = {
            "format": FORMAT,
            "version": VERSION,
            "revision": revision,
            "dialect": store.db.engine.dialect.name,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "counts": counts,
            "sha256": digest.hexdigest(),
        }
        tmp = path.with_name(path.name + ".partial")
        try:
            with open(tmp, "wb") as out:
                out.write(json.dumps(header).encode() + b"\n")
                body.seek(0)
                while chunk := body.read(1 << 20):
                    out.write(chunk)
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)  # no half-written dump is left behind
            raise
    return Outcome(path, "dump", counts, revision)


# -- restore --------------------------------------------------------------------------------
def read_header(path: Path) -> dict[str, Any]:
    with open(path, "rb") as f:
        first = f.readline()
    try:
        header = json.loads(first)
    except ValueError:
        header = None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise RestoreRefused(f"{path} is neither a Tickwork dump nor a SQLite backup")
    if header.get("version") != VERSION:
        raise RestoreRefused(
            f"{path} is a version {header.get('version')} dump; this Tickwork reads version "
            f"{VERSION}"
        )
    return header


def _check_digest(path: Path, header: dict[str, Any]) -> None:
    digest = hashlib.sha256()
    counts: dict[str, int] = {}
    with open(path, "rb") as f:
        f.readline()
        for line in f:
            digest.update(line)
            table = json.loads(line)["t"]
            counts[table] = counts.get(table, 0) + 1
    if digest.hexdigest() != header.get("sha256"):
        raise RestoreRefused(f"{path} is damaged: its content does not match its sha256")
    declared = {k: v for k, v in (header.get("counts") or {}).items() if v}
    if counts != declared:
        raise RestoreRefused(f"{path} holds other row counts than its header says")


def _dump_rows(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    with open(path, "rb") as f:
        f.readline()
        for line in f:
            item = json.loads(line)
            yield item["t"], {k: _decode(v) for k, v in item["r"].items()}


def _sqlite_rows(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    source = sa.create_engine(f"sqlite:///{path}")
    try:
        with source.connect() as conn:
            for table in _tables():
                for row in _rows(conn, table):
                    yield table.name, row
    finally:
        source.dispose()


def _check_sqlite_file(path: Path) -> tuple[str, dict[str, int]]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        verdict = conn.execute("PRAGMA integrity_check").fetchone()[0]
        if verdict != "ok":
            raise RestoreRefused(f"{path} fails SQLite's integrity check: {verdict}")
        row = conn.execute("SELECT version_num FROM tw_alembic_version").fetchone()
    except sqlite3.DatabaseError as exc:
        raise RestoreRefused(f"{path} is not a readable Tickwork SQLite backup: {exc}") from None
    finally:
        conn.close()
    return (str(row[0]) if row else ""), _sqlite_counts(path)


def alive_nodes(store: Store, now_us: int, dead_after_s: float = 20.0) -> list[str]:
    with store.db.read() as conn:
        return [
            n.id
            for n in store.nodes.all(conn)
            if n.stopped_at is None and n.heartbeat_at > now_us - int(dead_after_s * 1e6)
        ]


def restore(store: Store, path: Path, *, now_us: int, stop_nodes: bool = False) -> Outcome:
    """Load a backup or dump into ``store`` (migrated, empty). RestoreRefused says why not."""
    path = Path(path)
    with open(path, "rb") as f:
        is_sqlite = f.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC
    if is_sqlite:
        revision, counts = _check_sqlite_file(path)
        rows = _sqlite_rows(path)
    else:
        header = read_header(path)
        _check_digest(path, header)
        revision, counts = str(header.get("revision")), dict(header.get("counts") or {})
        rows = _dump_rows(path)
    head = head_revision()
    if revision != head:
        raise RestoreRefused(
            f"{path} was made at schema revision {revision}; this Tickwork is at {head}: "
            "restore it with the Tickwork version that made it, then upgrade"
        )
    store.upgrade()
    alive = alive_nodes(store, now_us)
    if alive and not stop_nodes:
        raise RestoreRefused(
            f"{len(alive)} node(s) are running on this database ({', '.join(alive[:3])}); "
            "stop them, or give --stop-nodes to tell them to stop"
        )
    with store.db.write() as conn:
        if alive:
            conn.execute(
                sa.update(metadata.tables["tw_node"])
                .where(metadata.tables["tw_node"].c.id.in_(alive))
                .values(stopped_at=now_us, stop_reason="stopped for a restore")
            )
        # A running node's own bookkeeping is not data: the alert sweep's lease row
        # (tickwork.alerts.sweep.LEASE_RULE) goes like tw_node (rolled back if refused).
        state = metadata.tables["tw_alert_state"]
        conn.execute(state.delete().where(state.c.rule_id == "~sweep"))
        busy = [
            t.name
            for t in _tables()
            if t.name != "tw_node"
            and conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
        ]
        if busy:
            raise RestoreRefused(
                f"the target database is not empty ({', '.join(busy)}): restore into a new, "
                "empty database"
            )
        conn.execute(metadata.tables["tw_node"].delete())
        _load(conn, rows)
        got = {
            t.name: int(conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one())
            for t in _tables()
        }
        want = {t.name: int(counts.get(t.name, 0)) for t in _tables()}
        if got != want:
            raise RestoreRefused(f"restored counts {got} differ from the backup's {want}")
        if store.db.is_postgres:
            _reset_sequences(conn)
    return Outcome(path, "sqlite" if is_sqlite else "dump", want, revision)


def _load(conn: sa.Connection, rows: Iterator[tuple[str, dict[str, Any]]]) -> None:
    tables = {t.name: t for t in _tables()}
    batch: list[dict[str, Any]] = []
    current: str | None = None
    for name, row in rows:
        if name not in tables:
            raise RestoreRefused(f"the dump holds table {name}, which this Tickwork lacks")
        if name != current or len(batch) >= _BATCH:
            if batch and current is not None:
                conn.execute(tables[current].insert(), batch)
            batch, current = [], name
        batch.append(row)
    if batch and current is not None:
        conn.execute(tables[current].insert(), batch)


def _reset_sequences(conn: sa.Connection) -> None:
    for table in _tables():
        for column in table.primary_key.columns:
            if column.autoincrement is True:
                conn.execute(
                    sa.text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column.name}'), "
                        f'COALESCE(MAX("{column.name}"), 1), MAX("{column.name}") IS NOT NULL) '
                        f'FROM "{table.name}"'
                    )
                )


def describe(path: Path) -> dict[str, Any]:
    """What a backup file is (for messages): its kind, revision and counts."""
    with open(path, "rb") as f:
        if f.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC:
            revision, counts = _check_sqlite_file(path)
            return {"kind": "sqlite", "revision": revision, "counts": counts}
    header = read_header(path)
    return {"kind": "dump", "revision": header["revision"], "counts": header["counts"]}


def verify(path: Path) -> dict[str, Any]:
    """Check a backup file as restore would before writing (SQLite's ``integrity_check``, or
    the dump's digest and counts): its kind, revision and counts, or RestoreRefused."""
    path = Path(path)
    with open(path, "rb") as f:
        is_sqlite = f.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC
    if is_sqlite:
        revision, counts = _check_sqlite_file(path)
        return {"kind": "sqlite", "revision": revision, "counts": counts}
    header = read_header(path)
    _check_digest(path, header)
    return {"kind": "dump", "revision": header["revision"], "counts": header["counts"]}


__all__ = ["Outcome", "RestoreRefused", "backup", "restore", "verify"]
