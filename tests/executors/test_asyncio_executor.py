"""AsyncioExecutor specifics: a bounded number of tasks, deadlines that do not wait for the task."""

from __future__ import annotations

import time
from collections.abc import Callable

from tests.executors import targets_for_tests
from tests.executors.helpers import Recorder, request, wait_until
from tickwork.executors.base import Executor
from tickwork.models import RunStatus

StartExecutor = Callable[..., Executor]


def test_at_most_max_workers_tasks_run_at_once(
    start_executor: StartExecutor, recorder: Recorder
) -> None:
    targets_for_tests.reset_probe()
    executor = start_executor("asyncio", 2)
    on_start, on_done = recorder.callbacks()
    for i in range(6):
        executor.submit(request(i, "async_probe", 0.05), on_start, on_done)
    outcomes = recorder.wait_all(list(range(6)))
    assert max(int(o.result or 0) for o in outcomes) == 2
    # Waiting runs start in the order they were submitted.
    starts = sorted(recorder.starts, key=lambda i: recorder.starts[i][0])
    assert starts == list(range(6))


def test_a_task_that_ignores_cancellation_still_ends_at_its_deadline(
    start_executor: StartExecutor, recorder: Recorder
) -> None:
    executor = start_executor("asyncio", 1)
    submitted = time.monotonic()
    executor.submit(request(1, "async_ignore_cancel", 1.0, timeout_s=0.1), *recorder.callbacks())
    outcome = recorder.wait(1)
    assert outcome.status == RunStatus.TIMED_OUT
    assert recorder.done_at[1] - submitted < 0.7
    assert outcome.traceback is not None
    assert "in async_ignore_cancel" in outcome.traceback
    # Its slot comes back only when the task really ends.
    assert executor.free_slots == 0
    wait_until(lambda: executor.free_slots == 1, 3)
    assert time.monotonic() - submitted >= 0.95


def test_plain_functions_run_in_threads_and_do_not_block_the_loop(
    start_executor: StartExecutor, recorder: Recorder
) -> None:
    executor = start_executor("asyncio", 2)
    on_start, on_done = recorder.callbacks()
    executor.submit(request(1, "sleep_blocking", 0.3), on_start, on_done)
    wait_until(lambda: 1 in recorder.starts)
    executor.submit(request(2, "async_add", 1, 2), on_start, on_done)
    assert recorder.wait(2).result == "3"
    assert 1 not in recorder.outcomes  # the blocking function is still sleeping
    assert recorder.wait(1).result == '"woke"'


def test_callbacks_come_from_the_loop_thread(
    start_executor: StartExecutor, recorder: Recorder
) -> None:
    executor = start_executor("asyncio", 1)
    executor.submit(request(1, "async_add", 1, 2), *recorder.callbacks())
    recorder.wait(1)
    assert recorder.done_threads[1] == "tickwork-asyncio"
