"""ThreadExecutor specifics: soft timeouts by asynchronous exception, slots of stuck threads."""

from __future__ import annotations

import contextlib
import io
import sys
import time
from collections.abc import Callable

import pytest

from tests.executors.helpers import Recorder, request, wait_until
from tickwork.executors import ThreadExecutor, capture
from tickwork.executors.base import Executor
from tickwork.models import RunStatus

StartExecutor = Callable[..., Executor]


def test_timeout_reports_at_the_deadline_but_a_blocked_thread_keeps_its_slot(
    start_executor: StartExecutor, recorder: Recorder
) -> None:
    executor = start_executor("thread", 1)
    submitted = time.monotonic()
    executor.submit(request(1, "sleep_then_print", 1.0, timeout_s=0.1), *recorder.callbacks())
    outcome = recorder.wait(1)
    assert outcome.status == RunStatus.TIMED_OUT
    assert recorder.done_at[1] - submitted < 0.7  # at the deadline, not when the sleep ends
    # time.sleep is C code: the interrupt waits for it, and so does the slot.
    assert executor.free_slots == 0
    wait_until(lambda: executor.free_slots == 1, 3)
    assert time.monotonic() - submitted >= 0.95
    # The stack shows where the target was when it was stopped.
    assert outcome.traceback is not None
    assert "in sleep_then_print\n    time.sleep(seconds)" in outcome.traceback
    assert outcome.log == ""  # the late print went nowhere near the finished run


def test_interrupt_stops_python_code_quickly(
    start_executor: StartExecutor, recorder: Recorder
) -> None:
    executor = start_executor("thread", 1)
    submitted = time.monotonic()
    executor.submit(request(1, "sleep_loop", 30, timeout_s=0.1), *recorder.callbacks())
    assert recorder.wait(1).status == RunStatus.TIMED_OUT
    wait_until(lambda: executor.free_slots == 1, 2)
    assert time.monotonic() - submitted < 1.0


def test_timeouts_racing_with_returns_end_each_run_once_and_free_every_slot(
    start_executor: StartExecutor, recorder: Recorder
) -> None:
    # Runs that end about when their deadline comes: the interrupt lands in the target, in
    # the executor's code right after it, or is cleared; no worker may die or leak a slot.
    executor = start_executor("thread", 4)
    on_start, on_done = recorder.callbacks()
    ids = list(range(300))
    for i in ids:
        executor.submit(request(i, "sleep_loop", 0.01 * (i % 3), timeout_s=0.01), on_start, on_done)
    outcomes = recorder.wait_all(ids, 30)
    assert {o.status for o in outcomes} <= {RunStatus.SUCCEEDED, RunStatus.TIMED_OUT}
    wait_until(lambda: executor.free_slots == 4, 5)
    executor.submit(request(1000, "add", 1, 2), on_start, on_done)
    assert recorder.wait(1000).result == "3"


def test_output_of_other_threads_reaches_the_real_streams(
    start_executor: StartExecutor, recorder: Recorder, capsys: pytest.CaptureFixture[str]
) -> None:
    executor = start_executor("thread", 1)
    print("from the test thread")
    executor.submit(request(1, "spawn_chatty_thread"), *recorder.callbacks())
    outcome = recorder.wait(1)
    print("again from the test thread", file=sys.stderr)
    assert outcome.log == "from the run\n"
    out, err = capsys.readouterr()
    assert out == "from the test thread\nfrom a thread of the target\n"
    assert err == "again from the test thread\n"


def test_capture_follows_a_replaced_stdout(
    start_executor: StartExecutor, recorder: Recorder
) -> None:
    executor = start_executor("thread", 1)
    replacement = io.StringIO()
    with contextlib.redirect_stdout(replacement):
        executor.submit(request(1, "echo", "hi"), *recorder.callbacks())
        outcome = recorder.wait(1)
        print("not a run")
    assert outcome.log == "echo ('hi',) {}\n"
    assert replacement.getvalue() == "not a run\n"


def test_capture_is_installed_while_any_executor_runs(recorder: Recorder) -> None:
    from tickwork.clock import SystemClock

    stdout, stderr = sys.stdout, sys.stderr
    first, second = ThreadExecutor(1, SystemClock()), ThreadExecutor(1, SystemClock())
    first.start()
    second.start()
    assert capture.installed()
    assert sys.stdout is not stdout
    first.shutdown(0)
    assert capture.installed()
    second.submit(request(1, "echo", 1), *recorder.callbacks())
    assert recorder.wait(1).log == "echo (1,) {}\n"
    second.shutdown(0)
    assert not capture.installed()
    assert sys.stdout is stdout
    assert sys.stderr is stderr


def test_on_done_of_a_cancel_comes_from_an_executor_thread(
    start_executor: StartExecutor, recorder: Recorder
) -> None:
    executor = start_executor("thread", 1)
    on_start, on_done = recorder.callbacks()
    executor.submit(request(1, "sleep_loop", 5), on_start, on_done)
    wait_until(lambda: 1 in recorder.starts)
    assert executor.cancel(1, "stop")
    recorder.wait(1)
    assert recorder.done_threads[1] == "tickwork-thread-timers"
