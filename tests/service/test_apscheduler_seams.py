"""The APScheduler calls that used to stop a port: ``job.reschedule(minutes=10)`` on an
interval job (it keeps its trigger kind), ``reschedule_job(id, trigger='interval', ...)``, and
``Tickwork(jobstores=..., executors=..., job_defaults=...)`` with APScheduler's own objects and
dicts (what maps is taken, the rest refused saying what to do instead)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.engine.conftest import T0
from tests.service.seed_tasks import check_db_health, daily_cleanup_task
from tickwork import InvalidInput, Tickwork
from tickwork.clock import FakeClock
from tickwork.settings import Settings

Make = Callable[..., Tickwork]
START = datetime.fromtimestamp(T0 / 1e6, UTC)


def test_reschedule_with_keywords_keeps_the_interval_kind(make_tw: Make) -> None:
    tw = make_tw()
    tw.start()
    job = tw.add_job(check_db_health, "interval", hours=1, id="health")
    # APScheduler 3.11 would build a date trigger here and fail on "minutes"
    job.reschedule(minutes=10)
    assert job.trigger.to_spec()["kind"] == "interval"
    assert job.next_run_time == START + timedelta(minutes=10)
    stored = tw.get_job("health")
    assert stored is not None
    assert stored.trigger.to_spec()["kind"] == "interval"
    # APScheduler's explicit forms, unchanged
    tw.reschedule_job("health", trigger="interval", minutes=30)
    assert tw.get_job("health").next_run_time == START + timedelta(minutes=30)  # type: ignore[union-attr]
    job.reschedule("interval", seconds=45)
    assert job.next_run_time == START + timedelta(seconds=45)


def test_reschedule_with_keywords_keeps_cron_and_the_zone(make_tw: Make) -> None:
    tw = make_tw()
    tw.start()
    job = tw.add_job(daily_cleanup_task, "0 2 * * *", id="nightly", timezone="Asia/Shanghai")
    job.reschedule(hour=5, minute=30)
    assert job.trigger.to_spec()["kind"] == "cron"
    # T0 is 18:00 in Shanghai: the next 05:30 there is the next morning
    assert job.next_run_time is not None
    assert job.next_run_time.isoformat() == "2026-01-06T05:30:00+08:00"
    # without keywords and trigger: APScheduler's default, once now
    job.reschedule()
    assert job.trigger.to_spec()["kind"] == "date"


def make(tmp_path: Path, **options: Any) -> Tickwork:
    settings = Settings(data_dir=tmp_path, timezone="UTC")
    return Tickwork(settings=settings, clock=FakeClock(T0), **options)


def test_apscheduler_constructor_objects_map(tmp_path: Path) -> None:
    from apscheduler.executors.pool import ProcessPoolExecutor, ThreadPoolExecutor
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

    url = f"sqlite:///{tmp_path / 'ported.db'}"
    tw = make(
        tmp_path,
        jobstores={"default": SQLAlchemyJobStore(url=url)},
        executors={"default": ThreadPoolExecutor(20), "processpool": ProcessPoolExecutor(5)},
        job_defaults={"coalesce": False, "max_instances": 3, "misfire_grace_time": 30},
        timezone=START.tzinfo,
        daemon=True,
    )
    try:
        assert tw.store.db.sqlite_path == (tmp_path / "ported.db").resolve()
        assert tw.settings.threads == 20
        assert tw.settings.processes == 5
        assert tw.settings.timezone == "UTC"
        job = tw.add_job(
            "tests.service.seed_tasks:check_db_health", "interval", minutes=3, id="h",
            executor="processpool",
        )  # fmt: skip
        assert job.executor == "process"
        assert job.max_instances == 3
        assert job.misfire_grace_time == 30
        assert job.coalesce is False
        plain = tw.add_job("tests.service.seed_tasks:check_db_health", "interval", minutes=3)
        assert plain.executor == "thread"
    finally:
        tw.close()


def test_apscheduler_constructor_dicts_map(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'dicts.db'}"
    tw = make(
        tmp_path,
        jobstores={"default": {"type": "sqlalchemy", "url": url}},
        executors={
            "default": {"type": "processpool", "max_workers": 3},
            "threads": {
                "class": "apscheduler.executors.pool:ThreadPoolExecutor",
                "max_workers": 12,
            },
        },
    )
    try:
        assert tw.store.db.sqlite_path == (tmp_path / "dicts.db").resolve()
        assert (tw.settings.threads, tw.settings.processes) == (12, 3)
        # the "default" alias is a process pool: jobs without an executor use it
        job = tw.add_job("tests.service.seed_tasks:check_db_health", "interval", minutes=3)
        assert job.executor == "process"
        assert (
            tw.add_job(
                "tests.service.seed_tasks:check_db_health",
                "interval",
                minutes=3,
                executor="threads",
            ).executor
            == "thread"
        )
    finally:
        tw.close()


@pytest.mark.parametrize(
    ("options", "field", "says"),
    [
        ({"jobstores": {"default": {"type": "memory"}}}, "jobstores.default", "no in-memory"),
        ({"jobstores": {"default": {"type": "mongodb"}}}, "jobstores.default", "one SQL database"),
        (
            {
                "jobstores": {
                    "a": {"type": "sqlalchemy", "url": "sqlite:///a.db"},
                    "b": {"type": "memory"},
                }
            },
            "jobstores",
            "give one",
        ),
        (
            {"executors": {"default": {"type": "gevent"}}},
            "executors.default",
            "ThreadPoolExecutor(n)",
        ),
        (
            {"executors": {"default": {"type": "threadpool", "max_workers": 0}}},
            "executors.default.max_workers",
            ">= 1",
        ),
        ({"job_defaults": {"retries": 3}}, "job_defaults.retries", "add_job"),
        ({"daemon": False}, "daemon", "run_forever"),
        ({"logger": object()}, "logger", "logging.getLogger('tickwork')"),
        ({"gconfig": {}}, "gconfig", "keyword arguments"),
    ],
)
def test_what_does_not_map_is_refused_saying_what_to_do(
    tmp_path: Path, options: dict[str, Any], field: str, says: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        make(tmp_path, **options)
    assert caught.value.field == field
    assert says in caught.value.reason


def test_apscheduler_memory_store_object_is_refused(tmp_path: Path) -> None:
    from apscheduler.jobstores.memory import MemoryJobStore

    with pytest.raises(InvalidInput, match="no in-memory job store"):
        make(tmp_path, jobstores={"default": MemoryJobStore()})


def test_a_store_and_another_database_url_conflict(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="another database"):
        Tickwork(
            f"sqlite:///{tmp_path / 'a.db'}",
            settings=Settings(data_dir=tmp_path),
            jobstores={"default": {"type": "sqlalchemy", "url": f"sqlite:///{tmp_path / 'b.db'}"}},
        )
