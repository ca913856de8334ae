"""SQLite runs one scheduler node: a second one on the same file is refused, clearly.

An OS file lock beside the database file is held for the node's lifetime; the OS releases it
when the process dies, so a crash never leaves a stale lock behind.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO

from tickwork.errors import TickworkError


class SchedulerAlreadyRunning(TickworkError):
    """Another scheduler node already runs on this SQLite database."""


class SingleNodeLock:
    def __init__(self, db_path: Path) -> None:
        self.path = db_path.with_name(db_path.name + ".scheduler.lock")
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        import fcntl

        handle = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - held until release
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise SchedulerAlreadyRunning(
                f"a scheduler is already running on {self.path.with_suffix('')} ({holder}). "
                "SQLite supports one scheduler node; stop it, or use PostgreSQL or MySQL "
                "(TICKWORK_DATABASE_URL) to run several."
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        self._file = handle

    def release(self) -> None:
        if self._file is not None:
            import fcntl

            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None
