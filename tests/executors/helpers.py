"""Helpers of the executor tests: requests for the test targets, a callback recorder."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from tickwork.executors import RunOutcome, RunRequest

TARGETS = "tests.executors.targets_for_tests"
KINDS = ("thread", "process", "asyncio")


def request(run_id: int, func: str, *args: Any, **fields: Any) -> RunRequest:
    """A request for ``func`` of the test targets module; ``kwargs=`` passes keywords."""
    return RunRequest(run_id=run_id, job_id="job", target=f"{TARGETS}:{func}", args=args, **fields)


class Recorder:
    """Collects on_start/on_done calls, per run, with the real time they came."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self.starts: dict[int, list[int]] = defaultdict(list)
        self.outcomes: dict[int, list[RunOutcome]] = defaultdict(list)
        self.done_at: dict[int, float] = {}
        self.done_threads: dict[int, str] = {}

    def on_start(self, run_id: int, started_us: int) -> None:
        with self._cond:
            self.starts[run_id].append(started_us)

    def on_done(self, outcome: RunOutcome) -> None:
        with self._cond:
            self.outcomes[outcome.run_id].append(outcome)
            self.done_at.setdefault(outcome.run_id, time.monotonic())
            self.done_threads[outcome.run_id] = threading.current_thread().name
            self._cond.notify_all()

    def callbacks(self) -> tuple[Callable[[int, int], None], Callable[[RunOutcome], None]]:
        return self.on_start, self.on_done

    def wait(self, run_id: int, timeout_s: float = 10.0) -> RunOutcome:
        with self._cond:
            if not self._cond.wait_for(lambda: self.outcomes.get(run_id), timeout_s):
                raise AssertionError(f"run {run_id} did not end within {timeout_s} s")
            return self.outcomes[run_id][0]

    def wait_all(self, run_ids: list[int], timeout_s: float = 20.0) -> list[RunOutcome]:
        deadline = time.monotonic() + timeout_s
        return [self.wait(i, max(0.0, deadline - time.monotonic())) for i in run_ids]

    def assert_exactly_once(self) -> None:
        with self._cond:
            twice = {i: len(o) for i, o in self.outcomes.items() if len(o) != 1}
            assert not twice, f"on_done called more than once: {twice}"


def wait_until(predicate: Callable[[], bool], timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.005)
