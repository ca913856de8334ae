"""One scheduler per host among the processes of a web server (gunicorn, uvicorn --workers,
Django's runserver reloader): the first worker to take a host-wide file lock runs the
scheduler node, the others stand by and retry, so when the elected worker dies (the OS drops
its lock) another one takes over within ``retry_s``.

This is about waste and SQLite, not about correctness: across hosts the store already lets
each due fire run once, however many nodes share a PostgreSQL/MariaDB database. On one host,
four gunicorn workers would otherwise each run a node (four sets of threads and heartbeats;
on SQLite, three refused starts). The lock is an ``flock`` on a file named after the database
URL's digest in a directory every worker sees (``TICKWORK_ELECTION_DIR``, default the system's
temporary directory); the OS releases it when the holder exits, however it exits.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger("tickwork.integrations")

ENV_DIR = "TICKWORK_ELECTION_DIR"
ENV_MODE = "TICKWORK_ELECTION"  # "host" (default) or "off": every process runs a node


def lock_path(database_url: str, directory: str | Path | None = None) -> Path:
    """The lock file the processes using ``database_url`` on this host compete for."""
    folder = Path(directory or os.environ.get(ENV_DIR) or tempfile.gettempdir())
    digest = hashlib.sha256(database_url.encode()).hexdigest()[:20]
    # per user: another user's lock file would not be ours to open (mode 0600)
    return folder / f"tickwork-scheduler-{os.getuid()}-{digest}.lock"


def election_enabled() -> bool:
    mode = os.environ.get(ENV_MODE, "host").strip().lower()
    if mode not in ("host", "off"):
        from tickwork.errors import InvalidInput

        raise InvalidInput(ENV_MODE, f"{mode!r} is not one of host, off")
    return mode == "host"


class HostElection:
    """``try_acquire()`` once, or ``campaign(on_elected)`` to keep trying in a daemon thread."""

    def __init__(self, path: Path, retry_s: float = 5.0) -> None:
        self.path = path
        self.retry_s = retry_s
        self._fd: int | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()

    @property
    def elected(self) -> bool:
        return self._fd is not None and self._pid == os.getpid()

    def try_acquire(self) -> bool:
        import fcntl

        if self.elected:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())  # who holds it, for a person looking
        self._fd, self._pid = fd, os.getpid()
        return True

    def holder_pid(self) -> int | None:
        """The pid written by the current holder (informational; None if unreadable)."""
        try:
            return int(self.path.read_text().strip() or 0) or None
        except (OSError, ValueError):
            return None

    def campaign(self, on_elected: Callable[[], None]) -> None:
        """Retry every ``retry_s`` in a daemon thread; call ``on_elected`` once when won."""
        if self._thread is not None:
            return

        def loop() -> None:
            while not self._stop.wait(self.retry_s):
                if self.try_acquire():
                    log.info("this process (pid %d) now runs the scheduler", os.getpid())
                    try:
                        on_elected()
                    except Exception:
                        log.exception("the elected process could not start the scheduler")
                        self._drop()
                        continue
                    return

        self._thread = threading.Thread(target=loop, name="tickwork-election", daemon=True)
        self._thread.start()

    def release(self) -> None:
        """Stop campaigning and give the lock up (another process may take it)."""
        self._stop.set()
        self._drop()

    def release_lock(self) -> None:
        """Give the lock up but keep campaigning (``campaign`` may still be called)."""
        self._drop()

    def _drop(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None and self._pid == os.getpid():
            os.close(fd)  # closing the only descriptor drops the flock
