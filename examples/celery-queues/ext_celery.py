"""The seed's Celery app and ``beat_schedule``, as Dify has it (``ext_celery.py``), kept so the
schedule moves over in one command:

    tickwork import celery-beat ext_celery:celery_app --dry-run

Each entry becomes a job of the ``celery`` kind that publishes the same task by name to this
app's broker (Dify's own workers keep running the task bodies). app.py shows the other way:
the work itself as Tickwork jobs on Tickwork's workers."""

from __future__ import annotations

import os

from celery.schedules import crontab

from celery import Celery

celery_app = Celery("dify", broker=os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/1"))
celery_app.conf.timezone = "Asia/Shanghai"
celery_app.conf.task_routes = {
    "schedule.clean_messages": {"queue": "dataset"},
    "schedule.clean_embedding_cache_task": {"queue": "dataset"},
    "schedule.clean_unused_datasets_task": {"queue": "dataset"},
    "schedule.check_upgradable_plugin_task": {"queue": "dataset"},
    "schedule.queue_monitor_task": {"queue": "monitor"},
}
celery_app.conf.beat_schedule = {
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
    },
    "clean-unused-datasets": {
        "task": "schedule.clean_unused_datasets_task",
        "schedule": crontab(hour=5, minute=0),
    },
}
