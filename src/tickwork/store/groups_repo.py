"""Group rows: read, create, update under a version check, delete."""

from __future__ import annotations

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from tickwork.errors import Conflict
from tickwork.groups.model import GroupRecord
from tickwork.store.tables_groups import group


class GroupRepo:
    def get(self, conn: Connection, name: str, *, for_update: bool = False) -> GroupRecord | None:
        query = select(group).where(group.c.name == name)
        if for_update:
            query = query.with_for_update()
        row = conn.execute(query).mappings().first()
        return GroupRecord.from_row(row) if row else None

    def all(self, conn: Connection) -> list[GroupRecord]:
        rows = conn.execute(select(group).order_by(group.c.name)).mappings()
        return [GroupRecord.from_row(r) for r in rows]

    def insert(self, conn: Connection, record: GroupRecord) -> None:
        try:
            with conn.begin_nested():
                conn.execute(insert(group), [record.to_row()])
        except IntegrityError:
            raise Conflict(
                "name",
                f"a group named {record.name!r} already exists",
                code="duplicate_group",
                params={"name": record.name},
            ) from None

    def update(self, conn: Connection, record: GroupRecord, expected_version: int) -> None:
        done = conn.execute(
            update(group)
            .where(group.c.name == record.name, group.c.version == expected_version)
            .values(**record.to_row())
        ).rowcount
        if not done:
            raise Conflict(
                "version",
                f"group {record.name!r} changed meanwhile (expected version {expected_version})",
                code="stale_version",
                params={"id": record.name, "expected": expected_version},
            )

    def delete(self, conn: Connection, name: str) -> bool:
        return bool(conn.execute(delete(group).where(group.c.name == name)).rowcount)
