"""``tickwork import celery-beat pkg.module:celery_app [--dry-run]``: a Celery beat schedule
becomes Tickwork jobs (docs/celery.md). ``--skip-refused``, ``--replace`` and ``--prefix`` as
every importer has them (cli/imports.py), and the same bulk path."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace

from tickwork.jobspec import JobSpec


def celery_beat(args: argparse.Namespace) -> int:
    """The handler of ``tickwork import celery-beat`` (registered in ``cli/imports.py``)."""
    from tickwork.cli.common import open_client
    from tickwork.cli.imports import nothing_written, stored_ids, validate, write
    from tickwork.importers.celery_beat import plan
    from tickwork.targets.celery_task import load_app

    try:
        app = load_app(args.app)
    except Exception as exc:
        print(f"error: app: {args.app!r} cannot be loaded: {exc}", file=sys.stderr)
        return 2
    if not hasattr(app, "conf") or not hasattr(app.conf, "beat_schedule"):
        print(f"error: app: {args.app!r} is not a Celery app", file=sys.stderr)
        return 2
    planned, refused = plan(app, args.app)
    if args.prefix:  # as the other importers: the new jobs' ids start with it
        planned = [replace(p, job_id=f"{args.prefix}-{p.job_id}") for p in planned]
    tw = open_client(args)
    try:
        existing = stored_ids(tw)
        verb = "would" if args.dry_run else "will"
        for p in planned:
            action = "replace" if p.job_id in existing else "add"
            print(f"{verb} {action} job {p.job_id}: {p.describe} ({p.timezone})")
            for note in p.notes:
                print(f"  note: {note}")
        for r in refused:
            print(f"refused {r.entry}: {r.reason}")
        if args.dry_run:
            print(
                f"dry run: {len(planned)} job(s) planned, {len(refused)} refused; nothing changed"
            )
            return 0 if not refused else 1
        specs = [
            (p.entry, JobSpec(target=p.target, trigger=p.trigger, trigger_args=p.trigger_args,
                              id=p.job_id, name=p.entry, timezone=p.timezone))
            for p in planned
        ]  # fmt: skip
        valid, invalid = validate(tw, specs)
        for where, reason in invalid:
            print(f"refused {where}: {reason}")
        count = len(refused) + len(invalid)
        if count and not args.skip_refused:
            print(nothing_written(count, len(valid)), file=sys.stderr)
            return 1
        write(tw, valid, replace=args.replace, hint=", or --prefix for other ids")
        print(f"imported {len(valid)} job(s); {count} refused")
        return 0
    finally:
        tw.close()
