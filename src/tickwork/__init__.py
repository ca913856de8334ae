"""Tickwork: a scheduled-task platform for Python teams.

>>> from tickwork import Tickwork
>>> tw = Tickwork("sqlite:///jobs.db")                                    # doctest: +SKIP
>>> tw.add_job("myapp.tasks:cleanup", "cron", hour=2, id="cleanup")      # doctest: +SKIP
>>> tw.start()                                                           # doctest: +SKIP

Names are imported on first use, so a process-executor worker (which imports this package)
does not pay for SQLAlchemy and the engine.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0.dev0"

_EVENTS = (
    "EVENT_ALL",
    "EVENT_JOB_ADDED",
    "EVENT_JOB_ERROR",
    "EVENT_JOB_EXECUTED",
    "EVENT_JOB_LOST",
    "EVENT_JOB_MAX_INSTANCES",
    "EVENT_JOB_MISSED",
    "EVENT_JOB_MODIFIED",
    "EVENT_JOB_REMOVED",
    "EVENT_JOB_SKIPPED",
    "EVENT_JOB_SUBMITTED",
    "EVENT_SCHEDULER_PAUSED",
    "EVENT_SCHEDULER_RESUMED",
    "EVENT_SCHEDULER_SHUTDOWN",
    "EVENT_SCHEDULER_STARTED",
)
_HOME = {
    **dict.fromkeys(_EVENTS, "tickwork.engine.events"),
    **dict.fromkeys(
        ("Conflict", "InvalidInput", "NotFound", "TickworkError", "TriggerError"), "tickwork.errors"
    ),
    "Job": "tickwork.job",
    "JobSpec": "tickwork.jobspec",
    "Tickwork": "tickwork.service",
}

if TYPE_CHECKING:
    from tickwork.engine.events import (
        EVENT_ALL,
        EVENT_JOB_ADDED,
        EVENT_JOB_ERROR,
        EVENT_JOB_EXECUTED,
        EVENT_JOB_LOST,
        EVENT_JOB_MAX_INSTANCES,
        EVENT_JOB_MISSED,
        EVENT_JOB_MODIFIED,
        EVENT_JOB_REMOVED,
        EVENT_JOB_SKIPPED,
        EVENT_JOB_SUBMITTED,
        EVENT_SCHEDULER_PAUSED,
        EVENT_SCHEDULER_RESUMED,
        EVENT_SCHEDULER_SHUTDOWN,
        EVENT_SCHEDULER_STARTED,
    )
    from tickwork.errors import Conflict, InvalidInput, NotFound, TickworkError, TriggerError
    from tickwork.job import Job
    from tickwork.jobspec import JobSpec
    from tickwork.service import Tickwork


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'tickwork' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


__all__ = [
    "EVENT_ALL",
    "EVENT_JOB_ADDED",
    "EVENT_JOB_ERROR",
    "EVENT_JOB_EXECUTED",
    "EVENT_JOB_LOST",
    "EVENT_JOB_MAX_INSTANCES",
    "EVENT_JOB_MISSED",
    "EVENT_JOB_MODIFIED",
    "EVENT_JOB_REMOVED",
    "EVENT_JOB_SKIPPED",
    "EVENT_JOB_SUBMITTED",
    "EVENT_SCHEDULER_PAUSED",
    "EVENT_SCHEDULER_RESUMED",
    "EVENT_SCHEDULER_SHUTDOWN",
    "EVENT_SCHEDULER_STARTED",
    "Conflict",
    "InvalidInput",
    "Job",
    "JobSpec",
    "NotFound",
    "Tickwork",
    "TickworkError",
    "TriggerError",
    "__version__",
]
