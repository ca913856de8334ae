"""ProcessExecutor: runs targets in a pool of worker processes, one run per process at a time.

Each worker is a fresh interpreter (``sys.executable``, like multiprocessing's "spawn": never
a fork of this threaded process) started in :meth:`ProcessExecutor.start` with this process's
``sys.path``. Requests and replies cross two private pipes as JSON lines, so arguments and
results must be JSON (args/kwargs are already) and nothing is pickled; multiprocessing is not
used, so the parent's ``__main__`` is never re-imported in the workers.

Timeouts and cancels are hard and end the run's whole process tree: each worker leads a
process group of its own, which the processes a run starts (a shell, its children) join, and
the group gets SIGTERM, then SIGKILL after ``kill_grace_s`` for whatever is left; the log up
to then is kept, the run ends ``timed_out``/``cancelled`` and a replacement process (a new
group) is started. A worker that dies on its own (``os._exit``, a crash) fails its run with
the exit code, and its group is ended the same way. A process that leaves the group
(``setsid``, a daemon) is beyond reach. POSIX only (``pass_fds``, ``poll``, process groups).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import select
import signal
import subprocess
import sys
import threading
import time
from queue import SimpleQueue
from typing import Any

from tickwork.clock import Clock
from tickwork.executors.base import Executor, OnDone, OnStart, RunRequest
from tickwork.executors.outcome import ActiveRun, TracksRuns
from tickwork.executors.timers import TimerThread
from tickwork.models import RunStatus
from tickwork.targets.process_run import KILL_GRACE_S

log = logging.getLogger("tickwork.executors")

_BOOT = (
    "import json, sys; sys.path[:] = json.loads(sys.argv[1]); "
    "from tickwork.executors.process_child import main; main(int(sys.argv[2]), int(sys.argv[3]))"
)
_READY_TIMEOUT_S = 60.0
_NEW, _STARTED, _CLOSING, _CLOSED = range(4)


def _sys_path_json() -> str:
    # Whatever this process can import, its workers can (non-strings are ignored by imports).
    return json.dumps([p for p in sys.path if isinstance(p, str)])


class _Child:
    """One worker process and the pipes to it, seen from the parent."""

    def __init__(self, wake_fd: int) -> None:
        request_r, self.request_w = os.pipe()
        self.reply_r, reply_w = os.pipe()
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", _BOOT, _sys_path_json(), str(request_r), str(reply_w)],
                pass_fds=(request_r, reply_w),
                stdin=subprocess.DEVNULL,
                process_group=0,  # its own group: what its runs start can be ended with it
            )
        except BaseException:
            os.close(self.request_w)
            os.close(self.reply_r)
            raise
        finally:
            os.close(request_r)  # the child holds its own copies now
            os.close(reply_w)
        os.set_blocking(self.reply_r, False)
        self.pid = self.proc.pid  # also the id of its process group
        self._group_ended = False  # signalled for the last time: the id may be reused
        self._partial = b""
        self._poll = select.poll()
        self._poll.register(self.reply_r, select.POLLIN)
        self._poll.register(wake_fd, select.POLLIN)

    def send(self, line: bytes) -> None:
        view = memoryview(line)
        while view:
            view = view[os.write(self.request_w, view) :]

    def wait_readable(self, timeout_s: float | None) -> None:
        """Sleep until the child wrote something, the slot was woken, or the time is up."""
        # Capped at an hour: poll() takes a C int of milliseconds (a month-long deadline is
        # reached in several waits).
        wait_ms = None if timeout_s is None else max(0, int(min(timeout_s, 3600.0) * 1000) + 1)
        self._poll.poll(wait_ms)

    def read(self) -> tuple[list[dict[str, Any]], bool]:
        """The complete messages available now, and whether the pipe reached EOF."""
        chunks = [self._partial]
        eof = False
        while True:
            try:
                data = os.read(self.reply_r, 1 << 16)
            except BlockingIOError:
                break
            if not data:
                eof = True
                break
            chunks.append(data)
        *lines, self._partial = b"".join(chunks).split(b"\n")
        return [json.loads(line) for line in lines if line], eof

    def kill(self, grace_s: float) -> None:
        """End the worker's process group, the worker and whatever its runs started:
        SIGTERM, then SIGKILL for what is left after ``grace_s``; the worker is reaped."""
        if not self._group_ended:
            self._signal_group(signal.SIGTERM)
            deadline = time.monotonic() + grace_s
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(grace_s)
            while self._group_alive() and time.monotonic() < deadline:
                time.sleep(0.01)  # the worker is gone; children that outlived it get a moment
            if self._group_alive():
                self._signal_group(signal.SIGKILL)
            self._group_ended = True
        self.proc.wait()

    def _signal_group(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError):  # nobody is left in it
            os.killpg(self.pid, signum)

    def _group_alive(self) -> bool:
        """Whether any process of the group is left (the worker reaped first if it ended)."""
        self.proc.poll()
        try:
            os.killpg(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:  # a member changed its user: it is there
            return True
        return True

    def stop(self, grace_s: float) -> None:
        """Let an idle child exit on EOF of its requests (killed if it does not), and end
        what runs left behind in its group."""
        self.close_requests()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(grace_s)
        self.kill(0.1)

    def close_requests(self) -> None:
        if self.request_w >= 0:
            os.close(self.request_w)
            self.request_w = -1

    def close(self) -> None:
        """Close the pipes (the process must be reaped already)."""
        self.close_requests()
        if self.reply_r >= 0:
            os.close(self.reply_r)
            self.reply_r = -1

    def exit_description(self) -> str:
        """How the process ended; it closed its pipe, so it is ending (or is made to)."""
        try:
            code = self.proc.wait(5)
        except subprocess.TimeoutExpired:  # closed the pipe yet lives on: not a worker anymore
            self.kill(0.1)
            code = self.proc.wait()
        text = f"worker process {self.pid} died with exit code {code}"
        if code < 0:
            with contextlib.suppress(ValueError):
                text += f" (killed by {signal.Signals(-code).name})"
        return text


class _Slot:
    """One worker: its handler thread, the process it drives now, and a pipe to wake it."""

    def __init__(self, index: int) -> None:
        self.index = index
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_r, False)
        os.set_blocking(self.wake_w, False)
        self.child: _Child | None = None
        self.booted = threading.Event()  # the first boot attempt is over
        self.boot_error: str | None = None
        self.thread: threading.Thread | None = None

    def wake(self) -> None:
        with contextlib.suppress(OSError):  # a full pipe is woken already
            os.write(self.wake_w, b"!")

    def drain_wake(self) -> None:
        try:
            while os.read(self.wake_r, 4096):
                pass
        except BlockingIOError:
            pass

    def close(self) -> None:
        os.close(self.wake_r)
        os.close(self.wake_w)


class _ProcessRun(ActiveRun):
    __slots__ = ("slot", "stop")

    def __init__(self, request: RunRequest, on_start: OnStart, on_done: OnDone) -> None:
        super().__init__(request, on_start, on_done)
        self.slot: _Slot | None = None
        self.stop: tuple[RunStatus, str] | None = None  # asked to end: (status, error)


class ProcessExecutor(TracksRuns, Executor):
    """``max_workers`` worker processes; runs beyond them queue."""

    name = "process"
    kill_grace_s = 1.0  # between SIGTERM and SIGKILL when a run is stopped

    def __init__(self, max_workers: int, clock: Clock) -> None:
        super().__init__(max_workers, clock)
        self._lock = threading.Lock()
        self._settled = threading.Condition(self._lock)
        self._queue: SimpleQueue[_ProcessRun | None] = SimpleQueue()
        self._runs: dict[int, _ProcessRun] = {}  # submitted, not finished
        self._occupied = 0  # submitted runs not settled yet (queued or running)
        self._slots = [_Slot(i) for i in range(max_workers)]
        self._timers = TimerThread("tickwork-process-notices")
        self._state = _NEW
        self._closing = threading.Event()  # cuts short the pause between boot retries

    # -- the contract ------------------------------------------------------------------------

    def start(self) -> None:
        """Start the worker processes and wait until each is ready to run."""
        with self._lock:
            if self._state != _NEW:
                raise RuntimeError("a ProcessExecutor starts only once")
            self._state = _STARTED
        self._timers.start()
        for slot in self._slots:
            slot.thread = threading.Thread(
                target=self._serve, args=(slot,), name=f"tickwork-process-{slot.index}", daemon=True
            )
            slot.thread.start()
        for slot in self._slots:
            slot.booted.wait()
        errors = [slot.boot_error for slot in self._slots if slot.boot_error]
        if errors:
            self.shutdown(0)
            raise RuntimeError(f"worker processes failed to start: {errors[0]}")

    def submit(self, request: RunRequest, on_start: OnStart, on_done: OnDone) -> None:
        run = _ProcessRun(request, on_start, on_done)
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
            if run is None or run.stop is not None:
                return False
            if run.started_us is None:  # queued: it ends here, from the notice thread
                self._finish_locked(run)
                self._timers.call_soon(self._deliver_stopped, run, RunStatus.CANCELLED, reason)
                return True
            run.stop = (RunStatus.CANCELLED, reason)
            slot = run.slot
        assert slot is not None
        slot.wake()  # its handler kills the worker and reports the run
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
                self._finish_locked(run)
        self._closing.set()
        for run in queued:
            self._deliver_stopped(
                run, RunStatus.CANCELLED, "shutdown: the executor stopped before the run started"
            )
        deadline = time.monotonic() + max(0.0, wait_s)
        with self._lock:
            while self._runs and (left := deadline - time.monotonic()) > 0:
                self._settled.wait(left)
            error = f"shutdown: the run did not finish within {wait_s:g} s"
            for run in self._runs.values():
                if run.stop is None:
                    run.stop = (RunStatus.CANCELLED, error)
        for slot in self._slots:
            self._queue.put(None)
            slot.wake()
        for slot in self._slots:
            if slot.thread is not None and slot.thread is not threading.current_thread():
                slot.thread.join()
        self._timers.stop()
        for slot in self._slots:
            slot.close()
        with self._lock:
            self._state = _CLOSED

    # -- bookkeeping -------------------------------------------------------------------------

    def _finish_locked(self, run: _ProcessRun) -> bool:
        """Mark ``run`` ended and free its slot; False if it had ended already."""
        if run.finished:
            return False
        run.finished = True
        del self._runs[run.request.run_id]
        self._occupied -= 1
        if self._state == _CLOSING:
            self._settled.notify_all()
        return True

    def _deliver_stopped(self, run: _ProcessRun, status: RunStatus, error: str) -> None:
        run.deliver(run.stopped(self.clock, status, error))

    # -- handler threads, one per worker process ---------------------------------------------

    def _serve(self, slot: _Slot) -> None:
        try:
            while True:
                if slot.child is None and not self._boot(slot):
                    break
                run = self._queue.get()
                if run is None:
                    break
                try:
                    self._serve_run(slot, run)
                except Exception:  # a bug of ours: the run must still end, the slot go on
                    log.exception("process executor failed on run %s", run.request.run_id)
                    self._end(run, RunStatus.FAILED, "worker failure: see the scheduler's log")
                    self._discard_child(slot)
        finally:
            slot.booted.set()
            if slot.child is not None:
                slot.child.stop(self.kill_grace_s)
                slot.child.close()
                slot.child = None

    def _boot(self, slot: _Slot) -> bool:
        """Start a worker process for ``slot``; retry with a pause after failures."""
        pause = 0.5
        while self._state in (_NEW, _STARTED):
            try:
                child = _Child(slot.wake_r)
            except OSError as exc:
                error: str | None = f"cannot start a worker process: {exc}"
            else:
                error = self._await_ready(slot, child)
                if error is None:
                    slot.child = child
                    slot.booted.set()
                    return True
                child.kill(0.1)
                child.close()
            if self._state not in (_NEW, _STARTED):
                break
            log.error("process executor: %s", error)
            if not slot.booted.is_set():  # the first attempt: start() reports it
                slot.boot_error = error
                slot.booted.set()
                return False
            self._closing.wait(pause)
            pause = min(pause * 2, 10.0)
        return False

    def _await_ready(self, slot: _Slot, child: _Child) -> str | None:
        deadline = time.monotonic() + _READY_TIMEOUT_S
        while (left := deadline - time.monotonic()) > 0:
            child.wait_readable(left)
            slot.drain_wake()
            if self._state not in (_NEW, _STARTED):
                return "the executor is shutting down"  # not logged: _boot checks first
            messages, eof = child.read()
            if any(m.get("op") == "ready" for m in messages):
                return None
            if eof:
                return child.exit_description() + " before it was ready"
        return f"worker process {child.pid} was not ready within {_READY_TIMEOUT_S:g} s"

    def _serve_run(self, slot: _Slot, run: _ProcessRun) -> None:
        request = run.request
        started_us = self.clock.now_us()
        with self._lock:
            if run.finished:  # cancelled while queued
                return
            run.started_us = started_us
            run.slot = slot
        run.begin()
        try:
            line = self._request_line(request)
        except (TypeError, ValueError) as exc:
            self._end(run, RunStatus.FAILED, f"{type(exc).__name__}: {exc}")
            return
        child = slot.child
        assert child is not None
        deadline: float | None = None
        sent = False
        while True:
            stop = run.stop
            if stop is not None:
                if sent:  # only a worker that got the request has to die for it
                    self._kill(slot, run)
                self._end(run, *stop)
                return
            if not sent:
                with contextlib.suppress(OSError):  # it died: EOF below says how
                    child.send(line)
                sent = True
                if request.timeout_s is not None:
                    deadline = time.monotonic() + request.timeout_s
            if deadline is not None and time.monotonic() >= deadline:
                self._kill(slot, run)
                self._end(
                    run,
                    RunStatus.TIMED_OUT,
                    f"timeout: the run took longer than {request.timeout_s:g} s; "
                    f"worker process {child.pid} was killed",
                )
                return
            child.wait_readable(None if deadline is None else deadline - time.monotonic())
            slot.drain_wake()
            messages, eof = child.read()
            for message in messages:
                op = message.get("op")
                if op == "log" and message.get("run") == request.run_id:
                    run.log.write(message["data"])
                elif op == "done" and message.get("run") == request.run_id:
                    self._end_from_reply(run, message)
                    return
            if eof:
                error = child.exit_description()
                self._discard_child(slot)
                self._end(run, RunStatus.FAILED, error)
                return

    def _request_line(self, request: RunRequest) -> bytes:
        message = {
            "run": request.run_id,
            "target": request.target,
            "args": list(request.args),
            "kwargs": dict(request.kwargs),
            "secrets": list(request.secrets),
            "result_limit": request.result_limit,
        }
        if request.kind != "python":
            message["kind"] = request.kind
            message["spec"] = dict(request.spec or {})
            message["timeout_s"] = request.timeout_s
        try:
            text = json.dumps(message, separators=(",", ":"))
        except (TypeError, ValueError) as exc:
            raise TypeError(f"the process executor needs JSON arguments: {exc}") from None
        return (text + "\n").encode("ascii")

    def _kill(self, slot: _Slot, run: _ProcessRun) -> None:
        """Kill the run's worker process, keeping the log it wrote up to its death. A kind's
        command runs in a process group of its own: the worker's SIGTERM handler ends it
        (SIGTERM, its grace, SIGKILL), so the worker gets that much longer to exit."""
        child = slot.child
        assert child is not None
        grace = self.kill_grace_s + (KILL_GRACE_S + 1.0 if run.request.kind != "python" else 0)
        child.kill(grace)
        messages, _ = child.read()
        for message in messages:
            if message.get("op") == "log" and message.get("run") == run.request.run_id:
                run.log.write(message["data"])
        self._discard_child(slot)

    def _discard_child(self, slot: _Slot) -> None:
        """Reap and forget the slot's process; the serve loop starts a replacement."""
        child = slot.child
        if child is not None:
            slot.child = None
            child.kill(self.kill_grace_s)
            child.close()

    def _end(self, run: _ProcessRun, status: RunStatus, error: str) -> None:
        with self._lock:
            stop = run.stop
            mine = self._finish_locked(run)
        if mine:
            # A cancel asked before we got here wins: cancel() promised it.
            self._deliver_stopped(run, *(stop or (status, error)))

    def _end_from_reply(self, run: _ProcessRun, reply: dict[str, Any]) -> None:
        with self._lock:
            stop = run.stop
            mine = self._finish_locked(run)
        if not mine:
            return
        if stop is not None:  # cancelled while the reply was on its way: as promised
            self._deliver_stopped(run, *stop)
            return
        run.deliver(
            run.outcome(
                self.clock,
                RunStatus(reply["status"]),
                result=reply.get("result"),
                error=reply.get("error"),
                traceback=reply.get("traceback"),
            )
        )
