"""ThreadExecutor: runs targets in a pool of threads of this process (the default executor).

Timeouts and cancels are soft: at the deadline the run ends ``timed_out`` (``on_done`` is
called right then) and the worker thread is sent an asynchronous exception, which Python
raises at the thread's next bytecode. A target blocked in C code (``time.sleep``, a socket
read, a lock) sees it only when that call returns, and its slot stays taken until the thread
really returns. Targets that must be stopped hard belong on the process executor.
"""

from __future__ import annotations

import ctypes
import sys
import threading
import time
from queue import SimpleQueue
from types import FrameType
from typing import Any

from tickwork.clock import Clock
from tickwork.executors import capture
from tickwork.executors.base import Executor, OnDone, OnStart, RunRequest
from tickwork.executors.outcome import (
    ActiveRun,
    TracksRuns,
    execution_of,
    frames_of,
    log,
    stack_text,
)
from tickwork.executors.timers import Timer, TimerThread
from tickwork.models import RunStatus
from tickwork.targets.python import invoke, resolve

_set_async_exc = ctypes.pythonapi.PyThreadState_SetAsyncExc


class RunInterrupted(BaseException):
    """Raised inside a target whose run timed out or was cancelled.

    A BaseException, so that ``except Exception`` in a target does not swallow it.
    """


_NEW, _STARTED, _CLOSING, _CLOSED = range(4)


class _ThreadRun(ActiveRun):
    __slots__ = ("in_target", "interrupted", "stack", "thread_id", "timer")

    def __init__(self, request: RunRequest, on_start: OnStart, on_done: OnDone) -> None:
        super().__init__(request, on_start, on_done)
        self.thread_id = 0
        self.in_target = False  # between claim and settle: an interrupt may be sent
        self.interrupted = False  # an interrupt was sent (it is raised or cleared by settle)
        self.timer: Timer | None = None
        self.stack: list[FrameType] | None = None  # of the target when it was stopped


class ThreadExecutor(TracksRuns, Executor):
    """A pool of ``max_workers`` threads; each runs one run at a time, the rest queue."""

    name = "thread"

    def __init__(self, max_workers: int, clock: Clock) -> None:
        super().__init__(max_workers, clock)
        self._lock = threading.Lock()
        self._settled = threading.Condition(self._lock)  # shutdown waits on it
        self._queue: SimpleQueue[_ThreadRun | None] = SimpleQueue()
        self._runs: dict[int, _ThreadRun] = {}  # submitted, not finished
        self._occupied = 0  # runs whose worker has not returned yet (queued, running, stuck)
        self._threads: list[threading.Thread] = []
        self._timers = TimerThread("tickwork-thread-timers")
        self._state = _NEW

    # -- the contract ------------------------------------------------------------------------

    def start(self) -> None:
        with self._lock:
            if self._state != _NEW:
                raise RuntimeError("a ThreadExecutor starts only once")
            self._state = _STARTED
        capture.acquire()
        self._timers.start()
        for i in range(self.max_workers):
            thread = threading.Thread(target=self._work, name=f"tickwork-thread-{i}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def submit(self, request: RunRequest, on_start: OnStart, on_done: OnDone) -> None:
        run = _ThreadRun(request, on_start, on_done)
        with self._lock:
            if self._state != _STARTED:
                raise RuntimeError("the executor is not running (start() it; after shutdown() no)")
            if request.run_id in self._runs:
                raise ValueError(f"run {request.run_id} is already submitted")
            self._runs[request.run_id] = run
            self._occupied += 1
        self._queue.put(run)

    def cancel(self, run_id: int, reason: str) -> bool:
        with self._lock:
            run = self._runs.get(run_id)
            if run is None or not self._stop_locked(run):
                return False
        # Delivered from the control thread: on_done never runs inside the engine's cancel().
        self._timers.call_soon(self._deliver_stopped, run, RunStatus.CANCELLED, reason)
        return True

    def health(self) -> dict[str, bool]:
        return {"timer": self._timers.alive}

    @property
    def free_slots(self) -> int:
        if self._state != _STARTED:
            return 0
        return max(0, self.max_workers - self._occupied)

    def shutdown(self, wait_s: float) -> None:
        with self._lock:
            if self._state != _STARTED:
                return
            self._state = _CLOSING
            queued = [run for run in self._runs.values() if run.started_us is None]
            for run in queued:
                self._stop_locked(run)
        for run in queued:
            self._deliver_stopped(
                run, RunStatus.CANCELLED, "shutdown: the executor stopped before the run started"
            )
        deadline = time.monotonic() + max(0.0, wait_s)
        with self._lock:
            while self._runs and (left := deadline - time.monotonic()) > 0:
                self._settled.wait(left)
            running = list(self._runs.values())
            for run in running:
                self._stop_locked(run)
        for run in running:
            self._deliver_stopped(
                run, RunStatus.CANCELLED, f"shutdown: the run did not finish within {wait_s:g} s"
            )
        for _ in self._threads:
            self._queue.put(None)
        # Interrupted threads get a moment to unwind; one stuck in C code is left behind
        # (daemon threads: they do not keep the process alive).
        join_until = time.monotonic() + 1.0
        for thread in self._threads:
            if thread is not threading.current_thread():  # shut down from a callback
                thread.join(max(0.0, join_until - time.monotonic()))
        self._timers.stop()
        capture.release()
        with self._lock:
            self._state = _CLOSED

    # -- ending runs from outside ------------------------------------------------------------

    def _stop_locked(self, run: _ThreadRun) -> bool:
        """Claim ``run``'s end for a timeout, cancel or shutdown; interrupt its thread."""
        if run.finished:
            return False
        run.finished = True
        del self._runs[run.request.run_id]
        if run.timer is not None:
            run.timer.cancel()
            run.timer = None  # the timer refers to the run: no cycle left for the GC
        if run.in_target and run.execution is not None:
            run.execution.stop()  # a kind's execution ends itself (kills its process group)
        elif run.in_target:
            # Where the target is now, before the interrupt unwinds it (formatted later).
            run.stack = frames_of(sys._current_frames().get(run.thread_id))
            run.interrupted = True
            _set_async_exc(ctypes.c_ulong(run.thread_id), ctypes.py_object(RunInterrupted))
        elif run.started_us is None:  # still queued: its worker will skip it
            self._occupied -= 1
        return True

    def _expire(self, run: _ThreadRun) -> None:
        with self._lock:
            run.timer = None
            if not self._stop_locked(run):
                return
        timeout = run.request.timeout_s
        self._deliver_stopped(
            run, RunStatus.TIMED_OUT, f"timeout: the run took longer than {timeout:g} s"
        )

    def _deliver_stopped(self, run: _ThreadRun, status: RunStatus, error: str) -> None:
        stack = stack_text(run.stack) if run.stack else None
        run.stack = None
        run.deliver(run.stopped(self.clock, status, error, stack))

    # -- worker threads ----------------------------------------------------------------------

    def _work(self) -> None:
        get = self._queue.get
        thread_id = threading.get_ident()
        while (run := get()) is not None:
            try:
                self._execute(run, thread_id)
            except RunInterrupted:
                # It arrived after the target returned; the run already ended (timeout/cancel).
                self._settle(run, None, None)
            except BaseException:  # a bug of ours; the worker must survive it
                log.exception("thread executor worker failed on run %s", run.request.run_id)
            capture.clear()  # in case an interrupt skipped the reset of the run's sink

    def _execute(self, run: _ThreadRun, thread_id: int) -> None:
        request = run.request
        started_us = self.clock.now_us()
        with self._lock:
            if run.finished:  # cancelled while queued; its slot is already free
                return
            run.thread_id = thread_id
            run.started_us = started_us
        if request.timeout_s is not None:
            # Outside the lock; a cancel racing with this leaves a timer that fires as a no-op.
            run.timer = self._timers.call_later(request.timeout_s, self._expire, run)
        run.begin()  # not interruptible: an interrupt must never land in the engine's callback
        value: Any = None
        exc: BaseException | None = None
        token = capture.activate(run.log)
        try:
            try:
                # Resolved before interrupts are allowed: an import cut short by one would
                # leave half-initialised modules behind for every later run.
                if request.kind == "python":
                    func = resolve(request.target)
                else:  # other kinds are stopped through their execution, not interrupted
                    run.execution = execution_of(request)
                with self._lock:
                    entered = run.in_target = not run.finished
                if entered:
                    if run.execution is None:
                        value = invoke(func, request.args, request.kwargs)
                    else:
                        value = run.execution.run(run.log)
            except BaseException as raised:
                exc = raised
        except RunInterrupted as late:  # raised inside the handler just above
            exc = late
        finally:
            capture.deactivate(token)
        self._settle(run, value, exc)

    def _settle(self, run: _ThreadRun, value: Any, exc: BaseException | None) -> None:
        """Free the slot and report the outcome unless a timeout or cancel already did.

        Safe to call twice: a pending interrupt can only fire before it is cleared below,
        when nothing has been counted yet; the worker then calls this again.
        """
        with self._lock:
            run.in_target = False  # no interrupt can be sent after this
            if run.interrupted:
                run.interrupted = False
                _set_async_exc(ctypes.c_ulong(run.thread_id), None)  # drop one not yet raised
            self._occupied -= 1
            mine = not run.finished
            if mine:
                run.finished = True
                del self._runs[run.request.run_id]
                if run.timer is not None:
                    run.timer.cancel()
                    run.timer = None
            if self._state == _CLOSING:
                self._settled.notify_all()
        if mine:
            run.deliver(run.ended(self.clock, value, exc))
