"""One control thread per executor: callbacks soon, or at a deadline of real monotonic time.

Timeouts measure real elapsed time on purpose, not the injected clock: a target sleeping in
real time must be stopped in real time, whatever a test does with a FakeClock.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

log = logging.getLogger("tickwork.executors")
# The longest the thread sleeps in one wait. A deadline further away (a job's timeout may be a
# month) is reached in several waits: a single wait of 1e10 s overflowed and killed the thread.
MAX_SLEEP_S = 3600.0


class Timer:
    """A pending :meth:`TimerThread.call_later`; :meth:`cancel` is cheap (lazy removal)."""

    __slots__ = ("_owner", "args", "callback", "cancelled", "when")

    def __init__(
        self, owner: TimerThread, when: float, callback: Callable[..., None], args: tuple[Any, ...]
    ) -> None:
        self._owner = owner
        self.when = when
        self.callback = callback
        self.args = args
        self.cancelled = False

    def cancel(self) -> None:
        if not self.cancelled:
            self.cancelled = True
            # No lock: the count only decides when to rebuild the heap; a lost update is fine.
            self._owner._cancelled += 1


class TimerThread:
    """Runs callbacks in one daemon thread, in order: first those asked "soon", then due timers.

    Callbacks must be short; an exception they raise is logged and the thread goes on. The
    per-run cost on the callers' side is a push on a heap under a plain lock; the thread is
    woken only when the earliest deadline changes.
    """

    def __init__(self, name: str) -> None:
        self._name = name
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._heap: list[tuple[float, int, Timer]] = []
        self._soon: deque[tuple[Callable[..., None], tuple[Any, ...]]] = deque()
        self._seq = itertools.count()
        self._cancelled = 0
        self._stopping = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name=self._name, daemon=True)
        self._thread.start()

    @property
    def alive(self) -> bool:
        """The thread runs (False before start() and after it died or stopped)."""
        return self._thread is not None and self._thread.is_alive()

    def stop(self) -> None:
        """Run the callbacks already asked with :meth:`call_soon`, drop timers, end the thread."""
        with self._lock:
            self._stopping = True
        self._wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()

    def call_soon(self, callback: Callable[..., None], *args: Any) -> None:
        with self._lock:
            self._soon.append((callback, args))
        self._wake.set()

    def call_later(self, delay_s: float, callback: Callable[..., None], *args: Any) -> Timer:
        timer = Timer(self, time.monotonic() + delay_s, callback, args)
        with self._lock:
            heap = self._heap
            if self._cancelled > 256 and self._cancelled * 2 > len(heap):
                # Most entries belong to runs that ended in time: rebuild without them.
                heap[:] = [entry for entry in heap if not entry[2].cancelled]
                heapq.heapify(heap)
                self._cancelled = 0
            heapq.heappush(heap, (timer.when, next(self._seq), timer))
            earliest = heap[0][2] is timer
        if earliest:  # only a new earliest deadline changes how long the thread sleeps
            self._wake.set()
        return timer

    def _due(self) -> tuple[list[tuple[Callable[..., None], tuple[Any, ...]]], float | None]:
        """Callbacks to run now, and how long to sleep when there are none (None: no timer)."""
        batch: list[tuple[Callable[..., None], tuple[Any, ...]]] = []
        with self._lock:
            while self._soon:
                batch.append(self._soon.popleft())
            heap = self._heap
            now = time.monotonic()
            while heap and (heap[0][2].cancelled or heap[0][0] <= now):
                _, _, timer = heapq.heappop(heap)
                if not timer.cancelled:
                    timer.cancelled = True  # fired: a late cancel() is a no-op
                    batch.append((timer.callback, timer.args))
            if self._stopping and not self._soon:
                return batch, -1.0
            return batch, (heap[0][0] - now if heap else None)

    def _loop(self) -> None:
        while True:
            self._wake.clear()  # before looking: a later set() makes the wait return at once
            batch, sleep_s = self._due()
            for callback, args in batch:
                try:
                    callback(*args)
                except Exception:
                    log.exception("executor timer callback %r raised", callback)
            if sleep_s is not None and sleep_s < 0:
                return
            if not batch:
                self._wake.wait(None if sleep_s is None else min(sleep_s, MAX_SLEEP_S))
