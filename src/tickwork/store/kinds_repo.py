"""Rows of named connections and of scripts with their versions."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from tickwork.errors import Conflict
from tickwork.store.tables_kinds import connection, script, script_version


@dataclass(frozen=True, slots=True)
class ConnectionRecord:
    name: str
    kind: str
    description: str
    public: dict[str, Any]
    secret: str | None  # sealed by the vault
    version: int
    created_at: int
    created_by: str | None
    updated_at: int
    updated_by: str | None


@dataclass(frozen=True, slots=True)
class ScriptRecord:
    name: str
    language: str
    description: str
    latest_version: int
    created_at: int
    created_by: str | None
    updated_at: int
    updated_by: str | None


@dataclass(frozen=True, slots=True)
class ScriptVersion:
    script_name: str
    version: int
    code: str
    sha256: str
    message: str
    author: str | None
    created_at: int


def _connection(row: Any) -> ConnectionRecord:
    return ConnectionRecord(**{k: row[k] for k in ConnectionRecord.__dataclass_fields__})


def _script(row: Any) -> ScriptRecord:
    return ScriptRecord(**{k: row[k] for k in ScriptRecord.__dataclass_fields__})


def _version(row: Any) -> ScriptVersion:
    return ScriptVersion(**{k: row[k] for k in ScriptVersion.__dataclass_fields__})


class ConnectionRepo:
    def get(self, conn: Connection, name: str) -> ConnectionRecord | None:
        row = conn.execute(select(connection).where(connection.c.name == name)).mappings().first()
        return None if row is None else _connection(row)

    def all(self, conn: Connection) -> list[ConnectionRecord]:
        rows = conn.execute(select(connection).order_by(connection.c.name)).mappings()
        return [_connection(r) for r in rows]

    def insert(self, conn: Connection, record: ConnectionRecord) -> None:
        try:
            with conn.begin_nested():
                conn.execute(insert(connection).values(**_row(record)))
        except IntegrityError:
            raise Conflict(
                "name",
                f"a connection named {record.name!r} already exists",
                code="duplicate_connection",
                params={"name": record.name},
            ) from None

    def update(self, conn: Connection, record: ConnectionRecord, expected_version: int) -> None:
        values = _row(record)
        del values["name"], values["created_at"], values["created_by"]
        done = conn.execute(
            update(connection)
            .where(connection.c.name == record.name, connection.c.version == expected_version)
            .values(**values)
        )
        if done.rowcount != 1:
            raise Conflict(
                "version",
                f"connection {record.name!r} changed meanwhile; reload it",
                code="stale_version",
                params={"name": record.name},
            )

    def delete(self, conn: Connection, name: str) -> bool:
        return bool(conn.execute(delete(connection).where(connection.c.name == name)).rowcount)


def _row(record: ConnectionRecord) -> dict[str, Any]:
    return {k: getattr(record, k) for k in ConnectionRecord.__dataclass_fields__}


class ScriptRepo:
    def get(self, conn: Connection, name: str) -> ScriptRecord | None:
        row = conn.execute(select(script).where(script.c.name == name)).mappings().first()
        return None if row is None else _script(row)

    def all(self, conn: Connection) -> list[ScriptRecord]:
        return [_script(r) for r in conn.execute(select(script).order_by(script.c.name)).mappings()]

    def latest_version(self, conn: Connection, name: str) -> int | None:
        return conn.execute(
            select(script.c.latest_version).where(script.c.name == name)
        ).scalar_one_or_none()

    def version(self, conn: Connection, name: str, version: int) -> ScriptVersion | None:
        row = (
            conn.execute(
                select(script_version).where(
                    script_version.c.script_name == name, script_version.c.version == version
                )
            )
            .mappings()
            .first()
        )
        return None if row is None else _version(row)

    def history(self, conn: Connection, name: str) -> list[ScriptVersion]:
        """Every version, newest first (code included)."""
        rows = conn.execute(
            select(script_version)
            .where(script_version.c.script_name == name)
            .order_by(script_version.c.version.desc())
        ).mappings()
        return [_version(r) for r in rows]

    def add_version(
        self,
        conn: Connection,
        *,
        name: str,
        language: str,
        code: str,
        message: str,
        author: str | None,
        now: int,
        description: str | None = None,
    ) -> ScriptVersion:
        """A new version (the script is created with version 1); versions are never changed."""
        current = conn.execute(
            select(script.c.latest_version, script.c.language)
            .where(script.c.name == name)
            .with_for_update()
        ).first()
        if current is None:
            number = 1
            try:
                with conn.begin_nested():
                    conn.execute(
                        insert(script).values(
                            name=name,
                            language=language,
                            description=description or "",
                            latest_version=1,
                            created_at=now,
                            created_by=author,
                            updated_at=now,
                            updated_by=author,
                        )
                    )
            except IntegrityError:
                raise Conflict(
                    "name", f"script {name!r} was created meanwhile; save again",
                    code="stale_version", params={"name": name},
                ) from None  # fmt: skip
        else:
            if current.language != language:
                raise Conflict(
                    "language",
                    f"script {name!r} is a {current.language} script; a version cannot change "
                    "its language",
                    code="script_language_fixed",
                    params={"name": name, "language": current.language},
                )
            number = int(current.latest_version) + 1
            values: dict[str, Any] = {
                "latest_version": number,
                "updated_at": now,
                "updated_by": author,
            }
            if description is not None:
                values["description"] = description
            done = conn.execute(
                update(script)
                .where(script.c.name == name, script.c.latest_version == number - 1)
                .values(**values)
            )
            if done.rowcount != 1:
                raise Conflict(
                    "version", f"script {name!r} got a new version meanwhile; save again",
                    code="stale_version", params={"name": name},
                )  # fmt: skip
        version = ScriptVersion(
            script_name=name,
            version=number,
            code=code,
            sha256=hashlib.sha256(code.encode()).hexdigest(),
            message=message,
            author=author,
            created_at=now,
        )
        conn.execute(insert(script_version).values(**_vrow(version)))
        return version

    def delete(self, conn: Connection, name: str) -> bool:
        conn.execute(delete(script_version).where(script_version.c.script_name == name))
        return bool(conn.execute(delete(script).where(script.c.name == name)).rowcount)

    def count_versions(self, conn: Connection, name: str) -> int:
        return int(
            conn.execute(
                select(func.count()).where(script_version.c.script_name == name)
            ).scalar_one()
        )


def _vrow(version: ScriptVersion) -> dict[str, Any]:
    return {k: getattr(version, k) for k in ScriptVersion.__dataclass_fields__}


def kind_targets(conn: Connection) -> list[tuple[str, str, dict[str, Any]]]:
    """(job id, kind, target) of every job that is not a Python one (they name connections
    and scripts)."""
    from tickwork.store.tables import job

    rows = conn.execute(
        select(job.c.id, job.c.target_kind, job.c.target).where(job.c.target_kind != "python")
    )
    return [(str(i), str(k), t if isinstance(t, dict) else {}) for i, k, t in rows]
