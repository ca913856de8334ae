"""The engine end to end with a FakeClock, on SQLite, PostgreSQL and MariaDB: what runs, what
is recorded, and how."""

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
from tickwork.engine.trigger_cache import trigger_of
from tickwork.store.runs import NewRun

MIN = 60 * SEC
pytestmark = pytest.mark.usefixtures("backend")  # every test on every database
Make = Callable[..., Tickwork]


def statuses(tw: Tickwork, job_id: str | None = None) -> list[tuple[int, str, str]]:
    """(scheduled_for offset from T0 in s, status, reason), oldest first; a record that
    counts several fires says how many ("missed x4")."""
    runs = tw.get_runs(job_id, limit=10_000)
    return sorted(
        (
            (r.scheduled_for - T0) // SEC,
            r.status if r.fires == 1 else f"{r.status} x{r.fires}",
            r.reason,
        )
        for r in runs
    )


def accounted(tw: Tickwork, job_id: str) -> list[int]:
    """Every fire instant the job's records account for (a counted missed record for each
    of its fires, walked on the job's trigger), sorted."""
    trigger = trigger_of(tw.get_job(job_id).record.trigger)  # type: ignore[union-attr]
    out: list[int] = []
    for r in tw.get_runs(job_id, limit=10_000):
        fire: int | None = r.scheduled_for
        for _ in range(r.fires):
            assert fire is not None
            out.append(fire)
            fire = trigger.next_fire_us(fire)
        assert r.fires == 1 or out[-1] == r.last_scheduled_for
    return sorted(out)


def settled(tw: Tickwork, job_id: str, now: int) -> bool:
    """Every fire of the job due by ``now`` is accounted for, and those records are
    finished."""
    trigger = trigger_of(tw.get_job(job_id).record.trigger)  # type: ignore[union-attr]
    due: list[int] = []
    fire = trigger.next_fire_us(T0)  # the jobs were added at T0: their fires come after
    while fire is not None and fire <= now:
        due.append(fire)
        fire = trigger.next_fire_us(fire)
    runs = [r for r in tw.get_runs(job_id, limit=10_000) if r.scheduled_for <= now]
    done = all(r.status not in ("scheduled", "running") for r in runs)
    return done and [f for f in accounted(tw, job_id) if f <= now] == due


def watched(tw: Tickwork, clock: FakeClock, seconds: int) -> None:
    """Move the clock in heartbeat steps, each one seen by a pass of the node's watchman."""
    watchman = tw.node.watchman  # type: ignore[union-attr]
    wait_for(lambda: watchman.passes >= 1, what="the first heartbeat pass")
    for _ in range(seconds // 5):
        done = watchman.passes
        clock.advance(5)
        wait_for(lambda done=done: watchman.passes > done, what="a heartbeat pass")  # type: ignore[misc]


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
    wait_for(finished(tw, 2), what="2 records")
    # four fires missed, counted in one record (first 10:01, last 10:04); the latest runs
    assert statuses(tw) == [(60, "missed x4", "schedule"), (300, "succeeded", "catch-up")]
    missed = tw.get_runs(status="missed")[0]
    assert missed.last_scheduled_for == T0 + 240 * SEC
    assert accounted(tw, "j") == [T0 + 60 * i * SEC for i in range(1, 6)]
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
        now = clock.now_us()
        # every fire due so far is recorded and finished before the clock moves again
        wait_for(
            lambda now=now: settled(tw, "seven", now) and settled(tw, "eleven", now),  # type: ignore[misc]
            what=f"fires up to {now} settled",
        )
    tw.shutdown()
    clock.advance(100)
    tw2 = make_tw()
    tw2.start()
    clock.advance(50)
    end = clock.now_us()
    seven = [t for t in range(T0, end + 1, SEC) if (t - T0) // SEC % 60 % 7 == 0 and t > T0]
    eleven = list(range(T0 + 3 * SEC, end + 1, 11 * SEC))
    wait_for(
        lambda: accounted(tw2, "seven") == seven and accounted(tw2, "eleven") == eleven,
        what="all fires accounted for",
    )
    wait_for(finished(tw2, len(tw2.get_runs(limit=10_000))), what="every record finished")
    for job_id, due in (("seven", seven), ("eleven", eleven)):
        assert accounted(tw2, job_id) == due  # each fire exactly once
        assert any(r.fires > 1 for r in tw2.get_runs(job_id, status="missed"))


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
    # The target blocks on a gate the test never opens (for up to 60 s): only the job's
    # 0.2 s timeout, measured in real time by the executor, can end it.
    tw = make_tw()
    tw.add_job(
        "tests.engine.tasks:block", "* * * * *", id="s", kwargs={"timeout": 60.0},
        timeout=0.2, owner="python",
    )  # fmt: skip
    errors: list[str] = []
    tw.add_listener(lambda e: errors.append(e.status), EVENT_JOB_ERROR)
    tw.start()
    step(clock, tw, 60, 1)
    run = tw.get_runs()[0]
    assert run.status == "timed_out"
    assert run.error is not None
    assert "0.2 s" in run.error
    assert not tasks.gates["block"].is_set()  # it ended while the target was still blocked
    assert len(tasks.calls["block"]) == 1
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
    wait_for(finished(tw, 2))
    assert statuses(tw) == [(60, "missed x2", "schedule"), (180, "succeeded", "catch-up")]


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


def test_a_dead_nodes_started_runs_end_lost_and_its_claims_are_handed_over(
    make_tw: Make, clock: FakeClock
) -> None:
    tw = make_tw()
    tw.add_job(
        "tests.engine.tasks:ok", "@yearly", id="r", retries=1, retry_backoff=1, owner="python"
    )
    tw.add_job("tests.engine.tasks:ok", "@yearly", id="claimed", kwargs={"tag": "c"})
    lost_events: list[tuple[int, int, bool]] = []
    tw.add_listener(lambda e: lost_events.append((e.run_id, e.attempt, e.final)), EVENT_JOB_LOST)
    # A node that died a minute ago with one run started (its start recorded) and one
    # claimed for later, never started.
    with tw.store.db.write() as conn:
        tw.store.nodes.register(conn, "ghost", "scheduler", T0 - 60 * SEC)
        started, claimed = tw.store.runs.insert_many(
            conn,
            [
                NewRun(
                    job_id="r",
                    scheduled_for=T0 - 30 * SEC,
                    due_at=T0 - 30 * SEC,
                    reason="schedule",
                    status="scheduled",
                    node_id="ghost",
                ),
                NewRun(
                    job_id="claimed",
                    scheduled_for=T0 + 500_000,
                    due_at=T0 + 500_000,
                    reason="schedule",
                    status="scheduled",
                    node_id="ghost",
                ),
            ],
            T0,
        )
        assert started is not None
        assert claimed is not None
        assert tw.store.runs.start(conn, "ghost", [(started, T0 - 30 * SEC)]) == {started}
    tw.start()
    # The new node judges the ghost only after watching it stay silent for the whole bound
    # (20 s) itself; on SQLite the new scheduler on the file settles the old one at once.
    watched(tw, clock, 25)
    wait_for(lambda: tw.get_run(started).status == "lost", what="the ghost's started run lost")
    clock.advance(2)
    wait_for(finished(tw, 3))
    runs = sorted(tw.get_runs("r"), key=lambda r: r.attempt)
    assert [(r.status, r.reason, r.attempt) for r in runs] == [
        ("lost", "schedule", 1),
        ("succeeded", "retry", 2),
    ]
    assert runs[0].id == started
    assert runs[1].retry_of == started
    assert runs[0].error is not None
    assert runs[0].error in (
        "lost: node ghost stopped sending heartbeats",  # declared dead by this node
        # SQLite: the new scheduler on the file knows the old one is gone
        "lost: node ghost replaced: a new scheduler started on this file with the run unfinished",
    )
    # the claim that never started was no loss: another node ran it, in the same record
    handed = tw.get_run(claimed)
    assert (handed.status, handed.reason, handed.attempt) == ("succeeded", "schedule", 1)
    assert handed.node_id == tw.node.node_id  # type: ignore[union-attr]
    assert len(tasks.calls["c"]) == 1
    wait_for(lambda: lost_events == [(started, 1, False)])


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


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({}, ("succeeded", "catch-up", 1)),  # run_once (the default): it runs at once
        ({"misfire_policy": "skip"}, ("missed", "schedule", 0)),
        ({"misfire_grace_time": 60}, ("missed", "schedule", 0)),  # 5 minutes late > 60 s
        ({"misfire_grace_time": 600}, ("succeeded", "catch-up", 1)),
    ],
)
def test_a_one_off_job_created_after_its_time_is_owed_its_fire(
    make_tw: Make, clock: FakeClock, options: dict[str, object], expected: tuple[str, str, int]
) -> None:
    tw = make_tw()
    tw.start()
    past = "2026-01-05 09:55:00"  # five minutes before the clock's now
    job = tw.add_job("tests.engine.tasks:ok", "date", run_date=past, id="late", **options)
    assert job.record.next_fire_at == T0 - 5 * MIN  # not "completed" with nothing recorded
    wait_for(finished(tw, 1), what="the late fire recorded")
    (run,) = tw.get_runs("late")
    assert (run.status, run.reason, len(tasks.calls["ok"])) == expected
    assert run.scheduled_for == T0 - 5 * MIN
    assert tw.get_job("late").next_run_time is None  # type: ignore[union-attr]


def test_runs_a_stopped_node_left_unfinished_are_settled(make_tw: Make, clock: FakeClock) -> None:
    """A node that stopped while the database could not take its outcomes leaves runs
    `running` and claims `scheduled`: the reaper covers stopped nodes too."""
    tw = make_tw()
    tw.add_job("tests.engine.tasks:ok", "@yearly", id="left", kwargs={"tag": "left"})
    with tw.store.db.write() as conn:
        tw.store.nodes.register(conn, "stopped-one", "scheduler", T0 - 10 * SEC)
        running, claimed = tw.store.runs.insert_many(
            conn,
            [
                NewRun(
                    job_id="left",
                    scheduled_for=T0 - 9 * SEC,
                    due_at=T0 - 9 * SEC,
                    reason="schedule",
                    status="scheduled",
                    node_id="stopped-one",
                ),
                NewRun(
                    job_id="left",
                    scheduled_for=T0 + 300_000,
                    due_at=T0 + 300_000,
                    reason="schedule",
                    status="scheduled",
                    node_id="stopped-one",
                ),
            ],
            T0,
        )
        tw.store.runs.start(conn, "stopped-one", [(running, T0 - 9 * SEC)])  # type: ignore[list-item]
        tw.store.nodes.stop(conn, "stopped-one", T0 - 5 * SEC, "shutdown")
    tw.start()
    clock.advance(1)
    wait_for(finished(tw, 2), what="both settled")
    assert tw.get_run(running).status == "lost"  # type: ignore[arg-type]
    assert "stopped-one shutdown with the run unfinished" in (tw.get_run(running).error or "")  # type: ignore[arg-type]
    assert tw.get_run(claimed).status == "succeeded"  # type: ignore[arg-type]
    assert len(tasks.calls["left"]) == 1


def test_a_long_downtime_is_one_counted_record_and_one_log_line(
    make_tw: Make, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    tw = make_tw()
    tw.add_job("tests.engine.tasks:ok", "*/5 * * * * *", id="five", owner="python")
    clock.advance(13 * 60 + 2)  # down for 13 minutes: 156 fires of a 5-second job, all late
    caplog.set_level("WARNING", logger="tickwork")
    tw.start()
    wait_for(finished(tw, 2), what="the downtime's records")
    assert statuses(tw) == [(5, "missed x155", "schedule"), (780, "succeeded", "catch-up")]
    assert accounted(tw, "five") == [T0 + 5 * SEC * i for i in range(1, 157)]
    about = [r for r in caplog.records if r.name.startswith("tickwork") and "five" in r.message]
    assert len(about) == 1, [r.message for r in about]
    assert "missed 155 fire(s)" in about[0].message


def test_run_hooks_see_every_end_inside_the_recording_transaction(
    make_tw: Make, clock: FakeClock
) -> None:
    tw = make_tw()
    seen: list[tuple[str, str, int, bool, int]] = []
    failures = {"left": 1}

    def hook(conn: object, ended: object) -> None:
        for e in ended:  # type: ignore[attr-defined]
            seen.append((e.job_id, e.status, e.attempt, e.final, e.fires))
        if failures["left"]:  # the first call fails: the outcome must roll back with it
            failures["left"] -= 1
            raise RuntimeError("hook failed once")

    tw.run_hooks.add(hook)
    tw.add_job("tests.engine.tasks:ok", "* * * * *", id="ok", owner="python")
    tw.add_job("tests.engine.tasks:fail", "* * * * *", id="bad", retries=1, retry_backoff=1,
               owner="python")  # fmt: skip
    tw.start()
    step(clock, tw, 60, 2)
    clock.advance(2)  # the failed run's retry
    wait_for(finished(tw, 3))
    wait_for(lambda: ("bad", "failed", 2, True, 1) in seen, what="the last attempt's end")
    assert ("ok", "succeeded", 1, True, 1) in seen
    assert ("bad", "failed", 1, False, 1) in seen  # a retry follows: not final
    # the hook's failure rolled the first write back; the writer wrote it again
    assert seen.count(seen[0]) == 2
    tw.shutdown()
    clock.advance(300)  # a downtime: the missed fires reach the hooks as one counted record
    again = make_tw()
    again.run_hooks.add(hook)
    again.start()
    wait_for(lambda: any(s[1] == "missed" for s in seen), what="the missed record")
    assert ("ok", "missed", 1, True, 4) in seen


def test_the_asyncio_entry_point_shuts_down_when_cancelled_during_start(
    make_tw: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cancel that arrives while start() is still finishing (its later steps: workflow
    ticker, alert sweeper, built-in jobs) still shuts the node down."""
    import asyncio
    import threading

    tw = make_tw()
    real_start = tw.start
    release = threading.Event()

    def slow_start() -> None:
        real_start()
        release.wait(5)  # start() is "still under way" until the task has been cancelled

    monkeypatch.setattr(tw, "start", slow_start)

    async def main() -> None:
        serving = asyncio.create_task(tw.run_async())
        while not tw.running:
            await asyncio.sleep(0.01)
        serving.cancel()
        await asyncio.sleep(0.05)
        release.set()
        with pytest.raises(asyncio.CancelledError):
            await serving

    asyncio.run(main())
    assert not tw.running
