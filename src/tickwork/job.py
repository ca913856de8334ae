"""The Job object the Python API returns: APScheduler 3's attributes and methods, over a
stored JobRecord."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from tickwork.clock import us_to_datetime
from tickwork.engine.trigger_cache import trigger_of
from tickwork.store.records import JobRecord
from tickwork.targets import resolve
from tickwork.triggers import Trigger


class JobOwner(Protocol):
    """What a Job calls back: the facade (``tickwork.Tickwork``), without importing it."""

    def modify_job(self, job_id: str, /, **changes: Any) -> Job: ...
    def reschedule_job(self, job_id: str, trigger: Any = ..., /, **trigger_args: Any) -> Job: ...
    def pause_job(self, job_id: str, /) -> Job: ...
    def resume_job(self, job_id: str, /) -> Job: ...
    def remove_job(self, job_id: str, /) -> None: ...
    def run_job(self, job_id: str, /) -> int: ...


class Job:
    """A scheduled job. Reading attributes never touches the database; methods do."""

    def __init__(self, scheduler: JobOwner, record: JobRecord, *, pending: bool = False) -> None:
        self._scheduler = scheduler
        self.record = record
        self.pending = pending  # declared in code, written to the database at start()

    # -- APScheduler 3 attributes -----------------------------------------------------------
    @property
    def id(self) -> str:
        return self.record.id

    @property
    def name(self) -> str:
        return self.record.name

    @property
    def func_ref(self) -> str:
        """The Python reference (for other kinds, the kind's name: ``"shell"``)."""
        return str(self.record.target.get("ref", self.record.target_kind))

    @property
    def kind(self) -> str:
        """The job's kind: python, shell, http, sql or script."""
        return self.record.target_kind

    @property
    def func(self) -> Callable[..., Any]:
        return resolve(self.func_ref)

    @property
    def args(self) -> tuple[Any, ...]:
        return tuple(self.record.target.get("args") or ())

    @property
    def kwargs(self) -> dict[str, Any]:
        """The job's kwargs, its secrets opened (they are sealed in the database)."""
        kwargs = dict(self.record.target.get("kwargs") or {})
        if self.record.secret_keys:
            from tickwork.connections.job_secrets import open_value

            for name in self.record.secret_keys:
                if name in kwargs:
                    kwargs[name] = open_value(self.record.id, name, kwargs[name])
        return kwargs

    @property
    def trigger(self) -> Trigger:
        return trigger_of(self.record.trigger)

    @property
    def executor(self) -> str:
        return self.record.executor

    @property
    def misfire_grace_time(self) -> float | None:
        return self.record.misfire_grace_s

    @property
    def coalesce(self) -> bool:
        return self.record.misfire_policy != "run_all"

    @property
    def max_instances(self) -> int:
        return self.record.max_instances

    @property
    def next_run_time(self) -> datetime | None:
        nxt = self.record.next_fire_at
        if nxt is None:
            return None
        return us_to_datetime(nxt).astimezone(self.trigger.tz)

    # -- Tickwork attributes ----------------------------------------------------------------
    @property
    def group(self) -> str:
        return self.record.group

    @property
    def tags(self) -> list[str]:
        return list(self.record.tags)

    @property
    def paused(self) -> bool:
        return self.record.paused

    @property
    def version(self) -> int:
        return self.record.version

    # -- APScheduler 3 methods --------------------------------------------------------------
    def modify(self, **changes: Any) -> Job:
        return self._refresh(self._scheduler.modify_job(self.id, **changes))

    def reschedule(self, trigger: Any = None, **trigger_args: Any) -> Job:
        return self._refresh(self._scheduler.reschedule_job(self.id, trigger, **trigger_args))

    def pause(self) -> Job:
        return self._refresh(self._scheduler.pause_job(self.id))

    def resume(self) -> Job:
        return self._refresh(self._scheduler.resume_job(self.id))

    def remove(self) -> None:
        self._scheduler.remove_job(self.id)

    def run(self) -> int:
        """Queue a run now; returns its run id at once."""
        return self._scheduler.run_job(self.id)

    def _refresh(self, other: Job) -> Job:
        self.record = other.record
        self.pending = other.pending
        return self

    def __repr__(self) -> str:
        return f"<Job (id={self.id} name={self.name})>"

    def __str__(self) -> str:
        when = self.next_run_time
        state = "paused" if self.paused else (f"next run at: {when}" if when else "completed")
        return f"{self.name} (trigger: {self.trigger.describe('en')}, {state})"
