"""``tickwork worker``: a Celery worker that runs the runs of jobs with a queue."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from tickwork.cli.common import put_on_import_path, settings_from, store_options


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    worker = sub.add_parser(
        "worker",
        parents=[store_options()],
        help="run a Celery worker for the runs of jobs with a queue (docs/celery.md)",
        description="A thin wrapper over `celery worker` with Tickwork's Celery app. The "
        "broker is TICKWORK_CELERY_BROKER_URL (amqp://... or redis://...); the worker writes "
        "each run's outcome, log and result into the database itself.",
    )
    worker.add_argument("-Q", "--queues", required=True, help="comma-separated queues to consume")
    worker.add_argument("-c", "--concurrency", type=int, default=4, help="runs at once (default 4)")
    worker.add_argument(
        "--heartbeat", type=float, default=5.0, help="seconds between heartbeats (default 5)"
    )
    worker.add_argument(
        "--shutdown-wait",
        type=float,
        default=30.0,
        help="seconds running runs may finish at a warm shutdown (default 30)",
    )
    worker.add_argument(
        "--app-dir",
        type=Path,
        action="append",
        default=[],
        metavar="DIR",
        help="a folder to import job modules from (repeatable)",
    )
    worker.add_argument("--loglevel", default=None, help="Celery's log level (default: INFO)")
    worker.set_defaults(handler=_worker)


def _worker(args: argparse.Namespace) -> int:
    from tickwork.executors.celery_app import BROKER_ENV, broker_from_env, display_broker

    broker = broker_from_env()
    if broker is None:
        print(f"error: set {BROKER_ENV} to the broker (amqp://... or redis://...)", file=sys.stderr)
        return 2
    queues = [q.strip() for q in args.queues.split(",") if q.strip()]
    if not queues:
        print("error: --queues: name at least one queue", file=sys.stderr)
        return 2
    if args.concurrency < 1:
        print("error: --concurrency: must be at least 1", file=sys.stderr)
        return 2
    settings = settings_from(args)
    level = (args.loglevel or settings.log_level).upper()
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    from tickwork.executors.capture import MaskRunSecrets

    for handler in logging.getLogger().handlers:  # runs' secrets stay out of the worker log
        handler.addFilter(MaskRunSecrets())
    put_on_import_path(*args.app_dir, Path.cwd())
    from tickwork import Tickwork
    from tickwork.targets.prepare import Preparer, RunSettings
    from tickwork.worker.celery_worker import run_worker
    from tickwork.worker.runtime import WorkerRuntime

    tw = Tickwork(settings=settings)
    tw._load_keys()  # the keys that open job secrets and connections, before any run
    runtime = WorkerRuntime(
        tw.store,
        tw.clock,
        Preparer(tw.store, RunSettings.of(tw.settings)),
        queues=queues,
        concurrency=args.concurrency,
        broker=display_broker(broker),
        heartbeat_s=args.heartbeat,
        shutdown_wait_s=args.shutdown_wait,
    )
    # Runs ended on a worker raise alerts and move workflows on like runs ended on a node:
    # the same hooks, in the transaction that records the outcome.
    runtime.writer.hooks = tw.run_hooks
    try:
        return run_worker(runtime, broker, queues, args.concurrency, level)
    finally:
        tw.close()
