"""Subscribers that act on the records of ended runs *in the transaction that writes them*.

Listeners (``engine.events``) hear about a run after its outcome is committed, on another
thread, and may miss it if the process dies in between. Some things must happen exactly when
the outcome is recorded or not at all: an alert for a failed run goes to the alerts outbox,
the next steps of a workflow are released. Those subscribe here: the engine calls every hook
inside the transaction that records the runs' ends (outcomes, lost runs, missed fires), so
the hook's rows commit with the outcome, once, whichever node recorded it. The engine never
imports its subscribers; the facade (or an integration) registers them on the node.

A hook must be quick and must not commit; an exception it raises rolls the outcome back with
it, and the engine retries the write as for any database error. A hook that queued runs (the
next steps of a workflow) returns True: the node's loop then looks for them at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection

log = logging.getLogger("tickwork.hooks")


@dataclass(frozen=True, slots=True)
class RunEnded:
    """A run whose end was just recorded (in the caller's transaction)."""

    run_id: int
    job_id: str
    status: str  # succeeded, failed, timed_out, cancelled, skipped, missed, lost
    scheduled_for: int
    attempt: int
    final: bool  # no further attempt follows (no retry was queued)
    reason: str = "schedule"
    node_id: str | None = None
    started_at: int | None = None
    finished_at: int | None = None
    duration_s: float | None = None
    error: str | None = None
    fires: int = 1  # a counted missed record stands for many fires
    retry_of: int | None = None


Hook = Callable[[Connection, Sequence[RunEnded]], bool | None]


class RunHooks:
    """The hooks of one node (or facade), called in registration order."""

    def __init__(self) -> None:
        self._hooks: list[Hook] = []

    def add(self, hook: Hook) -> None:
        self._hooks.append(hook)

    def remove(self, hook: Hook) -> None:
        self._hooks = [h for h in self._hooks if h is not hook]

    def __bool__(self) -> bool:
        return bool(self._hooks)

    def __call__(self, conn: Connection, ended: Sequence[RunEnded]) -> bool:
        """Call every hook; True when one of them queued runs."""
        if not ended:
            return False
        queued = False
        for hook in self._hooks:
            queued = bool(hook(conn, ended)) or queued
        return queued
