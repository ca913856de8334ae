"""Celery apps with beat schedules, for the importer's tests: seed 003's five entries (Dify's
``ext_celery.py``), and one with what cannot move (a solar schedule, both day fields)."""

from __future__ import annotations

from datetime import timedelta

from celery.schedules import crontab, solar

from celery import Celery

dify = Celery("celerytest_dify", broker="memory://", set_as_current=False)
dify.conf.timezone = "Asia/Shanghai"


@dify.task(name="schedule.clean_messages", queue="dataset", shared=False)
def clean_messages() -> None: ...


@dify.task(name="schedule.clean_embedding_cache_task", queue="dataset", shared=False)
def clean_embedding_cache_task() -> None: ...


@dify.task(name="schedule.queue_monitor_task", queue="monitor", shared=False)
def queue_monitor_task() -> None: ...


dify.conf.beat_schedule = {
    "clean-expired-messages": {
        "task": "schedule.clean_messages",
        "schedule": crontab(hour=2, minute=0),
    },
    "clean-embedding-cache": {
        "task": "schedule.clean_embedding_cache_task",
        "schedule": crontab(hour=3, minute=0),
    },
    "queue-monitor": {
        "task": "schedule.queue_monitor_task",
        "schedule": crontab(minute="*/5"),
    },
    "check-upgradable-plugins": {
        "task": "schedule.check_upgradable_plugin_task",
        "schedule": crontab(hour=4, minute=0),
        "options": {"queue": "plugin", "priority": 5},
    },
    "clean-unused-datasets": {
        "task": "schedule.clean_unused_datasets_task",
        "schedule": timedelta(hours=6),
        "args": [30],
        "kwargs": {"dry": False},
    },
}


def sunrise_in_shanghai() -> solar:
    """A solar schedule as beat holds one. Building it for real needs ephem (celery[solar]),
    which these tests do not install: the importer refuses it by its type alone."""
    s = solar.__new__(solar)
    s.event, s.lat, s.lon = "sunrise", 31.23, 121.47
    return s


odd = Celery("celerytest_odd", broker="memory://", set_as_current=False)
odd.conf.beat_schedule = {
    "at-dawn": {"task": "x.dawn", "schedule": sunrise_in_shanghai()},
    "first-monday": {
        "task": "x.report",
        "schedule": crontab(0, 9, day_of_month="1-7", day_of_week="mon"),
    },
    "every-30s": {"task": "x.ping", "schedule": 30.0},
}
