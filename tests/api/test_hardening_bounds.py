"""Issue 9, item 3: bounds on every number, and a readiness probe that sees dead threads.

The review found: ``timeout_s: 1e10`` killed the node's timer thread (timeouts and cancels
stopped), ``misfire_grace_s: 1e303`` stopped all scheduling once a fire was late, a retry
backoff of ``1e15`` froze outcome writes for every job on the node, a ``1e300``-week interval
answered 500, and ``/readyz`` said ok throughout."""

from __future__ import annotations

import ctypes
import threading
import time
from typing import Any

import pytest

from tests.api.conftest import Api, job_body
from tickwork.clock import SystemClock
from tickwork.executors.base import RunOutcome, RunRequest
from tickwork.executors.thread import ThreadExecutor
from tickwork.models import RunStatus

HUGE: list[tuple[dict[str, Any], str]] = [
    ({"policies": {"timeout_s": 1e10}}, "timeout_s"),
    ({"policies": {"timeout_s": 31 * 86_400}}, "timeout_s"),
    ({"policies": {"misfire_grace_s": 1e303}}, "misfire_grace_s"),
    ({"policies": {"retry_backoff_s": 1e15, "retry_backoff_max_s": 1e15}}, "retry_backoff_s"),
    ({"policies": {"retry_backoff_max_s": 1e15}}, "retry_backoff_max_s"),
    ({"policies": {"max_catchup": 10**12}}, "max_catchup"),
    ({"policies": {"max_instances": 2**63}}, "max_instances"),
    ({"policies": {"retries": 10**9}}, "retries"),
    ({"trigger": {"kind": "interval", "args": {"weeks": 1e300}}}, "trigger"),
    ({"trigger": {"kind": "interval", "args": {"days": 200 * 365}}}, "trigger.interval"),
    ({"trigger": {"kind": "interval", "args": {"seconds": 5, "jitter": 1e300}}}, "trigger"),
]


@pytest.mark.parametrize(("changes", "field"), HUGE)
def test_numbers_beyond_their_limit_are_refused_naming_the_field(
    lite_api: Api, changes: dict[str, Any], field: str
) -> None:
    admin = lite_api.client("admin")
    before = lite_api.tw.job_counts()["total"], lite_api.tw.audit.count()
    response = admin.post("/api/jobs", json=job_body("big", **changes))
    assert response.status_code == 422, response.text
    assert response.json()["field"].startswith(field), response.json()
    assert (lite_api.tw.job_counts()["total"], lite_api.tw.audit.count()) == before
    # the same through PATCH of an existing job
    assert admin.post("/api/jobs", json=job_body("small")).status_code == 201
    patched = admin.patch("/api/jobs/small", json=changes)
    assert patched.status_code == 422, patched.text
    job = lite_api.tw.get_job("small")
    assert job is not None
    assert job.version == 1


def test_values_at_the_documented_limits_are_accepted(lite_api: Api) -> None:
    body = job_body(
        "edge",
        policies={
            "timeout_s": 30 * 86_400,
            "misfire_grace_s": 365 * 86_400,
            "retry_backoff_s": 86_400,
            "retry_backoff_max_s": 7 * 86_400,
            "retries": 100,
            "max_instances": 10_000,
            "max_catchup": 100_000,
        },
        trigger={"kind": "interval", "args": {"weeks": 5200}},
    )
    response = lite_api.client("admin").post("/api/jobs", json=body)
    assert response.status_code == 201, response.text


def test_a_huge_timeout_does_not_kill_the_executor_timer_thread() -> None:
    """A run whose timeout overflowed the timer thread's wait left every later timeout and
    cancel of the executor dead. The executor now survives any deadline it is given."""
    executor = ThreadExecutor(2, SystemClock())
    executor.start()
    done: dict[int, RunOutcome] = {}
    ended = threading.Event()
    started = threading.Event()

    def finished(outcome: RunOutcome) -> None:
        done[outcome.run_id] = outcome
        if outcome.run_id == 2:
            ended.set()

    slow = {"lines": 40, "pause_s": 0.1}
    try:
        executor.submit(
            RunRequest(
                run_id=1,
                job_id="j",
                target="tests.api.tasks:slow_logger",
                kwargs=slow,
                timeout_s=1e10,
            ),
            lambda *_: started.set(),
            finished,
        )
        assert started.wait(30)
        time.sleep(0.2)  # the timer thread now sleeps towards run 1's deadline
        executor.submit(
            RunRequest(
                run_id=2,
                job_id="j",
                target="tests.api.tasks:slow_logger",
                kwargs=slow,
                timeout_s=0.3,
            ),
            lambda *_: None,
            finished,
        )
        assert ended.wait(30), "the timeout of run 2 never fired"
        assert done[2].status == RunStatus.TIMED_OUT
        assert executor.health() == {"timer": True}
    finally:
        executor.shutdown(5)


def _kill(thread_name: str, nudge: Any) -> None:
    """End one of the node's threads the hard way: an exception raised inside it (it
    arrives when the thread next runs Python code, so ``nudge`` wakes it)."""
    for thread in threading.enumerate():
        if thread.name == thread_name:
            ctypes.pythonapi.PyThreadState_SetAsyncExc(
                ctypes.c_ulong(thread.ident or 0), ctypes.py_object(SystemExit)
            )
            deadline = time.monotonic() + 20
            while thread.is_alive() and time.monotonic() < deadline:
                nudge()
                thread.join(0.5)
            assert not thread.is_alive(), thread_name
            return
    raise AssertionError(f"no thread {thread_name}")


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")  # on purpose
@pytest.mark.parametrize(
    ("thread_name", "part"),
    [
        ("tickwork-writer", "writer"),
        ("tickwork-dispatch", "dispatcher"),
        ("tickwork-watchman", "watchman"),
        ("tickwork-thread-timers", "thread executor timer"),
        ("tickwork-loop", "loop"),
    ],
)
def test_readyz_reports_a_node_whose_thread_died(
    lite_api: Api, thread_name: str, part: str
) -> None:
    client = lite_api.client()
    body = job_body("r", policies={"timeout_s": 60})
    assert lite_api.client("admin").post("/api/jobs", json=body).status_code == 201
    lite_api.tw.start()
    try:
        assert client.get("/readyz").json()["status"] == "ok"
        _kill(thread_name, lambda: lite_api.tw.run_job("r"))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            ready = client.get("/readyz")
            if ready.status_code == 503:
                break
            time.sleep(0.05)
        assert ready.status_code == 503, ready.text
        assert part in ready.json()["checks"]["scheduler"], ready.json()
    finally:
        lite_api.tw.shutdown(wait=False)


def test_anonymous_readiness_shows_no_counts(lite_api: Api) -> None:
    lite_api.client("admin").post("/api/jobs", json=job_body("r1"))
    lite_api.client("admin").post("/api/jobs", json=job_body("r2", paused=True))
    lite_api.tw.start()
    try:
        ready = lite_api.client().get("/readyz").json()
    finally:
        lite_api.tw.shutdown(wait=False)
    assert ready["status"] == "ok"
    text = str(ready)
    assert not any(ch.isdigit() for ch in text), ready
