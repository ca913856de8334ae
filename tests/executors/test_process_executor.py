"""ProcessExecutor specifics: hard kills, replacement workers, crashes, JSON-only arguments."""

from __future__ import annotations

import contextlib
import os
import signal
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


# -- the whole process tree of a run -------------------------------------------------------------
def start_time(pid: int) -> int | None:
    """The kernel's start time of a live (not zombie) process, None if there is none: a pid
    and its start time name one process, even if the pid is reused later."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = stat.rsplit(")", 1)[1].split()  # after "pid (comm)": state is field 3
    if fields[0] in ("Z", "X"):  # exited, waiting to be reaped: it runs nothing any more
        return None
    return int(fields[19])  # field 22, starttime


def tree_of(pid_file: Path) -> dict[int, int]:
    """The worker, child and grandchild pids of a spawn_tree run, with their start times."""
    wait_until(pid_file.exists, 30)
    pids = [int(p) for p in pid_file.read_text().split()]
    assert len(pids) == 3
    started = {pid: start_time(pid) for pid in pids}
    assert all(started.values()), f"the tree is not all alive: {started}"
    return {pid: t for pid, t in started.items() if t is not None}


def survivors(tree: dict[int, int]) -> list[int]:
    return [pid for pid, started in tree.items() if start_time(pid) == started]


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")
@pytest.mark.parametrize("ignore_term", [False, True], ids=["plain", "ignoring-sigterm"])
@pytest.mark.parametrize("how", ["timeout", "cancel"])
def test_a_timeout_or_cancel_ends_the_runs_whole_process_tree(
    how: str, ignore_term: bool, start_executor: StartExecutor, recorder: Recorder, tmp_path: Path
) -> None:
    executor = start_executor("process", 2)
    on_start, on_done = recorder.callbacks()
    # a run on the other worker goes on undisturbed: only the run's own tree is ended
    executor.submit(request(1, "sleep_loop", 1.5), on_start, on_done)
    pid_file = tmp_path / "tree"
    timeout = {"timeout_s": 3.0} if how == "timeout" else {}
    executor.submit(
        request(2, "spawn_tree", str(pid_file), 1000, ignore_term, **timeout), on_start, on_done
    )
    tree = tree_of(pid_file)
    try:
        worker, child, grandchild = tree
        assert os.getpgid(child) == os.getpgid(grandchild) == os.getpgid(worker) == worker
        if how == "cancel":
            assert executor.cancel(2, "cancelled by the operator")
        outcome = recorder.wait(2, 30)
        expected = RunStatus.TIMED_OUT if how == "timeout" else RunStatus.CANCELLED
        assert outcome.status == expected
        assert "tree started\n" in outcome.log
        # SIGKILL is sent before the run is reported; the kernel ends the processes just after
        with contextlib.suppress(AssertionError):
            wait_until(lambda: not survivors(tree), 5)
        assert not survivors(tree), f"still running: {survivors(tree)} of {list(tree)}"
    finally:
        for pid in survivors(tree):  # a failed test leaves no sleeping processes behind
            os.kill(pid, signal.SIGKILL)
    assert recorder.wait(1, 30).status == RunStatus.SUCCEEDED
    # a fresh worker serves the next run, itself the leader of a group of its own
    replacement = worker_pid(executor, recorder, 3)
    assert replacement not in tree
    assert alive(replacement)
    assert os.getpgid(replacement) == replacement != os.getpgid(0)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")
def test_shutdown_ends_what_runs_left_running(
    start_executor: StartExecutor, recorder: Recorder, tmp_path: Path
) -> None:
    executor = start_executor("process", 1)
    pid_file = tmp_path / "child"
    executor.submit(request(1, "leave_a_child", str(pid_file)), *recorder.callbacks())
    assert recorder.wait(1).status == RunStatus.SUCCEEDED
    pid = int(pid_file.read_text())
    started = start_time(pid)
    assert started is not None  # the run ended; its child lives on in the worker's group
    left = {pid: started}
    try:
        executor.shutdown(5)
        with contextlib.suppress(AssertionError):
            wait_until(lambda: not survivors(left), 5)
        assert not survivors(left), "the run's child outlived the executor"
    finally:
        for still in survivors(left):
            os.kill(still, signal.SIGKILL)
