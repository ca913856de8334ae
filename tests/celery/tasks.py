"""Targets of the Celery tests. Each execution appends a line to a ledger file, so executions
are counted independently of the run records."""

from __future__ import annotations

import os
import time

from tests.cluster.tasks import mark


def mark_and_print(log: str, key: str) -> dict[str, object]:
    mark(log, key)
    print(f"hello from {key}")
    return {"key": key, "pid": os.getpid()}


def sleep_marked(log: str, key: str, seconds: float) -> str:
    """A long run: one ledger line when it starts, one when it ends."""
    mark(log, f"{key}:start")
    print(f"{key} is under way", flush=True)
    time.sleep(seconds)
    mark(log, f"{key}:end")
    return key


def hang_first_time(marker: str, log: str, key: str) -> str:
    """The first attempt hangs (its worker is killed meanwhile); a retry returns at once."""
    mark(log, key)
    if not os.path.exists(marker):
        with open(marker, "w") as f:
            f.write(str(os.getpid()))
        time.sleep(300)
    return "done"
