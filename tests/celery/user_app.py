"""A user's own Celery app, as seed 003 has one (tasks by name, a dataset queue): one with a
result backend (tracked outcomes) and one without. Broker and backend come from the
environment the test sets before anything imports this module."""

from __future__ import annotations

import os

from celery import Celery

BROKER = os.environ.get("CELERYTEST_BROKER", "amqp://guest:guest@127.0.0.1:5672//")
BACKEND = os.environ.get("CELERYTEST_BACKEND", "redis://127.0.0.1:6379/13")

tracked_app = Celery("celerytest_user", broker=BROKER, backend=BACKEND, set_as_current=False)
plain_app = Celery("celerytest_plain", broker=BROKER, set_as_current=False)
for app in (tracked_app, plain_app):
    app.conf.update(broker_connection_retry_on_startup=True, worker_hijack_root_logger=False)


@tracked_app.task(name="schedule.clean_messages", shared=False)
def clean_messages(days: int = 30) -> dict[str, int]:
    return {"cleaned": days * 2}


@tracked_app.task(name="schedule.broken", shared=False)
def broken() -> None:
    raise RuntimeError("the dataset is gone")
