"""Executors run claimed runs: in threads, in worker processes, or on an asyncio loop.

The executor classes are imported on first use, so a process executor's worker (which
imports this package) does not pay for asyncio, and the thread path not for subprocesses.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from tickwork.clock import Clock
from tickwork.errors import InvalidInput
from tickwork.executors.base import Executor, OnDone, OnStart, RunOutcome, RunRequest

if TYPE_CHECKING:
    from tickwork.executors.asyncio_ import AsyncioExecutor
    from tickwork.executors.process import ProcessExecutor
    from tickwork.executors.thread import ThreadExecutor

_CLASSES = {
    "ThreadExecutor": "tickwork.executors.thread",
    "ProcessExecutor": "tickwork.executors.process",
    "AsyncioExecutor": "tickwork.executors.asyncio_",
}
_BY_NAME = {"thread": "ThreadExecutor", "process": "ProcessExecutor", "asyncio": "AsyncioExecutor"}


def __getattr__(name: str) -> Any:
    module = _CLASSES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def create_executor(name: str, max_workers: int, clock: Clock) -> Executor:
    """A new, not yet started executor of kind ``name``: thread, process or asyncio."""
    class_name = _BY_NAME.get(name)
    if class_name is None:
        raise InvalidInput(
            "executor", f"unknown executor {name!r}; choose thread, process or asyncio"
        )
    if isinstance(max_workers, bool) or not isinstance(max_workers, int) or max_workers < 1:
        raise InvalidInput("max_workers", f"must be a whole number >= 1, not {max_workers!r}")
    cls: type[Executor] = __getattr__(class_name)
    return cls(max_workers, clock)


__all__ = [
    "AsyncioExecutor",
    "Executor",
    "OnDone",
    "OnStart",
    "ProcessExecutor",
    "RunOutcome",
    "RunRequest",
    "ThreadExecutor",
    "create_executor",
]
