"""The control thread of the executors: callbacks soon and at deadlines."""

from __future__ import annotations

import threading
import time

import pytest

from tickwork.executors.timers import TimerThread


def test_callbacks_run_soon_in_order_and_timers_at_their_time() -> None:
    timers = TimerThread("test-timers")
    timers.start()
    seen: list[tuple[str, float]] = []
    done = threading.Event()
    began = time.monotonic()
    timers.call_later(0.1, lambda: (seen.append(("late", time.monotonic())), done.set()))
    timers.call_later(0.05, lambda: seen.append(("early", time.monotonic())))
    for i in range(3):
        timers.call_soon(seen.append, (f"soon{i}", time.monotonic()))
    assert done.wait(2)
    timers.stop()
    assert [name for name, _ in seen] == ["soon0", "soon1", "soon2", "early", "late"]
    at = dict(seen)
    assert 0.05 <= at["early"] - began < 0.5
    assert 0.1 <= at["late"] - began < 0.5


def test_cancelled_timers_do_not_fire_even_when_most_are_cancelled() -> None:
    timers = TimerThread("test-timers")
    timers.start()
    fired: list[int] = []
    done = threading.Event()
    for i in range(2000):
        timer = timers.call_later(0.05, fired.append, i)
        if i % 100:
            timer.cancel()
    timers.call_later(0.1, done.set)
    assert done.wait(2)
    timers.stop()
    assert fired == list(range(0, 2000, 100))


def test_a_failing_callback_is_logged_and_the_thread_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    timers = TimerThread("test-timers")
    timers.start()
    done = threading.Event()

    def broken() -> None:
        raise RuntimeError("broken callback")

    timers.call_soon(broken)
    timers.call_soon(done.set)
    assert done.wait(2)
    timers.stop()
    assert "broken callback" in caplog.text


def test_stop_runs_what_was_asked_soon_and_drops_timers() -> None:
    timers = TimerThread("test-timers")
    timers.start()
    seen: list[str] = []
    timers.call_later(10, seen.append, "never")
    timers.call_soon(seen.append, "soon")
    timers.stop()
    assert seen == ["soon"]
