"""Fixtures for the executor tests: started executors that are always shut down, a recorder."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tickwork.clock import Clock, SystemClock
from tickwork.executors import capture, create_executor
from tickwork.executors.base import Executor

# The process executor's workers import targets as "tests.executors.targets_for_tests": they
# get this process's sys.path, so the repository root must be on it (before the import below).
ROOT = str(Path(__file__).resolve().parents[2])
if ROOT not in sys.path:
    sys.path.append(ROOT)

from tests.executors.helpers import Recorder  # noqa: E402


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    rec = Recorder()
    yield rec
    rec.assert_exactly_once()


@pytest.fixture
def start_executor(recorder: Recorder) -> Iterator[Callable[..., Executor]]:
    """Start executors of a kind; each is shut down at the end and the capture uninstalled.

    Depends on ``recorder`` so that its exactly-once check runs after the shutdown, when
    late returns of timed-out targets have happened too.
    """
    started: list[Executor] = []

    def start(kind: str, workers: int = 2, clock: Clock | None = None) -> Executor:
        executor = create_executor(kind, workers, clock or SystemClock())
        if kind == "process":
            executor.kill_grace_s = 0.2  # type: ignore[attr-defined]
        executor.start()
        started.append(executor)
        return executor

    yield start
    for executor in started:
        executor.shutdown(0)
    assert not capture.installed()
