"""examples/task-tracker (seed 001) against this machine's PostgreSQL: the weekly reset of
periodic tasks, the 20/10/5 % deadline warnings with their 24-hour dedupe, the time progress,
the 90-day cleanup of closed tasks by the builtin cleanup_old_data, and 3 retries at least 5 s
apart (on an injected clock)."""

from __future__ import annotations

import itertools
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.examples.conftest import load
from tests.integrations.gunicorn import wait_for
from tickwork import Tickwork
from tickwork.clock import FakeClock

pytestmark = pytest.mark.postgres

FAILS_LEFT = {"flaky": 2}


def flaky() -> str:
    """Fails twice, then works (a job the retries carry through)."""
    if FAILS_LEFT["flaky"] > 0:
        FAILS_LEFT["flaky"] -= 1
        raise RuntimeError("database restarting")
    return "ok"


def attempts(tw: Tickwork, attempt: int) -> list[str]:
    return [r.status for r in tw.get_runs("flaky") if r.attempt == attempt]


def run(tw: Tickwork, sched: Any, job_id: str) -> dict[str, Any]:
    tw.clock.advance(1)  # type: ignore[attr-defined]  # each manual run at its own instant
    run_id = sched.run_job(job_id)
    wait_for(
        f"{job_id} {[(r.id, r.status, r.error) for r in tw.get_runs(job_id)]}",
        lambda: tw.get_run(run_id).status not in ("scheduled", "running"),
        15,
    )
    record = tw.get_run(run_id)
    assert record.status == "succeeded", record.error
    return json.loads(record.result or "null")  # type: ignore[no-any-return]


def test_task_tracker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, example_database: Any
) -> None:
    url = example_database("postgres").replace("postgresql://", "postgresql+psycopg://", 1)
    monkeypatch.setenv("APP_DATABASE_URL", url)
    monkeypatch.setenv("TICKWORK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TICKWORK_ELECTION_DIR", str(tmp_path / "host"))
    mod = load("task-tracker", "app")
    tracker = mod.tracker  # the module the app's jobs use
    clock = FakeClock(int(datetime(2026, 3, 4, 10, 0).timestamp()) * 1_000_000)
    tw = Tickwork(url, timezone="Asia/Shanghai", clock=clock, job_defaults=mod.JOB_DEFAULTS)
    app = mod.create_app(tw)
    sched = app.extensions["tickwork"]
    engine = sa.create_engine(url)
    try:
        jobs = {j.id: j for j in sched.get_jobs()}
        assert set(jobs) == {"reset_periodic_tasks", "check_task_warnings",
                             "update_time_progress", "cleanup_old_data"}  # fmt: skip
        for job in jobs.values():
            assert (job.record.retries, job.record.retry_backoff_s) == (3, 10)
        cleanup_next = jobs["cleanup_old_data"].next_run_time
        assert (cleanup_next.weekday(), cleanup_next.hour) == (6, 3)  # Sunday 03:00

        now = tracker.now()
        t = tracker.tasks
        h = timedelta(hours=1)

        def add(**values: Any) -> int:
            with engine.begin() as conn:
                return int(conn.execute(t.insert().values(title="t", current_handler_id=7,
                           **values).returning(t.c.id)).scalar_one())  # fmt: skip

        done_8d = add(category="periodic", status="completed", actual_end_time=now - 192 * h)
        done_2d = add(category="periodic", status="completed", actual_end_time=now - 48 * h)
        late_5 = add(status="processing", progress=50, expected_start_time=now - 96 * h,
                     expected_end_time=now + 4 * h)  # fmt: skip
        on_time = add(status="processing", progress=90, expected_start_time=now - 85 * h,
                      expected_end_time=now + 15 * h)  # fmt: skip
        late_20 = add(status="processing", progress=10, expected_start_time=now - 85 * h,
                      expected_end_time=now + 15 * h)  # fmt: skip
        old_closed = add(status="closed", closed_at=now - 100 * 24 * h)
        new_closed = add(status="closed", closed_at=now - 10 * 24 * h)
        with engine.begin() as conn:
            conn.execute(tracker.notifications.insert().values(
                type="x", title="x", content="x", task_id=old_closed, created_at=now))  # fmt: skip

        def status(task_id: int) -> str | None:
            with engine.connect() as conn:
                return conn.execute(sa.select(t.c.status).where(t.c.id == task_id)).scalar()

        # the weekly reset: only the task finished a week ago, its handler told
        assert run(tw, sched, "reset_periodic_tasks") == {"reset": 1}
        assert (status(done_8d), status(done_2d)) == ("new", "completed")
        told = app.test_client().get("/notifications").get_json()
        assert {"task_id": done_8d, "user_id": 7, "type": "task_reset"} in [
            {k: n[k] for k in ("task_id", "user_id", "type")} for n in told
        ]

        # warnings at 5 % and 20 % of the time left; not again within 24 hours
        first = run(tw, sched, "check_task_warnings")
        assert sorted((w["task_id"], w["level"]) for w in first["warnings"]) == [
            (late_5, 5), (late_20, 20)]  # fmt: skip
        assert run(tw, sched, "check_task_warnings")["warnings"] == []
        with engine.begin() as conn:  # a day later for one of them
            conn.execute(tracker.warnings_sent.update()
                         .where(tracker.warnings_sent.c.task_id == late_5)
                         .values(sent_at=now - 25 * h))  # fmt: skip
        again = run(tw, sched, "check_task_warnings")["warnings"]
        assert again == [{"task_id": late_5, "level": 5}]
        assert tracker.warning_level(91, 85) == 10

        # time progress of every task in progress
        assert run(tw, sched, "update_time_progress") == {"updated": 3}
        with engine.connect() as conn:
            pct = conn.execute(sa.select(t.c.time_progress).where(t.c.id == on_time)).scalar()
        assert pct in (85, 86)

        # 90-day cleanup: the task closed 100 days ago and its notification go
        report = run(tw, sched, "cleanup_old_data")
        assert report["metrics"]["rows_deleted"] == 1, report
        assert report["metrics"]["child_rows_deleted"] == 1
        assert (status(old_closed), status(new_closed)) == (None, "closed")
        with engine.connect() as conn:
            left = conn.execute(sa.select(sa.func.count()).where(
                tracker.notifications.c.task_id == old_closed)).scalar()  # fmt: skip
        assert left == 0

        # retries: 3 at most, each 5 to 10 s of the clock after the failure
        sched.add_job("flaky", f"{__name__}:flaky", trigger="date",
                      run_date="2099-01-01 00:00:00", **mod.RETRY)  # fmt: skip
        first_id = sched.run_job("flaky")
        for attempt in (1, 2):
            wait_for(f"attempt {attempt}", lambda a=attempt: attempts(tw, a) == ["failed"])
            clock.advance(10)
        wait_for("attempt 3", lambda: attempts(tw, 3) == ["succeeded"])
        runs = sorted(tw.get_runs("flaky"), key=lambda r: r.attempt)
        assert [r.attempt for r in runs] == [1, 2, 3]
        assert runs[0].id == first_id
        for before, after in itertools.pairwise(runs):
            assert before.finished_at is not None
            gap = (after.due_at - before.finished_at) / 1e6
            assert 5 <= gap <= 10
    finally:
        sched.shutdown()
        tw.close()
        engine.dispose()
        tracker.engine().dispose()
