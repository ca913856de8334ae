"""The worker side of the process executor: runs one request at a time for its parent.

Started as a fresh interpreter (never forked from the threaded parent) with the parent's
``sys.path``. It reads requests and writes replies as JSON lines on two private pipes; the
run's log is streamed back as it is written, so a child killed mid-run still leaves its log
up to the kill. Nothing is pickled.

Messages to the parent: ``{"op": "ready", "pid"}`` once, then per run any number of
``{"op": "log", "run", "data"}`` and one ``{"op": "done", "run", "status", "result",
"error", "traceback"}`` (texts already bounded and redacted).
"""

from __future__ import annotations

import json
import os
import signal
import threading
from typing import Any

from tickwork.executors import capture
from tickwork.executors.outcome import cut_head, error_text, result_text, traceback_text
from tickwork.executors.redact import redactor
from tickwork.targets.base import Execution, TargetFailed
from tickwork.targets.python import call

# The execution of a non-Python kind running now, and whether the parent asked this worker to
# end (SIGTERM: a timeout or a cancel); the execution is stopped and the worker exits.
_running: list[Execution] = []
_ending = threading.Event()


def _on_sigterm(_signum: int, _frame: Any) -> None:
    _ending.set()
    for execution in _running:
        execution.stop()


class _Channel:
    """The pipe to the parent; whole lines, one writer at a time."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._lock = threading.Lock()

    def send(self, message: dict[str, Any]) -> None:
        # ensure_ascii (the default) keeps even lone surrogates encodable.
        data = (json.dumps(message, separators=(",", ":")) + "\n").encode("ascii")
        with self._lock:
            view = memoryview(data)
            while view:
                view = view[os.write(self._fd, view) :]


class _PipeSink:
    """A run's output, streamed to the parent as it is written."""

    __slots__ = ("_channel", "_run_id", "closed")

    def __init__(self, channel: _Channel, run_id: int) -> None:
        self._channel = channel
        self._run_id = run_id
        self.closed = False

    def write(self, text: str, /) -> None:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        if text and not self.closed:  # late writes (a thread the target left) are dropped
            self._channel.send({"op": "log", "run": self._run_id, "data": text})


def run_request(request: dict[str, Any], channel: _Channel) -> dict[str, Any]:
    """Run one request with its output captured; the ``done`` reply."""
    run_id = request["run"]
    redact = redactor(request.get("secrets", ()))
    sink = _PipeSink(channel, run_id)
    value: Any = None
    exc: BaseException | None = None
    token = capture.activate(sink)
    kind = request.get("kind", "python")
    try:
        if kind == "python":
            value = call(request["target"], request["args"], request["kwargs"])
        else:
            value = _run_kind(kind, request, sink)
    except BaseException as raised:  # SystemExit and KeyboardInterrupt fail the run, not us
        exc = raised
    finally:
        capture.deactivate(token)
        sink.closed = True
    if isinstance(exc, TargetFailed):
        return {
            "op": "done",
            "run": run_id,
            "status": "failed",
            "result": result_text(exc.result, request["result_limit"], redact),
            "error": cut_head(redact(exc.message) if redact else exc.message, 2_000),
        }
    if exc is None:
        return {
            "op": "done",
            "run": run_id,
            "status": "succeeded",
            "result": result_text(value, request["result_limit"], redact),
        }
    return {
        "op": "done",
        "run": run_id,
        "status": "failed",
        "error": error_text(exc, redact),
        "traceback": traceback_text(exc, redact),
    }


def _run_kind(kind: str, request: dict[str, Any], sink: _PipeSink) -> Any:
    """A non-Python run; SIGTERM meanwhile stops it (its command's group is ended)."""
    from tickwork.targets.kinds import get

    execution = get(kind).execution(request.get("spec") or {}, request.get("timeout_s"))
    _running.append(execution)
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        if _ending.is_set():
            execution.stop()
        return execution.run(sink)
    finally:
        signal.signal(signal.SIGTERM, previous)
        _running.clear()


def main(request_fd: int, reply_fd: int) -> None:
    # The parent decides when a worker ends, not a stray SIGINT (a worker leads its own
    # process group, so a terminal's Ctrl-C does not reach it anyway).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    channel = _Channel(reply_fd)
    capture.acquire()
    channel.send({"op": "ready", "pid": os.getpid()})
    with os.fdopen(request_fd, "rb") as requests:
        for line in requests:  # EOF: the parent closed the pipe (shutdown) or died
            reply = run_request(json.loads(line), channel)
            if _ending.is_set():  # asked to end: the parent no longer waits for a reply
                os._exit(0)
            channel.send(reply)
