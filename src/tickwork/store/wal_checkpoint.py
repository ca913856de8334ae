"""SQLite's WAL checkpoints off the write turn, while a scheduler node runs.

By default SQLite checkpoints inside a COMMIT once the WAL passes 1,000 pages: the committing
connection copies the WAL's pages into the database file and syncs both, and in Tickwork it
does so while holding this process's write turn (``WriteTurn``), so the due starts queued
behind it wait for the copy and two fsyncs. Under the retention pass (whose deletes touch
hundreds of index pages a batch) that was every few batches, 15-30 ms each, and the
scheduler's p99 lateness followed. While a node runs, its connections do not checkpoint on
commit and this thread checkpoints instead (PASSIVE: it never waits for, nor blocks, readers
and writers); when the node stops, commits checkpoint again as before."""

from __future__ import annotations

import logging
import threading
from typing import Any

from tickwork.store.database import Database

log = logging.getLogger("tickwork.store")


class WalCheckpointer:
    def __init__(self, db: Database, interval_s: float = 0.2) -> None:
        self.db = db
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if not self.db.is_sqlite or self._thread is not None:
            return
        self._stop.clear()
        self.db.set_autocheckpoint(0)
        self._thread = threading.Thread(target=self._run, name="tickwork-checkpoint", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join(10)
        self._thread = None
        self.db.set_autocheckpoint(1000)  # SQLite's default
        self.checkpoint()

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def checkpoint(self) -> tuple[int, int, int]:
        """One PASSIVE checkpoint: (busy, pages in the WAL, pages copied to the database)."""
        with self.db.engine.connect() as conn:
            raw: Any = conn.connection.driver_connection
            row = raw.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return int(row[0]), int(row[1]), int(row[2])

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.checkpoint()
            except Exception as exc:  # the next round tries again; a commit never depends on it
                log.warning("WAL checkpoint failed: %s", exc)
