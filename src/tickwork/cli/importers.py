"""``tickwork import celery-beat pkg.module:celery_app [--dry-run]``: a Celery beat schedule
becomes Tickwork jobs (docs/celery.md)."""

from __future__ import annotations

import argparse
import sys


def celery_beat(args: argparse.Namespace) -> int:
    """The handler of ``tickwork import celery-beat`` (registered in ``cli/imports.py``)."""
    from tickwork.cli.common import open_client
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
    tw = open_client(args)
    try:
        existing = {j.id for j in tw.get_jobs()}
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
        for p in planned:
            tw.add_job(
                p.target,
                p.trigger,
                id=p.job_id,
                name=p.entry,
                timezone=p.timezone,
                owner="cli",
                replace_existing=True,
                **p.trigger_args,
            )
        print(f"imported {len(planned)} job(s); {len(refused)} refused")
        return 0 if not refused else 1
    finally:
        tw.close()
