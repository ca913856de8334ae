"""Time for the engine. Everything asks a Clock; tests move a FakeClock instead of sleeping."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Protocol


def us_to_datetime(us: int) -> datetime:
    """Aware UTC datetime of epoch microseconds."""
    return datetime.fromtimestamp(us // 1_000_000, UTC).replace(microsecond=us % 1_000_000)


class Clock(Protocol):
    def now_us(self) -> int:
        """Current instant in epoch microseconds (UTC)."""
        ...

    def wait(self, event: threading.Event, timeout_s: float | None) -> bool:
        """Block until ``event`` is set or ``timeout_s`` of this clock's time passed."""
        ...


class SystemClock:
    """The real clock."""

    def now_us(self) -> int:
        return time.time_ns() // 1_000

    def now(self) -> datetime:
        return us_to_datetime(self.now_us())

    def wait(self, event: threading.Event, timeout_s: float | None) -> bool:
        return event.wait(timeout_s)


class FakeClock:
    """A clock that only moves when told to. Waiters wake when the time they wait for arrives."""

    def __init__(self, start_us: int) -> None:
        self._now = start_us
        self._cond = threading.Condition()

    def now_us(self) -> int:
        with self._cond:
            return self._now

    def now(self) -> datetime:
        return us_to_datetime(self.now_us())

    def set(self, us: int) -> None:
        with self._cond:
            if us < self._now:
                raise ValueError("a FakeClock does not go backwards")
            self._now = us
            self._cond.notify_all()

    def advance(self, seconds: float) -> None:
        self.set(self.now_us() + round(seconds * 1_000_000))

    def wait(self, event: threading.Event, timeout_s: float | None) -> bool:
        with self._cond:
            deadline = None if timeout_s is None else self._now + round(timeout_s * 1_000_000)
            while not event.is_set():
                if deadline is not None and self._now >= deadline:
                    return False
                # Wake periodically so an event set without notifying us is still seen.
                self._cond.wait(0.01)
            return True
