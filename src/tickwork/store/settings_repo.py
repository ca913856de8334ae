"""Cluster-wide settings stored in the database (for example: the whole scheduler paused)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, select, update

from tickwork.store.tables import setting

SCHEDULER_PAUSED = "scheduler_paused"


class SettingRepo:
    def get(self, conn: Connection, key: str, default: Any = None) -> Any:
        value = conn.execute(select(setting.c.value).where(setting.c.key == key)).scalar()
        return default if value is None else value

    def put(self, conn: Connection, key: str, value: Any, now: int, by: str | None) -> None:
        values = {"value": value, "updated_at": now, "updated_by": by}
        if conn.execute(update(setting).where(setting.c.key == key).values(**values)).rowcount:
            return
        conn.execute(insert(setting), [{"key": key, **values}])
