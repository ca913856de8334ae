"""The engine end to end on SQLite with a FakeClock: what runs, what is recorded, and how."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.engine import tasks
from tests.engine.conftest import SEC, T0, wait_for
from tickwork import (
    EVENT_JOB_ADDED,
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_LOST,
    EVENT_JOB_MISSED,
    EVENT_JOB_SKIPPED,
    Tickwork,
)
from tickwork.clock import FakeClock
from tickwork.engine.single_node_lock import SchedulerAlreadyRunning
from tickwork.store.runs import NewRun

MIN = 60 * SEC
Make = Callable[..., Tickwork]


def statuses(tw: Tickwork, job_id: str | None = None) -> list[tuple[int, str, str]]:
    """(scheduled_for offset from T0 in s, status, reason), oldest first."""
    runs = tw.get_runs(job_id, limit=10_000)
    return sorted(((r.scheduled_for - T0) // SEC, r.status, r.reason) for r in runs)


def finished(tw: Tickwork, n: int, job_id: str | None = None) -> Callable[[], bool]:
    def check() -> bool:
        runs = tw.get_runs(job_id, limit=10_000)
        return sum(r.status not in ("scheduled", "running") for r in runs) >= n

    return check


def step(clock: FakeClock, tw: Tickwork, seconds: float, n_total: int) -> None:
    clock.advance(seconds)
    wait_for(finished(tw, n_total), what=f"{n_total} finished runs")


def test_a_cron_job_runs_at_each_fire_and_records_it(make_tw: Make, clock: FakeClock) -> None:
    tw = make_tw()
    tw.add_job("tests.engine.tasks:ok", "* * * * *", id="every-minute", kwargs={"tag": "m"})
    tw.start()
    for minute in range(1, 4):
        step(clock, tw, 60, minute)
    assert statuses(tw) == [
        (60, "succeeded", "schedule"),
        (120, "succeeded", "schedule"),
        (180, "succeeded", "schedule"),
    ]
    run = tw.get_run(tw.get_runs(limit=1)[0].id)
    assert run.result == '{"tag": "m"}'
    assert "ran m" in (run.log or "")
    assert "logged m" in (run.log or "")
    assert run.started_at is not None
    assert run.started_at >= run.scheduled_for
    assert run.node_id == tw.node.node_id  # type: ignore[union-attr]
    assert len(tasks.calls["m"]) == 3


def test_downtime_is_caught_up_once_and_the_rest_recorded_missed(
    make_tw: Make, clock: FakeClock
) -> None:
    tw = make_tw()
    tw.add_job("tests.engine.tasks:ok", "* * * * *", id="j", owner="python")
    clock.advance(5 * 60 + 30)  # the scheduler was down for 5.5 minutes
    tw.start()
    wait_for(finished(tw, 5), what="5 records")
    assert statuses(tw) == [(60 * i, "missed", "schedule") for i in range(1, 5)] + [
        (300, "succeeded", "catch-up")
    ]
    assert len(tasks.calls["ok"]) == 1


def test_every_due_fire_becomes_exactly_one_record(make_tw: Make, clock: FakeClock) -> None:
    """Against an independent list of due instants, over uneven clock steps and a restart."""
    tw = make_tw()
    tw.add_job("tests.engine.tasks:ok", "*/7 * * * * *", id="seven", owner="python")
    tw.add_job(
        "tests.engine.tasks:ok",
        "interval",
        seconds=11,
        id="eleven",
        owner="python",
        start_date="2026-01-05 10:00:03",
    )
    tw.start()
    for seconds in (5, 13, 2, 40, 1, 1, 29, 60):
        clock.advance(seconds)
        wait_for(lambda: tw.node.dispatcher.outstanding() == 0 or True)  # type: ignore[union-attr]
    tw.shutdown()
    clock.advance(100)
    tw2 = make_tw()
    tw2.start()
    clock.advance(50)
    end = clock.now_us()
    seven = [t for t in range(T0, end + 1, SEC) if (t - T0) // SEC % 60 % 7 == 0 and t > T0]
    eleven = list(range(T0 + 3 * SEC, end + 1, 11 * SEC))
    wait_for(finished(tw2, len(seven) + len(eleven)), what="all fires recorded")
    for job_id, due in (("seven", seven), ("eleven", eleven)):
        runs = tw2.get_runs(job_id, limit=10_000)
        assert sorted(r.scheduled_for for r in runs) == due
        assert len({r.scheduled_for for r in runs}) == len(runs)


def test_forbid_records_a_skipped_run_while_one_is_running(make_tw: Make, clock: FakeClock) -> None:
    tw = make_tw()
    tw.add_job(
        "tests.engine.tasks:block", "* * * * *", id="b", concurrency="forbid", owner="python"
    )
    seen: list[str] = []
    tw.add_listener(lambda e: seen.append(f"{e.status}"), EVENT_JOB_SKIPPED | EVENT_JOB_EXECUTED)
    tw.start()
    clock.advance(60)
    wait_for(lambda: len(tasks.calls["block"]) == 1, what="first run started")
    step(clock, tw, 60, 1)
    tasks.gates["block"].set()
    wait_for(finished(tw, 2))
    assert statuses(tw) == [(60, "succeeded", "schedule"), (120, "skipped", "schedule")]
    skipped = tw.get_runs(status="skipped")[0]
    assert skipped.error is not None
    assert "1 instance(s) already running" in skipped.error
    wait_for(lambda: sorted(seen) == ["skipped", "succeeded"], what="events")


def test_allow_runs_up_to_max_instances(make_tw: Make, clock: FakeClock) -> None:
    tw = make_tw()
    tw.add_job("tests.engine.tasks:block", "* * * * *", id="b", max_instances=2, owner="python")
    tw.start()
    clock.advance(60)
    wait_for(lambda: len(tasks.calls["block"]) == 1)
    clock.advance(60)
    wait_for(lambda: len(tasks.calls["block"]) == 2)
    step(clock, tw, 60, 1)
    assert "skipped" in {s for _, s, _ in statuses(tw)}
    tasks.gates["block"].set()
    wait_for(finished(tw, 3))
    assert [s for _, s, _ in statuses(tw)] == ["succeeded", "succeeded", "skipped"]


def test_replace_cancels_the_running_instance(make_tw: Make, clock: FakeClock) -> None:
    tw = make_tw()
    tw.add_job(
        "tests.engine.tasks:block", "* * * * *", id="b", concurrency="replace", owner="python"
    )
    tw.start()
    clock.advance(60)
    wait_for(lambda: len(tasks.calls["block"]) == 1)
    clock.advance(60)
    wait_for(lambda: len(tasks.calls["block"]) == 2)
    wait_for(finished(tw, 1))
    first = tw.get_runs(status="cancelled")[0]
    assert first.scheduled_for == T0 + MIN
    assert first.error is not None
    assert "replaced by run" in first.error
    tasks.gates["block"].set()
    wait_for(finished(tw, 2))


def test_a_timeout_ends_the_run_timed_out(make_tw: Make, clock: FakeClock) -> None:
    tw = make_tw()
    tw.add_job(
        "tests.engine.tasks:sleep", "* * * * *", id="s", args=[1.0], timeout=0.2, owner="python"
    )
    errors: list[str] = []
    tw.add_listener(lambda e: errors.append(e.status), EVENT_JOB_ERROR)
    tw.start()
    step(clock, tw, 60, 1)
    run = tw.get_runs()[0]
    assert run.status == "timed_out"
    assert run.duration_s is not None
    assert run.duration_s < 0.9
    wait_for(lambda: errors == ["timed_out"])


def test_failures_are_retried_with_backoff_each_attempt_its_own_record(
    make_tw: Make, clock: FakeClock
) -> None:
    tw = make_tw()
    tw.add_job(
        "tests.engine.tasks:fail", "0 * * * *", id="f", retries=2, retry_backoff=10, owner="python"
    )
    tw.start()
    clock.advance(3600)
    wait_for(finished(tw, 1))
    for n in (2, 3):
        clock.advance(60)  # past any backoff (10 s, then 20 s, jittered down to half)
        wait_for(finished(tw, n), what=f"attempt {n}")
    runs = sorted(tw.get_runs("f"), key=lambda r: r.attempt)
    assert [(r.attempt, r.reason, r.status) for r in runs] == [
        (1, "schedule", "failed"),
        (2, "retry", "failed"),
        (3, "retry", "failed"),
    ]
    assert runs[1].retry_of == runs[0].id
    assert runs[2].retry_of == runs[1].id
    assert {r.scheduled_for for r in runs} == {T0 + 3600 * SEC}  # one fire, three attempts
    assert 5 * SEC <= runs[1].due_at - runs[0].finished_at <= 10 * SEC  # type: ignore[operator]
    assert runs[0].error == "RuntimeError: fail failed on purpose"
    first = tw.get_run(runs[0].id)  # lists leave the traceback out; one run has it
    assert first.traceback is not None
    assert "on purpose" in first.traceback
    clock.advance(600)
    assert len(tw.get_runs("f")) == 3  # no fourth attempt


def test_run_job_returns_at_once_and_params_override_arguments(
    make_tw: Make, clock: FakeClock
) -> None:
    tw = make_tw()
    tw.add_job(
        "tests.engine.tasks:ok",
        "@yearly",
        id="manual",
        kwargs={"tag": "x", "n": 1},
        parameters=[{"name": "n", "type": "integer"}],  # what a manual run may set
    )
    tw.start()
    run_id = tw.run_job("manual", params={"kwargs": {"n": 2}}, by="alice")
    assert tw.get_run(run_id).status in ("scheduled", "running", "succeeded")
    wait_for(finished(tw, 1))
    run = tw.get_run(run_id)
    assert (run.status, run.reason, run.triggered_by) == ("succeeded", "manual", "alice")
    assert tasks.calls["x"][0]["n"] == 2


def test_paused_jobs_do_not_fire_and_resume_from_now(make_tw: Make, clock: FakeClock) -> None:
    tw = make_tw()
    tw.add_job("tests.engine.tasks:ok", "* * * * *", id="p", owner="python")
    tw.start()
    tw.pause_job("p")
    assert tw.get_job("p").next_run_time is None  # type: ignore[union-attr]
    clock.advance(180)
    job = tw.resume_job("p")
    assert job.next_run_time is not None
    assert job.record.next_fire_at == T0 + 4 * MIN
    step(clock, tw, 60, 1)
    assert statuses(tw) == [(240, "succeeded", "schedule")]  # the paused minutes owe nothing


def test_a_paused_scheduler_applies_the_misfire_policy_on_resume(
    make_tw: Make, clock: FakeClock
) -> None:
    tw = make_tw()
    tw.add_job("tests.engine.tasks:ok", "* * * * *", id="j", owner="python")
    tw.start()
    tw.pause()
    assert tw.is_paused()
    clock.advance(3 * 60 + 10)
    wait_for(lambda: tw.node.loop.paused)  # type: ignore[union-attr]
    assert tw.get_runs() == []
    tw.resume()
    wait_for(finished(tw, 3))
    assert statuses(tw) == [
        (60, "missed", "schedule"),
        (120, "missed", "schedule"),
        (180, "succeeded", "catch-up"),
    ]


def test_shutdown_records_what_it_cut_off_and_requeues_unstarted_runs(
    make_tw: Make, clock: FakeClock
) -> None:
    tw = make_tw(shutdown_wait_s=0.3)
    tw.add_job("tests.engine.tasks:block", "* * * * *", id="b", owner="python")
    tw.add_job(
        "tests.engine.tasks:ok",
        "* * * * * *",
        id="later",
        owner="python",
        next_run_time="2026-01-05 10:01:00.5",
    )
    tw.start()
    clock.advance(60)
    wait_for(lambda: len(tasks.calls["block"]) == 1)
    wait_for(lambda: any(r.status == "scheduled" for r in tw.get_runs("later")))
    tw.shutdown(wait=True)
    cut = tw.get_runs("b")[0]
    assert cut.status == "cancelled"
    assert cut.error is not None
    assert cut.error.startswith("shutdown")
    queued = [r for r in tw.get_runs("later") if r.status == "scheduled"]
    assert queued
    assert all(r.node_id is None for r in queued)


def test_runs_of_a_dead_node_end_lost_and_are_retried(make_tw: Make, clock: FakeClock) -> None:
    tw = make_tw()
    tw.add_job(
        "tests.engine.tasks:ok", "@yearly", id="r", retries=1, retry_backoff=1, owner="python"
    )
    lost_events: list[int] = []
    tw.add_listener(lambda e: lost_events.append(e.run_id), EVENT_JOB_LOST)
    # A node that claimed a run and died: its heartbeat stopped a minute ago.
    with tw.store.db.write() as conn:
        tw.store.nodes.register(conn, "ghost", "scheduler", T0 - 60 * SEC)
        (ghost_run,) = tw.store.runs.insert_many(
            conn,
            [
                NewRun(
                    job_id="r",
                    scheduled_for=T0 - 30 * SEC,
                    due_at=T0 - 30 * SEC,
                    reason="schedule",
                    status="scheduled",
                    node_id="ghost",
                )
            ],
            T0,
        )
    tw.start()  # its watchman reaps at once
    wait_for(lambda: tw.get_run(ghost_run).status == "lost", what="the ghost's run lost")
    clock.advance(2)
    wait_for(finished(tw, 2))
    runs = sorted(tw.get_runs("r"), key=lambda r: r.attempt)
    assert [(r.status, r.reason, r.attempt) for r in runs] == [
        ("lost", "schedule", 1),
        ("succeeded", "retry", 2),
    ]
    assert runs[0].id == ghost_run
    assert runs[1].retry_of == ghost_run
    assert runs[0].error is not None
    assert "ghost stopped sending heartbeats" in runs[0].error
    wait_for(lambda: lost_events == [ghost_run])


def test_listeners_get_apscheduler_style_events(make_tw: Make, clock: FakeClock) -> None:
    tw = make_tw()
    seen: list[tuple[int, str]] = []
    tw.add_listener(
        lambda e: seen.append((e.code, e.job_id)),
        EVENT_JOB_ADDED | EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED,
    )
    executed: list[object] = []
    tw.add_listener(
        lambda e: executed.append((e.retval, e.scheduled_run_time.isoformat())), EVENT_JOB_EXECUTED
    )
    tw.add_job("tests.engine.tasks:ok", "* * * * *", id="a", owner="python")
    tw.add_job("tests.engine.tasks:fail", "* * * * *", id="b", owner="python")
    tw.start()
    step(clock, tw, 60, 2)
    wait_for(lambda: len(seen) == 4)
    assert sorted(seen) == sorted(
        [
            (EVENT_JOB_ADDED, "a"),
            (EVENT_JOB_ADDED, "b"),
            (EVENT_JOB_EXECUTED, "a"),
            (EVENT_JOB_ERROR, "b"),
        ]
    )
    assert executed == [({"tag": "ok"}, "2026-01-05T10:01:00+00:00")]


def test_coroutine_targets_run_on_the_asyncio_executor(make_tw: Make, clock: FakeClock) -> None:
    tw = make_tw()
    job = tw.add_job("tests.engine.tasks:coro", "* * * * *", id="c", owner="python")
    assert job.executor == "asyncio"
    tw.start()
    step(clock, tw, 60, 1)
    assert tw.get_runs("c")[0].result == '"coro"'


def test_a_second_scheduler_on_one_sqlite_file_is_refused(make_tw: Make) -> None:
    first = make_tw()
    first.start()
    second = make_tw()
    with pytest.raises(SchedulerAlreadyRunning, match="SQLite supports one scheduler node"):
        second.start()
    first.shutdown()
    second.start()  # once the first is gone, the lock is free
    assert second.running


def test_the_log_of_a_running_run_is_stored_as_it_grows(make_tw: Make, clock: FakeClock) -> None:
    tw = make_tw()
    tw.add_job("tests.engine.tasks:chatty", "* * * * *", id="c", owner="python")
    tw.start()
    clock.advance(60)
    wait_for(lambda: len(tasks.calls["chatty"]) == 1)
    run_id = tw.get_runs("c")[0].id
    wait_for(lambda: "working on chatty" in (tw.get_run(run_id).log or ""), what="live log")
    assert tw.get_run(run_id).status == "running"
    tasks.gates["chatty"].set()
    wait_for(finished(tw, 1))
    final = tw.get_run(run_id)
    assert final.status == "succeeded"
    assert final.log == "working on chatty\ndone\n"


def test_submitted_events_and_the_asyncio_entry_point(make_tw: Make, clock: FakeClock) -> None:
    import asyncio

    from tickwork import EVENT_JOB_SUBMITTED

    tw = make_tw()
    tw.add_job("tests.engine.tasks:ok", "* * * * *", id="s", owner="python")
    submitted: list[str] = []
    tw.add_listener(lambda e: submitted.append(e.job_id), EVENT_JOB_SUBMITTED)

    async def main() -> None:
        serving = asyncio.create_task(tw.run_async())
        while not tw.running:
            await asyncio.sleep(0.01)
        clock.advance(60)
        while not finished(tw, 1)():
            await asyncio.sleep(0.01)
        serving.cancel()
        with pytest.raises(asyncio.CancelledError):
            await serving

    asyncio.run(main())
    assert not tw.running  # cancelling the task shut the node down
    assert statuses(tw) == [(60, "succeeded", "schedule")]
    wait_for(lambda: submitted == ["s"])
