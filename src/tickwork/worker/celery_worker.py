"""The Celery side of ``tickwork worker``: Tickwork's task on Tickwork's app, started with
``celery worker`` on a thread pool, and the worker runtime stopped after Celery's own warm
shutdown (running runs may finish)."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import Any

from tickwork.executors.celery_app import TASK_NAME, close_app, make_app
from tickwork.worker.runtime import WorkerRuntime

log = logging.getLogger("tickwork.worker")
# Celery picks a pool class by alias; "custom" names the class in this variable, read when
# celery.concurrency is first imported (so it is set before that import).
os.environ["CELERY_CUSTOM_WORKER_POOL"] = "tickwork.worker.celery_worker:TaskPool"


from celery.concurrency.thread import TaskPool as ThreadTaskPool  # noqa: E402 (after the variable)


class TaskPool(ThreadTaskPool):  # type: ignore[misc]
    """Celery's thread pool, where a revoke with ``terminate`` reaches the run: Celery
    cannot kill a thread, so the worker's cancel poller cancels the revoked run in its
    executor (the thread pool itself would refuse the terminate with an error)."""

    def terminate_job(self, pid: int, signal: Any = None) -> None:
        """The run is cancelled by its id (WorkerRuntime), not by a process id."""


def run_worker(
    runtime: WorkerRuntime,
    broker: str,
    queues: Sequence[str],
    concurrency: int,
    loglevel: str = "INFO",
    extra: Sequence[str] = (),
) -> int:
    from celery.worker import state

    app = make_app(broker)
    app.conf.worker_redirect_stdouts = False  # runs' output is captured per run instead

    # shared=False: Celery would otherwise add this task to every app finalized later in
    # the process (a user's app of the celery kind among them)
    @app.task(  # type: ignore[untyped-decorator]
        name=TASK_NAME, ignore_result=True, acks_late=True, reject_on_worker_lost=True, shared=False
    )
    def run(run_id: int) -> str:
        return runtime.execute(int(run_id))

    runtime.revoked = lambda task_id: task_id in state.revoked
    runtime.start()
    argv = [
        "worker",
        "--queues",
        ",".join(queues),
        "--concurrency",
        str(concurrency),
        "--pool",
        "custom",
        "--hostname",
        f"tickwork-{runtime.node_id}@%h",
        "--without-gossip",
        "--without-mingle",
        "--loglevel",
        loglevel,
        *extra,
    ]
    status = 0
    try:
        app.worker_main(argv)
    except SystemExit as exc:  # celery's command line ends with sys.exit
        status = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        runtime.stop(wait=True)
        close_app(app)
    return status
