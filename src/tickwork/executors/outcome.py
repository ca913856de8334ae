"""Building run outcomes, shared by every executor: bounded texts, redaction, callbacks."""

from __future__ import annotations

import json
import logging
import threading
import traceback
from collections.abc import Mapping, Sequence
from types import FrameType, TracebackType
from typing import Any

from tickwork.clock import Clock
from tickwork.executors.base import OnDone, OnStart, RunOutcome, RunRequest
from tickwork.executors.capture import TRACEBACK_LOCK, RunLog
from tickwork.executors.redact import Redactor, redactor
from tickwork.models import RunStatus
from tickwork.targets.base import Execution, TargetFailed

log = logging.getLogger("tickwork.executors")

ERROR_LIMIT = 2_000  # characters of "ExcType: message" kept (the head)
TRACEBACK_LIMIT = (
    16_000  # characters of a formatted traceback kept (the tail: the innermost frames)
)

# Frames of these modules are trimmed from the top of a target's traceback and stack.
_OWN_MODULES = frozenset(
    {
        "tickwork.executors.thread",
        "tickwork.executors.asyncio_",
        "tickwork.executors.process_child",
        "tickwork.targets.python",
    }
)
_PLUMBING_PREFIXES = ("asyncio.", "concurrent.futures.")


def cut_head(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, keeping the start and ending with a marker."""
    if len(text) <= limit:
        return text
    marker = f" [... {len(text)} chars, cut ...]"
    keep = max(0, limit - len(marker))
    return text[:keep] + marker


def cut_tail(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, keeping the end behind a marker."""
    if len(text) <= limit:
        return text
    marker = f"[... {len(text)} chars, cut ...]\n"
    keep = max(0, limit - len(marker))
    return marker + (text[-keep:] if keep else "")


def result_text(value: Any, limit: int, redact: Redactor | None) -> str | None:
    """The return value as text: JSON when it serialises, else ``repr``. None gives None."""
    if value is None:
        return None
    if redact is not None and isinstance(value, dict | list):
        value = _redact_leaves(value, redact)  # a secret escaped inside JSON stays masked
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError, RecursionError):
        try:
            text = repr(value)
        except Exception as exc:
            text = f"<{type(value).__qualname__} object; repr() failed: {exc!r}>"
    if redact is not None:
        text = redact(text)
    if len(text) > limit and isinstance(value, dict):
        text = _fit(value, limit, redact) or text
    return cut_head(text, limit)


def _fit(value: dict[str, Any], limit: int, redact: Redactor | None) -> str | None:
    """A structured result (a kind's: exit code and output, status and body) made to fit
    ``limit`` as valid JSON: its longest texts lose their heads (the tail is what matters in
    output) until it fits; None if it cannot."""
    fitted = dict(value)
    for _ in range(8):
        texts = [(len(v), k) for k, v in fitted.items() if isinstance(v, str)]
        if not texts:
            return None
        text = json.dumps(fitted, ensure_ascii=False)
        if redact is not None:
            text = redact(text)
        excess = len(text) - limit
        if excess <= 0:
            return text
        _, key = max(texts)
        current = fitted[key]
        # The longest tail whose JSON form leaves room (escapes make a character up to six).
        budget = len(json.dumps(current, ensure_ascii=False)) - excess - 40
        low, high = 0, len(current)
        while low < high:
            middle = (low + high + 1) // 2
            if len(json.dumps(current[-middle:], ensure_ascii=False)) <= budget:
                low = middle
            else:
                high = middle - 1
        fitted[key] = f"[... {len(current) - low} chars cut ...]" + (current[-low:] if low else "")
    return None


def _redact_leaves(value: Any, redact: Redactor, depth: int = 0) -> Any:
    if depth > 40:
        return value
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact(str(k)): _redact_leaves(v, redact, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact_leaves(v, redact, depth + 1) for v in value]
    return value


def error_text(exc: BaseException, redact: Redactor | None) -> str:
    """``"ExcType: message"`` (just ``"ExcType"`` for an empty message), redacted and bounded."""
    try:
        message = str(exc)
    except Exception:
        message = "<str() of the exception failed>"
    text = f"{type(exc).__qualname__}: {message}" if message else type(exc).__qualname__
    if redact is not None:
        text = redact(text)
    return cut_head(text, ERROR_LIMIT)


def traceback_text(exc: BaseException, redact: Redactor | None) -> str:
    """The formatted traceback without the executor's own frames, redacted, tail kept."""
    tb = _trim_own_frames(exc.__traceback__)
    try:
        with TRACEBACK_LOCK:
            text = "".join(traceback.format_exception(type(exc), exc, tb))
    except Exception as fmt_exc:  # a broken __str__ deep in a chain
        text = f"<formatting the traceback failed: {fmt_exc!r}>"
    if redact is not None:
        text = redact(text)
    return cut_tail(text, TRACEBACK_LIMIT)


def _is_plumbing(frame: FrameType) -> bool:
    """A frame of the executor or of the stdlib machinery that carried the call to the target."""
    name = frame.f_globals.get("__name__", "")
    return name in _OWN_MODULES or name.startswith(_PLUMBING_PREFIXES)


def _trim_own_frames(tb: TracebackType | None) -> TracebackType | None:
    # An error of the resolver itself (bad ref) is left with no frames: its chained cause
    # (the import error) still shows with its own traceback.
    while tb is not None and _is_plumbing(tb.tb_frame):
        tb = tb.tb_next
    return tb


def stack_text(frames: Sequence[FrameType]) -> str | None:
    """Where a still-running target is (for a timeout or cancel), oldest frame first.

    Frames up to the executor's own last frame are left out: what is left is the target's.
    """
    start = 0
    for i, frame in enumerate(frames):
        if frame.f_globals.get("__name__") in _OWN_MODULES:
            start = i + 1
    if start >= len(frames):
        return None
    with TRACEBACK_LOCK:
        summary = traceback.StackSummary.extract((f, f.f_lineno) for f in frames[start:])
        lines = summary.format()
    return "Stack of the run when it was stopped (most recent call last):\n" + "".join(lines)


def frames_of(frame: FrameType | None) -> list[FrameType]:
    """The stack of a thread from its current ``frame``, oldest first."""
    frames = []
    while frame is not None:
        frames.append(frame)
        frame = frame.f_back
    frames.reverse()
    return frames


def coroutine_frames(coro: Any) -> list[FrameType]:
    """The frames of a suspended coroutine and of everything it awaits, outermost first."""
    frames = []
    while coro is not None:
        frame = getattr(coro, "cr_frame", None) or getattr(coro, "gi_frame", None)
        if frame is not None:
            frames.append(frame)
        coro = getattr(coro, "cr_await", None) or getattr(coro, "gi_yieldfrom", None)
    return frames


def call_safely(callback: Any, *args: Any) -> None:
    """Call an engine callback; whatever it raises is logged and never reaches a worker."""
    try:
        callback(*args)
    except (Exception, SystemExit):
        log.exception("executor callback %r raised", callback)


def execution_of(request: RunRequest) -> Execution:
    """The Execution of a non-Python run (its kind's module is imported on first use)."""
    from tickwork.targets.kinds import get

    return get(request.kind).execution(request.spec or {}, request.timeout_s)


class ActiveRun:
    """One submitted run as an executor tracks it, and the outcome it ends with.

    ``finished`` is set by whoever ends the run first (the worker, a timeout, cancel,
    shutdown), under the owning executor's lock; only that party calls :meth:`deliver`,
    which is how ``on_done`` is called exactly once.
    """

    __slots__ = (
        "execution", "finished", "log", "on_done", "on_start", "redact", "request", "started_us",
    )  # fmt: skip

    def __init__(self, request: RunRequest, on_start: OnStart, on_done: OnDone) -> None:
        self.request = request
        self.on_start = on_start
        self.on_done = on_done
        self.redact = redactor(request.secrets) if request.secrets else None
        self.log = RunLog(request.log_limit, self.redact)
        self.started_us: int | None = None
        self.finished = False
        self.execution: Execution | None = None  # of a non-Python kind, once it runs

    def begin(self) -> None:
        """Tell the engine the run starts (``started_us`` is already set)."""
        assert self.started_us is not None
        call_safely(self.on_start, self.request.run_id, self.started_us)

    def ended(self, clock: Clock, value: Any, exc: BaseException | None) -> RunOutcome:
        """The outcome of a target that returned ``value`` or raised ``exc``."""
        if exc is None:
            result = result_text(value, self.request.result_limit, self.redact)
            return self.outcome(clock, RunStatus.SUCCEEDED, result=result, value=value)
        if isinstance(exc, TargetFailed):  # a kind's failure: its message and its result
            return self.outcome(
                clock,
                RunStatus.FAILED,
                result=result_text(exc.result, self.request.result_limit, self.redact),
                error=cut_head(self._redacted(exc.message), ERROR_LIMIT),
                exception=exc,
            )
        return self.outcome(
            clock,
            RunStatus.FAILED,
            error=error_text(exc, self.redact),
            traceback=traceback_text(exc, self.redact),
            exception=exc,
        )

    def stopped(
        self, clock: Clock, status: RunStatus, error: str, stack: str | None = None
    ) -> RunOutcome:
        """The outcome of a run ended from outside: timed out, cancelled, shut down, crashed."""
        return self.outcome(
            clock,
            status,
            error=cut_head(self._redacted(error), ERROR_LIMIT),
            traceback=None if stack is None else cut_tail(self._redacted(stack), TRACEBACK_LIMIT),
        )

    def outcome(
        self,
        clock: Clock,
        status: RunStatus,
        *,
        result: str | None = None,
        error: str | None = None,
        traceback: str | None = None,
        value: Any = None,
        exception: BaseException | None = None,
    ) -> RunOutcome:
        """An outcome with the captured log; texts must already be bounded and redacted."""
        return RunOutcome(
            run_id=self.request.run_id,
            status=status,
            started_us=self.started_us,
            finished_us=clock.now_us(),
            result=result,
            error=error,
            traceback=traceback,
            log=self.log.close(),
            value=value,
            exception=exception,
        )

    def _redacted(self, text: str) -> str:
        return text if self.redact is None else self.redact(text)

    def deliver(self, outcome: RunOutcome) -> None:
        call_safely(self.on_done, outcome)


class TracksRuns:
    """What every executor keeps: its submitted runs under its lock. Gives them
    :meth:`partial_log`."""

    _lock: threading.Lock
    _runs: Mapping[int, ActiveRun]

    def partial_log(self, run_id: int) -> str | None:
        with self._lock:
            run = self._runs.get(run_id)
        if run is None or run.started_us is None:
            return None
        return run.log.text()
