"""AsyncioExecutor: coroutine targets as tasks on one event loop in a dedicated thread.

At most ``max_workers`` runs are active at once; the others wait in order. A plain function
given to it runs in the loop's default thread pool (``asyncio.to_thread``, ``max_workers``
threads), where a timeout or cancel ends the run but cannot stop the function: use the thread
executor (which interrupts) or the process executor (which kills) for those.

A timeout or cancel ends the run at once (``on_done`` is called right then) and cancels the
task; the slot is freed when the task has really finished. Callbacks run on the loop thread,
so they must be quick.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tickwork.clock import Clock
from tickwork.executors import capture
from tickwork.executors.base import Executor, OnDone, OnStart, RunRequest
from tickwork.executors.outcome import (
    ActiveRun,
    TracksRuns,
    coroutine_frames,
    execution_of,
    log,
    stack_text,
)
from tickwork.models import RunStatus
from tickwork.targets.base import Execution
from tickwork.targets.python import call_context, is_coroutine_function, resolve

_NEW, _STARTED, _CLOSING, _CLOSED = range(4)


class _TaskRun(ActiveRun):
    __slots__ = ("admitted", "task", "timer")

    def __init__(self, request: RunRequest, on_start: OnStart, on_done: OnDone) -> None:
        super().__init__(request, on_start, on_done)
        self.admitted = False  # a task was made for it; the task's end frees the slot
        self.task: asyncio.Task[None] | None = None
        self.timer: asyncio.TimerHandle | None = None


class AsyncioExecutor(TracksRuns, Executor):
    """One event loop thread; runs are tasks, at most ``max_workers`` at once."""

    name = "asyncio"

    def __init__(self, max_workers: int, clock: Clock) -> None:
        super().__init__(max_workers, clock)
        self._lock = threading.Lock()
        self._settled = threading.Condition(self._lock)
        self._runs: dict[int, _TaskRun] = {}  # submitted, not finished
        self._occupied = 0  # submitted runs whose task has not ended (or that never started)
        self._state = _NEW
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None
        # Loop-thread only: runs waiting for a slot, and tasks alive.
        self._waiting: deque[_TaskRun] = deque()
        self._active = 0

    # -- the contract ------------------------------------------------------------------------

    def start(self) -> None:
        with self._lock:
            if self._state != _NEW:
                raise RuntimeError("an AsyncioExecutor starts only once")
            self._state = _STARTED
        capture.acquire()
        loop = asyncio.new_event_loop()
        self._pool = ThreadPoolExecutor(self.max_workers, thread_name_prefix="tickwork-asyncio")
        loop.set_default_executor(self._pool)
        self._loop = loop
        ready = threading.Event()
        self._thread = threading.Thread(
            target=self._run_loop, args=(ready,), name="tickwork-asyncio", daemon=True
        )
        self._thread.start()
        ready.wait()

    def submit(self, request: RunRequest, on_start: OnStart, on_done: OnDone) -> None:
        run = _TaskRun(request, on_start, on_done)
        with self._lock:
            if self._state != _STARTED:
                raise RuntimeError("the executor is not running (start() it; after shutdown() no)")
            if request.run_id in self._runs:
                raise ValueError(f"run {request.run_id} is already submitted")
            self._runs[request.run_id] = run
            self._occupied += 1
        assert self._loop is not None
        # A loop closed meanwhile means shutdown() got here first and ended the run.
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._admit, run, context=_PLAIN)

    def cancel(self, run_id: int, reason: str) -> bool:
        with self._lock:
            run = self._runs.get(run_id)
            if run is None or not self._claim_stop_locked(run):
                return False
        assert self._loop is not None
        try:
            self._loop.call_soon_threadsafe(
                self._stopped, run, RunStatus.CANCELLED, reason, context=_PLAIN
            )
        except RuntimeError:  # the loop is closed (shutdown): no task is left to cancel
            self._report_stopped(run, RunStatus.CANCELLED, reason)
        return True

    def health(self) -> dict[str, bool]:
        return {"loop": self._thread is not None and self._thread.is_alive()}

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
                self._claim_stop_locked(run)
        for run in queued:
            run.deliver(
                run.stopped(
                    self.clock,
                    RunStatus.CANCELLED,
                    "shutdown: the executor stopped before the run started",
                )
            )
        deadline = time.monotonic() + max(0.0, wait_s)
        with self._lock:
            while self._runs and (left := deadline - time.monotonic()) > 0:
                self._settled.wait(left)
            running = list(self._runs.values())
            for run in running:
                self._claim_stop_locked(run)
        loop = self._loop
        assert loop is not None
        assert self._thread is not None
        assert self._pool is not None
        # Reported from here, not from the loop: a target blocking the loop must not block
        # shutdown. Only the cancellation of the tasks is left to the loop.
        error = f"shutdown: the run did not finish within {wait_s:g} s"
        for run in running:
            self._report_stopped(run, RunStatus.CANCELLED, error)
        loop.call_soon_threadsafe(self._cancel_tasks, running, context=_PLAIN)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not threading.current_thread():  # not when shut down from a callback
            self._thread.join(2.0)
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            log.warning("asyncio executor: a target blocks the event loop; leaving it behind")
        # Functions stuck in the thread pool cannot be stopped; do not wait for them.
        self._pool.shutdown(wait=False, cancel_futures=True)
        capture.release()
        with self._lock:
            self._state = _CLOSED

    # -- the loop thread ---------------------------------------------------------------------

    def _run_loop(self, ready: threading.Event) -> None:
        loop = self._loop
        assert loop is not None
        asyncio.set_event_loop(loop)
        loop.call_soon(ready.set)
        try:
            loop.run_forever()
            # Give cancelled tasks one chance to unwind, then close; a task that ignores
            # cancellation is abandoned (its run has ended already).
            tasks = asyncio.all_tasks(loop)
            for task in tasks:
                task.cancel()
            if tasks:
                loop.run_until_complete(asyncio.wait(tasks, timeout=1.0))
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            asyncio.set_event_loop(None)
            loop.close()

    def _admit(self, run: _TaskRun) -> None:
        self._waiting.append(run)
        self._pump()

    def _pump(self) -> None:
        loop = self._loop
        assert loop is not None
        while self._waiting and self._active < self.max_workers:
            run = self._waiting.popleft()
            with self._lock:
                if run.finished:  # cancelled while waiting; the canceller freed its slot
                    continue
                run.admitted = True
            self._active += 1
            # A fresh context per task: the run's output sink is set inside it only.
            task = loop.create_task(self._execute(run), context=contextvars.Context())
            task.add_done_callback(self._task_done, context=_PLAIN)
            run.task = task

    def _task_done(self, task: asyncio.Task[None]) -> None:
        # A done callback, not a finally: a task cancelled before its first step runs no code.
        self._active -= 1
        with self._lock:
            self._occupied -= 1
            if self._state == _CLOSING:
                self._settled.notify_all()
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("asyncio executor task failed", exc_info=exc)
        self._pump()

    async def _execute(self, run: _TaskRun) -> None:
        request = run.request
        started_us = self.clock.now_us()
        with self._lock:
            starts = not run.finished  # else cancelled between admission and now
            if starts:
                run.started_us = started_us
        if not starts:
            return
        if request.timeout_s is not None:
            run.timer = asyncio.get_running_loop().call_later(
                request.timeout_s, self._expire, run, context=_PLAIN
            )
        run.begin()
        if run.finished:  # cancelled from on_start: do not begin the target at all
            return
        value: Any = None
        exc: BaseException | None = None
        token = capture.activate(run.log)
        try:
            if request.kind != "python":  # a kind's execution, in the loop's thread pool
                execution = execution_of(request)
                if self._attach(run, execution):  # stopped before it could be told
                    execution.stop()
                value = await asyncio.to_thread(execution.run, run.log)
            else:
                func = resolve(request.target)
                if is_coroutine_function(func):
                    with call_context():  # an integration's (Flask app context, ...)
                        value = await func(*request.args, **request.kwargs)
                else:
                    value = await asyncio.to_thread(invoke_plain, func, request)
                    if asyncio.iscoroutine(value):
                        with call_context():
                            value = await value
        except BaseException as raised:  # includes the CancelledError of our own cancel
            exc = raised
        finally:
            capture.deactivate(token)
        with self._lock:
            mine = not run.finished
            if mine:
                run.finished = True
                del self._runs[request.run_id]
        if run.timer is not None:
            run.timer.cancel()
            run.timer = None
        if mine:
            run.deliver(run.ended(self.clock, value, exc))

    def _attach(self, run: _TaskRun, execution: Execution) -> bool:
        """Make ``execution`` the one a stop stops; whether the run was stopped already."""
        with self._lock:
            run.execution = execution
            return run.finished

    def _claim_stop_locked(self, run: _TaskRun) -> bool:
        if run.finished:
            return False
        run.finished = True
        if run.execution is not None:
            run.execution.stop()  # the thread running it ends it (kills its process group)
        del self._runs[run.request.run_id]
        if not run.admitted:  # no task will ever end for it
            self._occupied -= 1
        return True

    def _expire(self, run: _TaskRun) -> None:
        run.timer = None
        with self._lock:
            if not self._claim_stop_locked(run):
                return
        timeout = run.request.timeout_s
        self._stopped(run, RunStatus.TIMED_OUT, f"timeout: the run took longer than {timeout:g} s")

    def _stopped(self, run: _TaskRun, status: RunStatus, error: str) -> None:
        """Report a run ended from outside, then cancel its task (loop thread)."""
        self._report_stopped(run, status, error)
        self._cancel_tasks([run])

    def _report_stopped(self, run: _TaskRun, status: RunStatus, error: str) -> None:
        stack = None
        task = run.task
        if task is not None and not task.done() and run.started_us is not None:
            stack = stack_text(coroutine_frames(task.get_coro()))
        run.deliver(run.stopped(self.clock, status, error, stack))

    def _cancel_tasks(self, runs: list[_TaskRun]) -> None:
        for run in runs:
            if run.timer is not None:
                run.timer.cancel()
                run.timer = None
            if run.task is not None:
                run.task.cancel()


_PLAIN = contextvars.Context()  # loop callbacks run in it: never in a run's output context


def invoke_plain(func: Any, request: RunRequest) -> Any:
    """A plain function of an async run, in a worker thread, inside the integration's context."""
    with call_context():
        return func(*request.args, **request.kwargs)
