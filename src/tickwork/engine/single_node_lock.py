"""SQLite runs one scheduler node: a second one on the same file is refused, clearly.

The lock is an OS file lock (``flock``) on the database file itself, so every name of the file
(a hard link in another directory, a symlink, a bind mount) meets the same lock; a lock file
beside the database was bypassed through a hard link elsewhere. The OS releases it when the
process dies, so a crash never leaves a stale lock behind.

``flock`` locks are independent of the POSIX record locks SQLite takes on the same file (on
Linux and the BSDs). The descriptor that holds the lock is never closed while the process
lives: closing any descriptor of a file drops every POSIX lock the process holds on it,
SQLite's included. One descriptor per database file is kept and reused.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from tickwork.errors import TickworkError


class SchedulerAlreadyRunning(TickworkError):
    """Another scheduler node already runs on this SQLite database."""


_guard = threading.Lock()
_descriptors: dict[tuple[int, int], int] = {}  # (device, inode) -> descriptor, kept open
_held: set[tuple[int, int]] = set()  # database files this process holds the lock of


def _descriptor(path: Path) -> tuple[tuple[int, int], int]:
    """The kept descriptor of the database file at ``path`` (opened on first use)."""
    st = os.stat(path)
    key = (st.st_dev, st.st_ino)
    fd = _descriptors.get(key)
    if fd is None:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        opened = os.fstat(fd)
        key = (opened.st_dev, opened.st_ino)  # the file we opened, should the path have moved
        fd = _descriptors.setdefault(key, fd)
    return key, fd


class SingleNodeLock:
    def __init__(self, db_path: Path) -> None:
        self.path = db_path
        self._key: tuple[int, int] | None = None

    def acquire(self) -> None:
        import fcntl

        with _guard:
            key, fd = _descriptor(self.path)
            taken = key in _held
            if not taken:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    taken = True
            if taken:
                raise SchedulerAlreadyRunning(
                    f"a scheduler is already running on {self.path} (this process or another "
                    "holds the database file's lock). SQLite supports one scheduler node; "
                    "stop it, or use PostgreSQL or MySQL (TICKWORK_DATABASE_URL) to run several."
                )
            _held.add(key)
            self._key = key

    def release(self) -> None:
        import fcntl

        with _guard:
            key, self._key = self._key, None
            if key is None or key not in _held:
                return
            _held.discard(key)
            fcntl.flock(_descriptors[key], fcntl.LOCK_UN)
