"""Targets for the cluster tests. Each execution appends one line to a file, so executions are
counted independently of the run records."""

from __future__ import annotations

import os
import time
from pathlib import Path


def mark(log: str, key: str) -> str:
    # O_APPEND writes of one short line are atomic across processes.
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, f"{key} {os.getpid()}\n".encode())
    finally:
        os.close(fd)
    return key


def hang_first_time(marker: str, log: str, key: str) -> str:
    """The first attempt hangs (its node is killed meanwhile); a retry returns at once."""
    path = Path(marker)
    mark(log, key)
    if not path.exists():
        path.write_text(str(os.getpid()))
        time.sleep(120)
    return "done"


def mark_and_sleep(log: str, key: str, seconds: float) -> str:
    """A long run: one ledger line when it starts, one when it ends."""
    mark(log, f"{key}:start")
    time.sleep(seconds)
    mark(log, f"{key}:end")
    return key


def step(log: str, key: str, seconds: float) -> str:
    """A workflow step: one ledger line per execution, then a short while of work."""
    mark(log, key)
    time.sleep(seconds)
    return key
