"""The executor contract: run one claimed run, report its start and its outcome exactly once."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from tickwork.clock import Clock
from tickwork.models import RunStatus


@dataclass(frozen=True, slots=True)
class RunRequest:
    """Everything an executor needs to run one run; nothing refers back to the store."""

    run_id: int
    job_id: str
    target: str  # python: "package.module:function"; other kinds: the kind's name
    args: Sequence[Any] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    scheduled_for_us: int = 0
    attempt: int = 1
    timeout_s: float | None = None
    secrets: tuple[str, ...] = ()  # values redacted from log, result, error and traceback
    log_limit: int = 64 * 1024  # bytes of captured log kept (the tail)
    result_limit: int = 4 * 1024  # characters of result text kept
    # The job kind (tickwork.targets.kinds) and, for every kind but python, its prepared spec
    # (tickwork.targets.prepare): the worker builds the kind's Execution from it.
    kind: str = "python"
    spec: Mapping[str, Any] | None = None


@dataclass(slots=True)
class RunOutcome:
    """How a run ended. ``status`` is one of succeeded, failed, timed_out, cancelled."""

    run_id: int
    status: RunStatus
    started_us: int | None
    finished_us: int
    result: str | None = None
    error: str | None = None
    traceback: str | None = None
    log: str = ""
    value: Any = None  # the Python return value, for in-process listeners only
    exception: BaseException | None = None


OnStart = Callable[[int, int], None]  # (run_id, started_us), called just before the target runs
OnDone = Callable[[RunOutcome], None]  # called exactly once per submitted run


class Executor(ABC):
    """Runs targets. ``submit`` never blocks on the target; callbacks come from executor threads."""

    name: ClassVar[str]

    def __init__(self, max_workers: int, clock: Clock) -> None:
        self.max_workers = max_workers
        self.clock = clock

    @abstractmethod
    def start(self) -> None:
        """Start worker threads or processes."""

    @abstractmethod
    def submit(self, request: RunRequest, on_start: OnStart, on_done: OnDone) -> None:
        """Run ``request``; call ``on_start`` when it starts and ``on_done`` once when it ends."""

    @abstractmethod
    def cancel(self, run_id: int, reason: str) -> bool:
        """Stop a submitted run; it ends ``cancelled`` with ``reason`` as its error."""

    @property
    @abstractmethod
    def free_slots(self) -> int:
        """How many more runs could start now without waiting for a worker."""

    def partial_log(self, run_id: int) -> str | None:
        """The log a running run has written so far (None if it is not running here);
        the engine stores it about once a second so faces can follow a run live."""
        return None

    def health(self) -> dict[str, bool]:
        """Whether each control thread of the executor is alive (its timer: timeouts and
        cancels). The node's readiness reports a dead one."""
        return {}

    @abstractmethod
    def shutdown(self, wait_s: float) -> None:
        """Let running runs finish for up to ``wait_s`` seconds, then cancel what is left
        (each ends ``cancelled`` with error "shutdown: ...") and release the workers."""
