"""Job functions of the engine benchmark, shared by every system measured.

Each call records ``(job index, time.time())`` the moment the function is entered, so
lateness is measured the same way for Tickwork, APScheduler and Celery beat's tick.
"""

from __future__ import annotations

import threading
import time

CALLS: list[tuple[int, float]] = []  # list.append is atomic under the GIL
_done = threading.Semaphore(0)
DONE_COUNT = [0]


def record(i: int) -> None:
    """A job that does nothing but note when it was called."""
    CALLS.append((i, time.time()))


def record_sleep(i: int, ms: float) -> None:
    """A job that notes when it was called, then takes ``ms`` milliseconds (sleeping)."""
    CALLS.append((i, time.time()))
    time.sleep(ms / 1000.0)


def noop() -> None:
    """The target of the many-registered-jobs measurement (none fire during it)."""


def reset() -> None:
    CALLS.clear()
