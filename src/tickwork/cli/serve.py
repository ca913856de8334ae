"""``tickwork serve``: run a node (the scheduler; the API and console join it later)."""

from __future__ import annotations

import argparse
import logging
import sys
from importlib import resources
from pathlib import Path
from typing import Any

from tickwork.cli.common import settings_from, store_options
from tickwork.engine.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_LOST,
    EVENT_JOB_MISSED,
    EVENT_JOB_SKIPPED,
)

log = logging.getLogger("tickwork.serve")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = sub.add_parser("serve", parents=[store_options()], help="run a scheduler node")
    serve.add_argument(
        "--jobs",
        action="append",
        default=[],
        metavar="FILE",
        help="a YAML/JSON job file to sync at start (repeatable; env TICKWORK_JOB_FILES)",
    )
    serve.add_argument("--demo", action="store_true", help="also load the demo jobs")
    serve.add_argument("--timezone", help="default zone of jobs (env TICKWORK_TIMEZONE)")
    serve.add_argument("--quiet", action="store_true", help="do not log every run")
    serve.set_defaults(handler=_serve)


def _serve(args: argparse.Namespace) -> int:
    from tickwork.service import Tickwork

    settings = settings_from(args).with_overrides(timezone=args.timezone)
    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
    files = [Path(p) for p in args.jobs]
    if args.demo:
        files.append(Path(str(resources.files("tickwork.demo") / "jobs.yaml")))
    tw = Tickwork(settings=settings, job_files=[str(f) for f in files])
    if not args.quiet:
        tw.add_listener(
            _log_run,
            EVENT_JOB_EXECUTED
            | EVENT_JOB_ERROR
            | EVENT_JOB_MISSED
            | EVENT_JOB_SKIPPED
            | EVENT_JOB_LOST,
        )
    log.info("database: %s", tw.store.db.display_url)
    tw.start()
    for job in tw.get_jobs():
        log.info("job %-20s %s; next run %s", job.id, job.trigger.describe("en"), job.next_run_time)
    log.info("serving; runs are listed by `tickwork runs list`; Ctrl+C stops")
    tw.run_forever()
    tw.close()
    return 0


def _log_run(event: Any) -> None:
    level = logging.INFO if event.status == "succeeded" else logging.WARNING
    detail = f": {event.error}" if event.error else ""
    log.log(level, "run %s of %s %s%s", event.run_id, event.job_id, event.status, detail)
