"""The seed documents' APScheduler calls, run against the Tickwork facade unchanged."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.engine.conftest import SEC, T0
from tests.service import seed_tasks
from tests.service.seed_tasks import SchedulerService, daily_cleanup_task, health_check_task
from tickwork import Conflict, InvalidInput, NotFound, Tickwork, TriggerError
from tickwork.triggers import from_keywords

Make = Callable[..., Tickwork]
SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_seed_001_init_scheduler(make_tw: Make) -> None:
    """001: add_job(func=..., trigger='cron', hour=2, minute=0, id=..., replace_existing=True)."""
    scheduler = make_tw(timezone="Asia/Shanghai")
    scheduler.add_job(
        func=SchedulerService.reset_periodic_tasks,
        trigger="cron",
        hour=2,
        minute=0,
        id="reset_periodic_tasks",
        replace_existing=True,
    )
    scheduler.add_job(
        func=SchedulerService.check_task_warnings,
        trigger="interval",
        hours=1,
        id="check_task_warnings",
        replace_existing=True,
    )
    scheduler.add_job(
        func=daily_cleanup_task,
        trigger="cron",
        day_of_week="sun",
        hour=3,
        minute=0,
        id="cleanup_old_data",
        replace_existing=True,
    )
    scheduler.start()
    jobs = {j.id: j for j in scheduler.get_jobs()}
    assert set(jobs) == {"reset_periodic_tasks", "check_task_warnings", "cleanup_old_data"}
    # T0 is Monday 2026-01-05 18:00 in Shanghai
    assert jobs["reset_periodic_tasks"].next_run_time == datetime(2026, 1, 6, 2, tzinfo=SHANGHAI)
    assert jobs["cleanup_old_data"].next_run_time == datetime(2026, 1, 11, 3, tzinfo=SHANGHAI)
    assert jobs["check_task_warnings"].next_run_time == datetime(2026, 1, 5, 19, tzinfo=SHANGHAI)
    assert jobs["reset_periodic_tasks"].func is SchedulerService.reset_periodic_tasks
    # 001's monitoring API reads id, name, next_run_time and str(trigger)
    assert jobs["reset_periodic_tasks"].name == "SchedulerService.reset_periodic_tasks"
    assert "02:00" in str(jobs["reset_periodic_tasks"].trigger.describe("en"))
    # ... and str(trigger) is APScheduler's own form
    assert str(jobs["reset_periodic_tasks"].trigger) == "cron[hour='2', minute='0']"
    assert str(jobs["cleanup_old_data"].trigger) == "cron[day_of_week='sun', hour='3', minute='0']"
    assert str(jobs["check_task_warnings"].trigger) == "interval[1:00:00]"
    # replace_existing=True at the next start changes nothing and duplicates nothing
    again = make_tw(timezone="Asia/Shanghai")
    again.add_job(
        func=SchedulerService.reset_periodic_tasks,
        trigger="cron",
        hour=2,
        minute=0,
        id="reset_periodic_tasks",
        replace_existing=True,
    )
    assert len(again.get_jobs()) == 3


def test_seed_002_registry_and_controller(make_tw: Make) -> None:
    """002: six-field cron strings split into keywords, interval, date, job.pause/resume/remove."""
    scheduler = make_tw(timezone="Asia/Shanghai")
    scheduler.start()
    second, minute, hour, day, month, day_of_week = ["0", "0", "9", "*", "*", "1"]
    job = scheduler.add_job(
        daily_cleanup_task,
        trigger="cron",
        id="weekly",
        second=second,
        minute=minute,
        hour=hour,
        day=day,
        month=month,
        day_of_week=day_of_week,
    )
    # APScheduler's keyword day_of_week=1 is Tuesday (0 = Monday): kept exactly
    assert job.next_run_time == datetime(2026, 1, 6, 9, tzinfo=SHANGHAI)
    # ... while the same six fields as one cron string use cron numbering: 1 = Monday
    as_string = scheduler.add_job(daily_cleanup_task, "0 0 9 * * 1", id="weekly-cron")
    assert as_string.next_run_time == datetime(2026, 1, 12, 9, tzinfo=SHANGHAI)
    assert (
        scheduler.add_job(health_check_task, "interval", minutes=30, id="health").executor
        == "asyncio"
    )
    year_end = scheduler.add_job(
        seed_tasks.year_end_task, "date", run_date=datetime(2026, 12, 31, 23, 59, 59), id="year_end"
    )
    assert year_end.next_run_time == datetime(2026, 12, 31, 23, 59, 59, tzinfo=SHANGHAI)
    # TaskController: job.pause(), job.resume(), job.reschedule(...), job.remove()
    found = scheduler.get_job("weekly")
    assert found is not None
    assert found.pause().next_run_time is None
    assert found.paused
    assert found.resume().next_run_time is not None
    found.reschedule("interval", minutes=10)
    assert scheduler.get_job("weekly").trigger.to_spec()["minutes"] == 10  # type: ignore[union-attr]
    found.remove()
    assert scheduler.get_job("weekly") is None
    # get_task_status() reads these attributes
    status = scheduler.get_job("health")
    assert status is not None
    assert (status.id, status.args, status.kwargs, status.func.__name__) == (
        "health",
        (),
        {},
        "health_check_task",
    )


def test_seed_004_cron_trigger_objects_and_defaults(make_tw: Make) -> None:
    """004: CronTrigger(**trigger_params) objects, misfire_grace_time and max_instances."""
    scheduler = make_tw(
        timezone="Asia/Shanghai",
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
    )
    trigger = from_keywords("cron", hour=1, minute=0, timezone="Asia/Shanghai")
    job = scheduler.add_job(
        func=seed_tasks.sync_accounts,
        trigger=trigger,
        id="sync_accounts",
        name="账户同步",
        misfire_grace_time=300,
        max_instances=1,
    )
    assert (job.name, job.misfire_grace_time, job.max_instances, job.coalesce) == (
        "账户同步",
        300,
        1,
        True,
    )
    assert job.next_run_time == datetime(2026, 1, 6, 1, tzinfo=SHANGHAI)
    plain = scheduler.add_job(
        "tests.service.seed_tasks:check_db_health", "interval", minutes=3, id="db_health_check"
    )
    assert plain.misfire_grace_time == 300  # from job_defaults
    with pytest.raises(Conflict, match="already declared"):
        scheduler.add_job(func=seed_tasks.sync_accounts, trigger=trigger, id="sync_accounts")


def test_modify_job_next_run_time_and_apscheduler_errors(make_tw: Make) -> None:
    """001's run_job_now: job.modify(next_run_time=now)."""
    scheduler = make_tw()
    scheduler.start()
    job = scheduler.add_job(daily_cleanup_task, "cron", hour=2, id="c")
    now = datetime.fromtimestamp(T0 / SEC, ZoneInfo("UTC"))
    job.modify(next_run_time=now + timedelta(seconds=5))
    assert scheduler.get_job("c").record.next_fire_at == T0 + 5 * SEC  # type: ignore[union-attr]
    with pytest.raises(NotFound):
        scheduler.pause_job("nope")
    with pytest.raises(TriggerError, match=r"trigger\.hour"):
        scheduler.add_job(daily_cleanup_task, "cron", hour=25, id="bad")
    with pytest.raises(InvalidInput, match=r"func: .*lambda"):
        scheduler.add_job(lambda: None, "interval", seconds=5)
    with pytest.raises(InvalidInput, match="target: module 'no_such_module' not found"):
        scheduler.add_job("no_such_module:f", "interval", seconds=5)
    with pytest.raises(Conflict, match="id: a job with id 'c' already exists"):
        scheduler.add_job(daily_cleanup_task, "cron", hour=3, id="c")
    assert scheduler.get_job("bad") is None  # nothing half-written


def test_the_decorator_declares_module_level_functions_and_refuses_nested_ones(
    make_tw: Make,
) -> None:
    tw = make_tw()
    assert tw.job("cron", hour=2, id="nightly")(daily_cleanup_task) is daily_cleanup_task
    assert tw.get_job("nightly").pending  # type: ignore[union-attr]
    with pytest.raises(InvalidInput, match="not importable"):

        @tw.scheduled_job("cron", hour=2, id="nested")
        def nested() -> None:  # pragma: no cover - never registered
            pass


def test_declarative_sync_creates_updates_and_removes_only_its_own(make_tw: Make) -> None:
    first = make_tw()
    first.add_job(daily_cleanup_task, "cron", hour=2, id="a")
    first.add_job(daily_cleanup_task, "cron", hour=3, id="b")
    assert first.get_job("a").pending  # type: ignore[union-attr]
    first.start()
    first.add_job(daily_cleanup_task, "interval", minutes=5, id="dynamic")  # added at run time
    first.shutdown()
    second = make_tw()
    second.add_job(daily_cleanup_task, "cron", hour=4, id="a")  # changed
    second.start()
    ids = {j.id: j for j in second.get_jobs()}
    assert set(ids) == {"a", "dynamic"}  # b was dropped from code; dynamic is not code-owned
    assert ids["a"].trigger.to_spec()["fields"]["hour"] == "4"
    assert ids["dynamic"].record.owner == "python"


def test_an_unchanged_interval_keeps_its_schedule_across_restarts(
    make_tw: Make, clock: object
) -> None:
    first = make_tw()
    first.add_job(daily_cleanup_task, "interval", minutes=30, id="i")
    first.start()
    scheduled = first.get_job("i").record.next_fire_at  # type: ignore[union-attr]
    first.shutdown()
    clock.advance(600)  # type: ignore[attr-defined]
    second = make_tw()
    second.add_job(daily_cleanup_task, "interval", minutes=30, id="i")
    second.start()
    assert second.get_job("i").record.next_fire_at == scheduled  # type: ignore[union-attr]
