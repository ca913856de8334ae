"""Demo jobs for ``tickwork serve --demo``: small, honest tasks that show what runs record."""

from __future__ import annotations

import logging
import platform
import random
import time

log = logging.getLogger("tickwork.demo")


def heartbeat() -> str:
    """Every few seconds: proves the scheduler fires."""
    print(f"heartbeat from {platform.node()}")
    return "ok"


def report(kind: str = "daily") -> dict[str, object]:
    """Logs a line and returns a small result, like a report job would."""
    rows = random.randint(100, 999)
    log.info("built the %s report: %d rows", kind, rows)
    return {"kind": kind, "rows": rows}


def flaky(failure_rate: float = 0.5) -> str:
    """Fails at random, to show retries (each attempt is its own run record)."""
    if random.random() < failure_rate:
        raise RuntimeError("the upstream service did not answer (demo failure)")
    return "upstream answered"


def slow(seconds: float = 3.0) -> str:
    """Takes longer than its timeout, to show a timed_out run."""
    time.sleep(seconds)
    return f"slept {seconds} s"
