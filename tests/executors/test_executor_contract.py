"""The guarantees the engine relies on, checked for every executor."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.executors.helpers import KINDS, Recorder, request, wait_until
from tickwork.clock import FakeClock
from tickwork.executors.base import Executor, RunRequest
from tickwork.models import RunStatus

pytestmark = pytest.mark.parametrize("kind", KINDS)

StartExecutor = Callable[..., Executor]


def test_success_reports_start_result_and_log(
    kind: str, start_executor: StartExecutor, recorder: Recorder
) -> None:
    executor = start_executor(kind)
    before = executor.clock.now_us()
    executor.submit(request(1, "echo", 1, "two", kwargs={"k": [3]}), *recorder.callbacks())
    outcome = recorder.wait(1)
    assert outcome.status == RunStatus.SUCCEEDED
    assert outcome.result == '{"args": [1, "two"], "kwargs": {"k": [3]}}'
    assert recorder.starts[1] == [outcome.started_us]
    assert outcome.started_us is not None
    assert before <= outcome.started_us <= outcome.finished_us
    assert outcome.log == "echo (1, 'two') {'k': [3]}\n"
    assert outcome.error is None
    assert outcome.traceback is None
    if kind == "process":  # Python objects do not cross the process boundary
        assert outcome.value is None
    else:
        assert outcome.value == {"args": [1, "two"], "kwargs": {"k": [3]}}


def test_none_result_is_no_result(
    kind: str, start_executor: StartExecutor, recorder: Recorder
) -> None:
    executor = start_executor(kind)
    executor.submit(request(1, "noop"), *recorder.callbacks())
    outcome = recorder.wait(1)
    assert outcome.status == RunStatus.SUCCEEDED
    assert outcome.result is None
    assert outcome.log == ""


def test_exception_fails_the_run_with_error_and_traceback(
    kind: str, start_executor: StartExecutor, recorder: Recorder
) -> None:
    executor = start_executor(kind)
    executor.submit(request(1, "fail", "it broke"), *recorder.callbacks())
    executor.submit(request(2, "fail_without_message"), *recorder.callbacks())
    failed, bare = recorder.wait_all([1, 2])
    assert failed.status == RunStatus.FAILED
    assert failed.error == "ValueError: it broke"
    assert failed.started_us is not None
    assert failed.traceback is not None
    assert failed.traceback.startswith("Traceback (most recent call last):\n")
    assert "in fail\n    raise ValueError(message)" in failed.traceback
    assert failed.traceback.endswith("ValueError: it broke\n")
    # The executor's own frames are not the user's business.
    assert "tickwork/executors" not in failed.traceback
    assert "tickwork/targets" not in failed.traceback
    assert failed.log == "about to fail\n"
    assert bare.error == "RuntimeError"
    if kind == "process":
        assert failed.exception is None
    else:
        assert isinstance(failed.exception, ValueError)


def test_unresolvable_target_fails_the_run_not_the_worker(
    kind: str, start_executor: StartExecutor, recorder: Recorder
) -> None:
    executor = start_executor(kind, 1)
    on_start, on_done = recorder.callbacks()
    executor.submit(request(1, "no_such_function"), on_start, on_done)
    executor.submit(RunRequest(2, "job", "no_such_module.sub:f"), on_start, on_done)
    executor.submit(request(3, "add", 2, 3), on_start, on_done)
    missing_attr, missing_module, ok = recorder.wait_all([1, 2, 3])
    assert missing_attr.status == RunStatus.FAILED
    assert missing_attr.error == (
        "InvalidInput: target: 'tests.executors.targets_for_tests' has no attribute "
        "'no_such_function'"
    )
    assert missing_module.error == "InvalidInput: target: module 'no_such_module.sub' not found"
    assert missing_module.traceback is not None
    assert "ModuleNotFoundError: No module named 'no_such_module'" in missing_module.traceback
    assert ok.status == RunStatus.SUCCEEDED
    assert ok.result == "5"


def test_result_is_json_else_repr_and_bounded(
    kind: str, start_executor: StartExecutor, recorder: Recorder
) -> None:
    executor = start_executor(kind)
    on_start, on_done = recorder.callbacks()
    executor.submit(request(1, "returns_set"), on_start, on_done)
    executor.submit(request(2, "returns_text", 10_000, result_limit=100), on_start, on_done)
    executor.submit(request(3, "returns_text", 98, result_limit=100), on_start, on_done)
    as_repr, cut, fits = recorder.wait_all([1, 2, 3])
    assert as_repr.result == "{1, 2, 3}"
    assert cut.result is not None
    assert len(cut.result) <= 100
    assert cut.result.startswith('"rrrr')
    assert cut.result.endswith(" [... 10002 chars, cut ...]")
    assert fits.result == '"' + "r" * 98 + '"'


def test_log_keeps_the_tail_within_the_limit(
    kind: str, start_executor: StartExecutor, recorder: Recorder
) -> None:
    executor = start_executor(kind)
    executor.submit(request(1, "spam", 5_000, log_limit=1_000), *recorder.callbacks())
    outcome = recorder.wait(1)
    assert outcome.status == RunStatus.SUCCEEDED
    assert len(outcome.log.encode()) <= 1_000
    match = re.match(r"\[\.\.\. (\d+) bytes cut \.\.\.\]\n", outcome.log)
    assert match is not None
    kept = outcome.log[match.end() :]
    assert kept.endswith("line 04999\n")
    assert int(match.group(1)) + len(kept) == 5_000 * len("line 00000\n")


def test_concurrent_runs_capture_only_their_own_output(
    kind: str, start_executor: StartExecutor, recorder: Recorder
) -> None:
    workers = 4 if kind == "process" else 20
    executor = start_executor(kind, workers)
    func = "async_chatter" if kind == "asyncio" else "chatter"
    on_start, on_done = recorder.callbacks()
    for i in range(20):
        executor.submit(request(i, func, f"<run{i}>", 5, 0.005), on_start, on_done)
    outcomes = recorder.wait_all(list(range(20)))
    for i, outcome in enumerate(outcomes):
        assert outcome.status == RunStatus.SUCCEEDED, outcome.error
        lines = outcome.log.splitlines()
        assert len(lines) == 15
        assert all(f"<run{i}>" in line for line in lines), outcome.log
        assert sum(" INFO tests.executors.targets_for_tests: " in line for line in lines) == 5
        # Interleaved in the order written: out, log, err per round.
        assert [line.split()[-2] for line in lines[:3]] == ["out", "log", "err"]


def test_secrets_are_redacted_everywhere(
    kind: str, start_executor: StartExecutor, recorder: Recorder
) -> None:
    executor = start_executor(kind)
    canary = "canary-S3CRET-value"
    secrets = (canary, "")  # an empty secret must not mask everything
    on_start, on_done = recorder.callbacks()
    executor.submit(request(1, "leak", canary, secrets=secrets), on_start, on_done)
    executor.submit(request(2, "leak_in_result", canary, secrets=secrets), on_start, on_done)
    raised, returned = recorder.wait_all([1, 2])
    assert raised.status == RunStatus.FAILED
    texts = [raised.log, raised.error, raised.traceback, returned.log, returned.result]
    for text in texts:
        assert text is not None
        assert canary not in text
        assert "******" in text
    assert raised.error == "ValueError: refused ******"
    assert returned.result == '{"token": "******"}'


def test_timeout_ends_the_run_at_the_deadline(
    kind: str, start_executor: StartExecutor, recorder: Recorder
) -> None:
    executor = start_executor(kind, 1)
    func = "async_sleep" if kind == "asyncio" else "sleep_loop"
    submitted = time.monotonic()
    executor.submit(request(1, func, 5, timeout_s=0.2), *recorder.callbacks())
    outcome = recorder.wait(1)
    assert outcome.status == RunStatus.TIMED_OUT
    assert recorder.done_at[1] - submitted < 1.5
    assert outcome.started_us is not None
    assert outcome.error is not None
    assert outcome.error.startswith("timeout: the run took longer than 0.2 s")
    assert "sleeping" in outcome.log
    # The worker comes back and serves the next run.
    wait_until(lambda: executor.free_slots == 1)
    executor.submit(request(2, "add", 1, 1), *recorder.callbacks())
    assert recorder.wait(2).result == "2"


def test_cancel_running_and_queued_runs(
    kind: str, start_executor: StartExecutor, recorder: Recorder
) -> None:
    executor = start_executor(kind, 1)
    func = "async_sleep" if kind == "asyncio" else "sleep_loop"
    on_start, on_done = recorder.callbacks()
    executor.submit(request(1, func, 5), on_start, on_done)
    executor.submit(request(2, "noop"), on_start, on_done)
    wait_until(lambda: 1 in recorder.starts)
    assert executor.free_slots == 0
    assert executor.cancel(2, "not needed") is True
    queued = recorder.wait(2)
    assert queued.status == RunStatus.CANCELLED
    assert queued.started_us is None
    assert queued.error == "not needed"
    assert 2 not in recorder.starts
    assert executor.cancel(1, "replaced by a newer fire") is True
    running = recorder.wait(1)
    assert running.status == RunStatus.CANCELLED
    assert running.error == "replaced by a newer fire"
    assert running.started_us is not None
    assert executor.cancel(1, "again") is False  # already ended
    assert executor.cancel(99, "unknown") is False
    wait_until(lambda: executor.free_slots == 1)
    executor.submit(request(3, "add", 2, 2), on_start, on_done)
    assert recorder.wait(3).result == "4"


def test_submit_never_blocks_and_free_slots_counts_queued_runs(
    kind: str, start_executor: StartExecutor, recorder: Recorder
) -> None:
    executor = start_executor(kind, 2)
    func = "async_sleep" if kind == "asyncio" else "sleep_loop"
    assert executor.free_slots == 2
    on_start, on_done = recorder.callbacks()
    began = time.monotonic()
    for i in range(6):
        executor.submit(request(i, func, 0.1), on_start, on_done)
    assert time.monotonic() - began < 0.1
    assert executor.free_slots == 0
    outcomes = recorder.wait_all(list(range(6)))
    assert all(o.status == RunStatus.SUCCEEDED for o in outcomes)
    wait_until(lambda: executor.free_slots == 2)


def test_shutdown_waits_for_running_runs(
    kind: str, start_executor: StartExecutor, recorder: Recorder
) -> None:
    executor = start_executor(kind, 1)
    func = "async_sleep" if kind == "asyncio" else "sleep_loop"
    executor.submit(request(1, func, 0.2), *recorder.callbacks())
    wait_until(lambda: 1 in recorder.starts)
    executor.shutdown(5)
    assert recorder.wait(1, 0).status == RunStatus.SUCCEEDED
    assert executor.free_slots == 0


def test_shutdown_cancels_running_and_queued_runs(
    kind: str, start_executor: StartExecutor, recorder: Recorder
) -> None:
    executor = start_executor(kind, 1)
    func = "async_sleep" if kind == "asyncio" else "sleep_loop"
    on_start, on_done = recorder.callbacks()
    executor.submit(request(1, func, 10), on_start, on_done)
    executor.submit(request(2, "noop"), on_start, on_done)
    executor.submit(request(3, "noop"), on_start, on_done)
    wait_until(lambda: 1 in recorder.starts)
    began = time.monotonic()
    executor.shutdown(0.1)
    assert time.monotonic() - began < 3
    running, *queued = recorder.wait_all([1, 2, 3], 0)
    assert running.status == RunStatus.CANCELLED
    assert running.error == "shutdown: the run did not finish within 0.1 s"
    assert running.started_us is not None
    for outcome in queued:
        assert outcome.status == RunStatus.CANCELLED
        assert outcome.started_us is None
        assert outcome.error is not None
        assert outcome.error.startswith("shutdown: ")
    with pytest.raises(RuntimeError):
        executor.submit(request(4, "noop"), on_start, on_done)
    executor.shutdown(0)  # a second shutdown is a no-op


def test_callback_exceptions_do_not_kill_workers(
    kind: str,
    start_executor: StartExecutor,
    recorder: Recorder,
    caplog: pytest.LogCaptureFixture,
) -> None:
    executor = start_executor(kind, 1)

    def bad_start(run_id: int, started_us: int) -> None:
        recorder.on_start(run_id, started_us)
        raise RuntimeError("engine bug in on_start")

    def bad_done(outcome: object) -> None:
        recorder.on_done(outcome)  # type: ignore[arg-type]
        raise RuntimeError("engine bug in on_done")

    for i in range(3):
        executor.submit(request(i, "add", i, i), bad_start, bad_done)
    outcomes = recorder.wait_all([0, 1, 2])
    assert [o.result for o in outcomes] == ["0", "2", "4"]
    # Logged for the operator; nothing of the engine's failure leaks into the run's log.

    def logged() -> list[str]:
        return sorted(str(r.exc_info[1]) for r in caplog.records if r.exc_info)

    wait_until(lambda: len(logged()) == 6)
    assert logged() == ["engine bug in on_done"] * 3 + ["engine bug in on_start"] * 3
    assert all(o.log == "" for o in outcomes)
    wait_until(lambda: executor.free_slots == 1)
    executor.submit(request(3, "add", 1, 2), *recorder.callbacks())
    assert recorder.wait(3).result == "3"


def test_duplicate_run_id_is_refused(
    kind: str, start_executor: StartExecutor, recorder: Recorder
) -> None:
    executor = start_executor(kind, 1)
    func = "async_sleep" if kind == "asyncio" else "sleep_loop"
    executor.submit(request(1, func, 0.2), *recorder.callbacks())
    with pytest.raises(ValueError, match="already submitted"):
        executor.submit(request(1, "noop"), *recorder.callbacks())
    assert recorder.wait(1).status == RunStatus.SUCCEEDED


def test_coroutine_and_plain_functions_run_on_every_executor(
    kind: str, start_executor: StartExecutor, recorder: Recorder
) -> None:
    executor = start_executor(kind)
    on_start, on_done = recorder.callbacks()
    executor.submit(request(1, "async_add", 2, 3), on_start, on_done)
    executor.submit(request(2, "add", 2, 3), on_start, on_done)
    executor.submit(request(3, "async_fail", "async broke"), on_start, on_done)
    coroutine, plain, failed = recorder.wait_all([1, 2, 3])
    assert coroutine.result == plain.result == "5"
    assert failed.error == "ValueError: async broke"


def test_submit_before_start_is_refused(kind: str) -> None:
    from tickwork.clock import SystemClock
    from tickwork.executors import create_executor

    executor = create_executor(kind, 1, SystemClock())
    with pytest.raises(RuntimeError):
        executor.submit(request(1, "noop"), lambda *_: None, lambda _: None)
    assert executor.free_slots == 0
    executor.shutdown(0)  # never started: nothing to do


def test_a_run_cancelled_from_on_start_never_begins(
    kind: str, start_executor: StartExecutor, recorder: Recorder, tmp_path: Path
) -> None:
    executor = start_executor(kind, 1)
    marker = tmp_path / "ran"

    def cancel_at_start(run_id: int, started_us: int) -> None:
        recorder.on_start(run_id, started_us)
        assert executor.cancel(run_id, "changed my mind")

    executor.submit(request(1, "touch", str(marker)), cancel_at_start, recorder.on_done)
    outcome = recorder.wait(1)
    assert outcome.status == RunStatus.CANCELLED
    assert outcome.error == "changed my mind"
    assert outcome.started_us == recorder.starts[1][0]
    wait_until(lambda: executor.free_slots == 1)
    executor.submit(request(2, "add", 1, 1), *recorder.callbacks())
    assert recorder.wait(2).result == "2"
    assert not marker.exists()


def test_times_come_from_the_injected_clock_but_timeouts_from_real_time(
    kind: str, start_executor: StartExecutor, recorder: Recorder
) -> None:
    clock = FakeClock(1_800_000_000_000_000)
    executor = start_executor(kind, 1, clock)
    func = "async_sleep" if kind == "asyncio" else "sleep_loop"
    on_start, on_done = recorder.callbacks()
    executor.submit(request(1, "noop"), on_start, on_done)
    executor.submit(request(2, func, 5, timeout_s=0.1), on_start, on_done)
    done, timed_out = recorder.wait_all([1, 2])
    assert recorder.starts[1] == [1_800_000_000_000_000]
    assert done.started_us == done.finished_us == 1_800_000_000_000_000
    # The fake clock never moved, yet the timeout came.
    assert timed_out.status == RunStatus.TIMED_OUT
    assert timed_out.finished_us == 1_800_000_000_000_000
