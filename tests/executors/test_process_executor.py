"""ProcessExecutor specifics: hard kills, replacement workers, crashes, JSON-only arguments."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.executors.helpers import Recorder, request, wait_until
from tickwork.executors.base import Executor
from tickwork.models import RunStatus

StartExecutor = Callable[..., Executor]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def worker_pid(executor: Executor, recorder: Recorder, run_id: int) -> int:
    executor.submit(request(run_id, "pid"), *recorder.callbacks())
    outcome = recorder.wait(run_id)
    assert outcome.status == RunStatus.SUCCEEDED, outcome.error
    return int(outcome.result or 0)


def test_a_worker_serves_one_run_after_another(
    start_executor: StartExecutor, recorder: Recorder
) -> None:
    executor = start_executor("process", 1)
    first = worker_pid(executor, recorder, 1)
    assert first != os.getpid()
    assert worker_pid(executor, recorder, 2) == first


@pytest.mark.parametrize("target", ["write_pid_and_sleep", "ignore_sigterm_and_sleep"])
def test_timeout_kills_the_worker_and_a_replacement_serves_the_next_run(
    target: str, start_executor: StartExecutor, recorder: Recorder, tmp_path: Path
) -> None:
    executor = start_executor("process", 1)
    pid_file = tmp_path / "pid"
    submitted = time.monotonic()
    executor.submit(request(1, target, str(pid_file), 30, timeout_s=0.3), *recorder.callbacks())
    outcome = recorder.wait(1)
    assert outcome.status == RunStatus.TIMED_OUT
    # SIGTERM is enough for the first; the second ignores it and gets SIGKILL after the grace.
    assert recorder.done_at[1] - submitted < 2.0
    pid = int(pid_file.read_text())
    assert not alive(pid)
    assert outcome.error == (
        f"timeout: the run took longer than 0.3 s; worker process {pid} was killed"
    )
    # The log streamed before the kill is kept.
    assert "pid written\n" in outcome.log
    assert "WARNING tests.executors.targets_for_tests: going to sleep" in outcome.log
    replacement = worker_pid(executor, recorder, 2)
    assert replacement != pid
    assert alive(replacement)


def test_cancel_kills_the_worker(
    start_executor: StartExecutor, recorder: Recorder, tmp_path: Path
) -> None:
    executor = start_executor("process", 1)
    pid_file = tmp_path / "pid"
    executor.submit(request(1, "write_pid_and_sleep", str(pid_file), 30), *recorder.callbacks())
    wait_until(pid_file.exists)
    wait_until(lambda: pid_file.read_text() != "")
    assert executor.cancel(1, "cancelled by the operator")
    outcome = recorder.wait(1)
    assert outcome.status == RunStatus.CANCELLED
    assert outcome.error == "cancelled by the operator"
    assert not alive(int(pid_file.read_text()))
    assert worker_pid(executor, recorder, 2) != int(pid_file.read_text())


def test_a_worker_that_exits_fails_its_run(
    start_executor: StartExecutor, recorder: Recorder
) -> None:
    executor = start_executor("process", 1)
    pid = worker_pid(executor, recorder, 1)
    executor.submit(request(2, "exit_hard", 3), *recorder.callbacks())
    outcome = recorder.wait(2)
    assert outcome.status == RunStatus.FAILED
    assert outcome.error == f"worker process {pid} died with exit code 3"
    assert outcome.log == "exiting hard\n"
    assert outcome.started_us is not None
    assert worker_pid(executor, recorder, 3) != pid


def test_a_worker_that_crashes_fails_its_run(
    start_executor: StartExecutor, recorder: Recorder
) -> None:
    executor = start_executor("process", 1)
    executor.submit(request(1, "segfault"), *recorder.callbacks())
    outcome = recorder.wait(1)
    assert outcome.status == RunStatus.FAILED
    assert outcome.error is not None
    assert outcome.error.endswith("died with exit code -11 (killed by SIGSEGV)")
    assert worker_pid(executor, recorder, 2) > 0


def test_arguments_must_be_json(start_executor: StartExecutor, recorder: Recorder) -> None:
    executor = start_executor("process", 1)
    executor.submit(request(1, "echo", {1, 2}), *recorder.callbacks())
    outcome = recorder.wait(1)
    assert outcome.status == RunStatus.FAILED
    assert outcome.error == (
        "TypeError: the process executor needs JSON arguments: "
        "Object of type set is not JSON serializable"
    )
    assert worker_pid(executor, recorder, 2) > 0


def test_shutdown_ends_the_workers(start_executor: StartExecutor, recorder: Recorder) -> None:
    executor = start_executor("process", 2)
    on_start, on_done = recorder.callbacks()
    executor.submit(request(1, "sleep_loop", 0.1), on_start, on_done)
    executor.submit(request(2, "pid"), on_start, on_done)
    pid = int(recorder.wait(2).result or 0)
    executor.shutdown(5)
    assert recorder.wait(1, 0).status == RunStatus.SUCCEEDED
    assert not alive(pid)


def test_a_cancel_before_the_request_is_sent_spares_the_worker(
    start_executor: StartExecutor, recorder: Recorder
) -> None:
    executor = start_executor("process", 1)
    pid = worker_pid(executor, recorder, 1)

    def cancel_at_start(run_id: int, started_us: int) -> None:
        executor.cancel(run_id, "changed my mind")

    executor.submit(request(2, "noop"), cancel_at_start, recorder.on_done)
    assert recorder.wait(2).status == RunStatus.CANCELLED
    assert worker_pid(executor, recorder, 3) == pid
