"""Concurrency and retry decisions, as pure functions the dispatcher and writer call."""

from __future__ import annotations

import random
from enum import Enum

from tickwork.models import ConcurrencyPolicy, RunReason, RunStatus

RETRYABLE = frozenset({RunStatus.FAILED, RunStatus.TIMED_OUT, RunStatus.LOST})


class Admission(Enum):
    START = "start"
    SKIP = "skip"  # record the run as skipped
    WAIT = "wait"  # start when a running instance ends (run_all catch-up runs)
    REPLACE = "replace"  # cancel the running instances, then start


def admit(
    policy: str, max_instances: int, active: int, reason: str, misfire_policy: str
) -> Admission:
    """Decide what happens to a run that is due while ``active`` instances of its job run."""
    limit = 1 if policy == ConcurrencyPolicy.FORBID else max(max_instances, 1)
    if active < limit:
        return Admission.START
    if policy == ConcurrencyPolicy.REPLACE:
        return Admission.REPLACE
    if reason == RunReason.CATCH_UP and misfire_policy == "run_all":
        return Admission.WAIT  # catch-up runs of one job run one after another
    return Admission.SKIP


def retry_delay_s(
    attempt: int, backoff_s: float, backoff_max_s: float, rnd: random.Random
) -> float:
    """Exponential backoff with "equal jitter": half fixed, half random, capped.

    ``attempt`` is the attempt that just failed (1 for the first run)."""
    base = min(backoff_max_s, backoff_s * 2.0 ** (attempt - 1))
    return base / 2 + rnd.uniform(0, base / 2)


def should_retry(status: RunStatus, attempt: int, retries: int) -> bool:
    return status in RETRYABLE and attempt <= retries
