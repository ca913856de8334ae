"""The app's scheduled work: ``async def`` functions, run by Tickwork's asyncio executor. Each
returns what it did; Tickwork stores it on the run record (the seed only logged it).

The app's own data is the SQLite file ``APP_DB`` (default ``./app.db``): a ``visits`` table
the API writes and the jobs clean up, count and back up.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def app_db() -> Path:
    return Path(os.environ.get("APP_DB", str(HERE / "app.db")))


def connect() -> sqlite3.Connection:
    conn = sqlite3.connect(app_db())
    conn.execute("CREATE TABLE IF NOT EXISTS visits (id INTEGER PRIMARY KEY, path TEXT NOT NULL,"
                 " at TEXT NOT NULL)")  # fmt: skip
    conn.execute("CREATE INDEX IF NOT EXISTS visits_at ON visits (at)")
    return conn


def _now() -> datetime:
    return datetime.now(UTC)


async def daily_cleanup(days: int = 30) -> dict[str, Any]:
    """Delete visits older than ``days`` (the seed's cleanup of expired data)."""

    def work() -> int:
        cutoff = (_now() - timedelta(days=days)).isoformat()
        with connect() as conn:
            return conn.execute("DELETE FROM visits WHERE at < ?", (cutoff,)).rowcount

    return {"deleted": await asyncio.to_thread(work), "older_than_days": days}


async def system_health_check() -> dict[str, Any]:
    """The database answers, and the disk it lives on has room."""

    def work() -> dict[str, Any]:
        with connect() as conn:
            conn.execute("SELECT 1").fetchone()
        free = shutil.disk_usage(app_db().parent).free
        return {"database": "ok", "disk_free_mb": free // 2**20}

    return await asyncio.to_thread(work)


async def daily_backup() -> dict[str, Any]:
    """A consistent copy of the app's database (SQLite's online backup) under ``backups/``."""

    def work() -> str:
        folder = app_db().parent / "backups"
        folder.mkdir(exist_ok=True)
        target = folder / f"app-{_now():%Y%m%d-%H%M%S}.db"
        with connect() as source, sqlite3.connect(target) as copy:
            source.backup(copy)
        return str(target)

    return {"backup": await asyncio.to_thread(work)}


async def weekly_report() -> dict[str, Any]:
    """Visits by path (the seed's yearly/weekly statistics)."""

    def work() -> dict[str, int]:
        with connect() as conn:
            rows = conn.execute("SELECT path, COUNT(*) FROM visits GROUP BY path").fetchall()
        return dict(rows)

    return {"visits": await asyncio.to_thread(work)}


async def dynamic_task(seconds: float = 5.0) -> dict[str, Any]:
    """The seed's dynamic task: works for a while (``await asyncio.sleep``)."""
    await asyncio.sleep(seconds)
    return {"slept_s": seconds}
