"""The plain-Celery side of the celery benchmark: a no-op task on an app with a result
backend (what a team without Tickwork runs), and the no-op Tickwork runs' body."""

from __future__ import annotations

import os
import time
from typing import Any

from celery import Celery


def make_app(broker: str, backend: str) -> Celery:
    app = Celery("celerytest_bench", broker=broker, backend=backend, set_as_current=False)
    app.conf.update(
        broker_connection_retry_on_startup=True,
        worker_prefetch_multiplier=1,
        task_acks_late=True,
        worker_hijack_root_logger=False,
    )

    @app.task(name="bench.noop", shared=False)  # type: ignore[untyped-decorator]
    def noop(sent_at: float) -> float:
        """Returns how long after its publish it started (the added latency)."""
        return time.time() - sent_at

    return app


# The worker's app (`celery -A bench.celery_tasks:app worker`), from its environment.
app: Any = make_app(
    os.environ.get("BENCH_BROKER", "amqp://guest:guest@127.0.0.1:5672//"),
    os.environ.get("BENCH_BACKEND", "redis://127.0.0.1:6379/13"),
)


def tickwork_noop() -> None:
    """The Tickwork run's body: nothing."""
