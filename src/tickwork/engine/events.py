"""Events, with APScheduler 3's codes and attributes so its listeners port unchanged.

Listeners run on one event thread, in order, after the change they report was committed;
a slow listener delays other listeners, never the scheduler.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

log = logging.getLogger("tickwork.events")

EVENT_SCHEDULER_STARTED = EVENT_SCHEDULER_START = 2**0
EVENT_SCHEDULER_SHUTDOWN = 2**1
EVENT_SCHEDULER_PAUSED = 2**2
EVENT_SCHEDULER_RESUMED = 2**3
EVENT_EXECUTOR_ADDED = 2**4
EVENT_EXECUTOR_REMOVED = 2**5
EVENT_JOBSTORE_ADDED = 2**6
EVENT_JOBSTORE_REMOVED = 2**7
EVENT_ALL_JOBS_REMOVED = 2**8
EVENT_JOB_ADDED = 2**9
EVENT_JOB_REMOVED = 2**10
EVENT_JOB_MODIFIED = 2**11
EVENT_JOB_EXECUTED = 2**12
EVENT_JOB_ERROR = 2**13
EVENT_JOB_MISSED = 2**14
EVENT_JOB_SUBMITTED = 2**15
EVENT_JOB_MAX_INSTANCES = 2**16
EVENT_JOB_SKIPPED = EVENT_JOB_MAX_INSTANCES  # Tickwork's name for the same event
EVENT_JOB_LOST = 2**17  # Tickwork: the run's node died
EVENT_ALL = 2**18 - 1


@dataclass(frozen=True, slots=True)
class SchedulerEvent:
    code: int
    alias: str | None = None


@dataclass(frozen=True, slots=True)
class JobEvent:
    code: int
    job_id: str
    jobstore: str = "default"


@dataclass(frozen=True, slots=True)
class JobExecutionEvent:
    """A run was submitted, ended, was missed, skipped or lost."""

    code: int
    job_id: str
    run_id: int
    scheduled_run_time: datetime
    status: str
    jobstore: str = "default"
    retval: Any = None
    exception: BaseException | None = None
    traceback: str | None = None
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    attempt: int = 1  # 1 for the fire itself, 2 for its first retry, ...
    final: bool = True  # no further attempt follows (an error event of a retried run: False)
    fires: int = 1  # a missed event may stand for many fires of a downtime


Event = SchedulerEvent | JobEvent | JobExecutionEvent
Listener = Callable[[Any], None]


class EventBus:
    """Delivers events to listeners whose mask matches, on a dedicated thread."""

    def __init__(self) -> None:
        self._listeners: list[tuple[Listener, int]] = []
        self._lock = threading.Lock()
        self._queue: queue.SimpleQueue[Event | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self.mask = 0  # union of listener masks: lets publishers skip building events

    def add_listener(self, callback: Listener, mask: int = EVENT_ALL) -> None:
        with self._lock:
            self._listeners.append((callback, mask))
            self.mask |= mask
        self._ensure_thread()

    def remove_listener(self, callback: Listener) -> None:
        with self._lock:
            self._listeners = [(cb, m) for cb, m in self._listeners if cb is not callback]
            self.mask = 0
            for _, m in self._listeners:
                self.mask |= m

    def wants(self, code: int) -> bool:
        return bool(self.mask & code)

    def publish(self, event: Event) -> None:
        if self.mask & event.code:
            self._queue.put(event)

    def close(self, timeout_s: float = 5.0) -> None:
        """Deliver what is queued, then stop the thread."""
        thread = self._thread
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout_s)
            self._thread = None

    def _ensure_thread(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._deliver, name="tickwork-events", daemon=True
                )
                self._thread.start()

    def _deliver(self) -> None:
        while (event := self._queue.get()) is not None:
            with self._lock:
                listeners = list(self._listeners)
            for callback, mask in listeners:
                if mask & event.code:
                    try:
                        callback(event)
                    except Exception:
                        log.exception("event listener %r failed", callback)
