"""The console's task functions (the seed's ``app/tasks``), on the application's SQLite
database ``userdata/app.db``: instances, their collected sizes and the aggregations."""

from __future__ import annotations

import os
import sqlite3
import time
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent


def userdata() -> Path:
    return Path(os.environ.get("CONSOLE_USERDATA", str(HERE / "userdata")))


def connect() -> sqlite3.Connection:
    conn = sqlite3.connect(userdata() / "app.db")
    conn.executescript(
        """
        CREATE TABLE IF NOT EXISTS instances (id INTEGER PRIMARY KEY, name TEXT NOT NULL,
            path TEXT NOT NULL, accounts INTEGER NOT NULL DEFAULT 0);
        CREATE TABLE IF NOT EXISTS database_sizes (instance_id INTEGER NOT NULL,
            collected_on TEXT NOT NULL, size_bytes INTEGER NOT NULL,
            PRIMARY KEY (instance_id, collected_on));
        CREATE TABLE IF NOT EXISTS size_aggregations (instance_id INTEGER NOT NULL,
            period TEXT NOT NULL, avg_bytes REAL NOT NULL, PRIMARY KEY (instance_id, period));
        """
    )
    return conn


def cleanup_old_logs(days: int = 30) -> dict[str, int]:
    """Log and temporary files under userdata/logs older than ``days``."""
    cutoff = time.time() - days * 86400
    removed = 0
    for path in (userdata() / "logs").glob("*.log*"):
        if path.is_file() and not path.is_symlink() and path.stat().st_mtime < cutoff:
            path.unlink()
            removed += 1
    return {"removed": removed}


def sync_accounts() -> dict[str, int]:
    """Each instance's number of accounts (here: the tables of its SQLite file)."""
    with connect() as conn:
        rows = conn.execute("SELECT id, path FROM instances").fetchall()
        for instance_id, path in rows:
            with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as other:
                count = other.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
            conn.execute("UPDATE instances SET accounts = ? WHERE id = ?", (count, instance_id))
    return {"instances": len(rows)}


def collect_database_sizes() -> dict[str, int]:
    """Today's size of every instance's database file."""
    today = date.today().isoformat()
    with connect() as conn:
        rows = conn.execute("SELECT id, path FROM instances").fetchall()
        for instance_id, path in rows:
            conn.execute(
                "INSERT OR REPLACE INTO database_sizes VALUES (?, ?, ?)",
                (instance_id, today, Path(path).stat().st_size),
            )
    return {"collected": len(rows)}


def calculate_database_size_aggregations() -> dict[str, int]:
    """The monthly average size of every instance (the seed's day/week/month/quarter, cut to
    one period here)."""
    with connect() as conn:
        cur = conn.execute(
            "INSERT OR REPLACE INTO size_aggregations "
            "SELECT instance_id, substr(collected_on, 1, 7), avg(size_bytes) "
            "FROM database_sizes GROUP BY instance_id, substr(collected_on, 1, 7)"
        )
    return {"aggregations": cur.rowcount}


def monitor_partition_health() -> dict[str, object]:
    """Instances whose size was not collected in the last two days."""
    with connect() as conn:
        stale = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM instances i WHERE NOT EXISTS (SELECT 1 FROM database_sizes s "
                "WHERE s.instance_id = i.id AND s.collected_on >= date('now', '-2 day'))"
            )
        ]
    if stale:
        raise RuntimeError(f"no recent size for: {', '.join(stale)}")
    return {"healthy": True}
