"""Enumerations shared by every layer: run status and reason, misfire and concurrency policies."""

from __future__ import annotations

from enum import StrEnum


class RunStatus(StrEnum):
    SCHEDULED = "scheduled"  # recorded and claimed or queued, not started yet
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    CANCELLED = "cancelled"
    SKIPPED = "skipped"  # not run because of the concurrency policy
    MISSED = "missed"  # not run because of the misfire policy (downtime, overload)
    LOST = "lost"  # its node died while it was claimed or running

    @property
    def finished(self) -> bool:
        return self not in (RunStatus.SCHEDULED, RunStatus.RUNNING)


FINISHED_STATUSES = frozenset(s for s in RunStatus if s.finished)
ACTIVE_STATUSES = frozenset({RunStatus.SCHEDULED, RunStatus.RUNNING})


class RunReason(StrEnum):
    SCHEDULE = "schedule"
    MANUAL = "manual"
    RETRY = "retry"
    CATCH_UP = "catch-up"
    DEPENDENCY = "dependency"


class MisfirePolicy(StrEnum):
    RUN_ONCE = "run_once"  # of the fires overdue within the grace time, run the latest
    RUN_ALL = "run_all"  # run every overdue fire within the grace time, up to a cap
    SKIP = "skip"  # run none of the overdue fires


class ConcurrencyPolicy(StrEnum):
    ALLOW = "allow"  # up to max_instances at once; further fires are recorded skipped
    FORBID = "forbid"  # never two at once; a fire while one runs is recorded skipped
    REPLACE = "replace"  # cancel the running instance and start the new fire
