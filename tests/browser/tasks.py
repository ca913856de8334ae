"""Targets of the browser tests' jobs (imported by the `tickwork serve` under test)."""

from __future__ import annotations

import time


def countdown(steps: int = 4, pause: float = 0.8) -> str:
    """Prints a line every ``pause`` seconds, so the console's live log has something to show."""
    for i in range(1, steps + 1):
        print(f"step {i} of {steps}", flush=True)
        time.sleep(pause)
    return f"counted {steps} steps"


def noop() -> None:
    return None


def fail(reason: str = "upstream refused the request") -> None:
    """Always fails, so a job with retries gets a retry run."""
    raise RuntimeError(reason)


def say(word: str) -> str:
    """Prints ``word`` into the run's log (the runs page searches logs)."""
    print(f"the word of this run is {word}", flush=True)
    return word


def keep(days: int = 7, mode: str = "fast", dry_run: bool = False, note: str = "") -> str:
    """A job with declared run-time parameters: says what a run was given."""
    return f"days={days} mode={mode} dry_run={dry_run} note={note}"
