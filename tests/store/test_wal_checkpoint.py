"""SQLite's WAL checkpoints move off the write turn while a node runs: commits stop
checkpointing (SQLite's default copies the WAL into the database inside the COMMIT, with the
write turn held) and the checkpointer copies it instead; when it stops, commits checkpoint
again."""

from __future__ import annotations

import threading
from pathlib import Path

from tickwork.store.database import Database
from tickwork.store.wal_checkpoint import WalCheckpointer

PAGE = 4096


def write_pages(db: Database, commits: int, rows: int = 400) -> None:
    for _ in range(commits):
        with db.write() as conn:
            conn.exec_driver_sql("CREATE TABLE IF NOT EXISTS t (x TEXT)")
            conn.exec_driver_sql(
                "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < ?) "
                "INSERT INTO t SELECT printf('%.*c', 4000, 'x') FROM c",
                (rows,),
            )


def autocheckpoint_of_a_connection(db: Database) -> int:
    with db.engine.connect() as conn:
        raw = conn.connection.driver_connection
        return int(raw.execute("PRAGMA wal_autocheckpoint").fetchone()[0])  # type: ignore[union-attr]


def test_commits_leave_the_wal_to_the_checkpointer_while_it_runs(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'w.db'}")
    wal = tmp_path / "w.db-wal"
    checkpointer = WalCheckpointer(db, interval_s=3600)  # no round of its own in this test
    try:
        write_pages(db, 1)
        assert autocheckpoint_of_a_connection(db) == 1000  # SQLite's default
        checkpointer.start()
        assert checkpointer.alive
        assert autocheckpoint_of_a_connection(db) == 0
        write_pages(db, 6)  # ~2,400 pages: past 1,000, no commit checkpointed
        assert wal.stat().st_size > 2_000 * PAGE
        busy, pages, copied = checkpointer.checkpoint()
        assert (busy, copied) == (0, pages)
        assert pages > 2_000
        checkpointer.stop()
        assert "tickwork-checkpoint" not in {t.name for t in threading.enumerate()}
        assert autocheckpoint_of_a_connection(db) == 1000
    finally:
        checkpointer.stop()
        db.dispose()


def test_a_commit_checkpoints_past_1000_pages_when_no_checkpointer_runs(tmp_path: Path) -> None:
    """The default it replaces: the WAL is copied and restarted by the commits themselves."""
    db = Database(f"sqlite:///{tmp_path / 'w.db'}")
    try:
        write_pages(db, 7)
        assert (tmp_path / "w.db-wal").stat().st_size < 2_000 * PAGE
    finally:
        db.dispose()


def test_not_on_other_databases(db_url: str) -> None:
    db = Database(db_url)
    checkpointer = WalCheckpointer(db)
    try:
        checkpointer.start()
        assert checkpointer.alive is db.is_sqlite
    finally:
        checkpointer.stop()
        db.dispose()


def test_a_running_node_checkpoints_in_its_own_thread(tmp_path: Path) -> None:
    from tickwork import Tickwork
    from tickwork.settings import Settings

    tw = Tickwork(settings=Settings(data_dir=tmp_path, timezone="UTC"))
    try:
        tw.start()
        assert "tickwork-checkpoint" in {t.name for t in threading.enumerate()}
        assert autocheckpoint_of_a_connection(tw.store.db) == 0
        tw.shutdown(wait=True)
        assert "tickwork-checkpoint" not in {t.name for t in threading.enumerate()}
        assert autocheckpoint_of_a_connection(tw.store.db) == 1000
    finally:
        tw.close()
