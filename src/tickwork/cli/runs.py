"""``tickwork runs list|show``: the run history."""

from __future__ import annotations

import argparse
from dataclasses import asdict

from tickwork.cli.common import dump_json, open_client, store_options, table, when
from tickwork.models import RunStatus


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    common = store_options()
    group = sub.add_parser("runs", help="the run history")
    cmds = group.add_subparsers(dest="runs_command", metavar="SUBCOMMAND", required=True)

    ls = cmds.add_parser("list", parents=[common], help="list runs, newest first")
    ls.add_argument("--job", metavar="ID")
    ls.add_argument("--status", choices=[s.value for s in RunStatus], action="append")
    ls.add_argument("--limit", type=int, default=50)
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(handler=_list)

    show = cmds.add_parser("show", parents=[common], help="one run, with its log")
    show.add_argument("run_id", metavar="RUN", type=int)
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=_show)


def _list(args: argparse.Namespace) -> int:
    with open_client(args) as tw:
        runs = tw.get_runs(args.job, status=args.status, limit=args.limit)
        if args.json:
            dump_json([asdict(r) for r in runs])
            return 0
        rows = [
            [
                str(r.id),
                r.job_id,
                when(r.scheduled_for),
                r.reason,
                r.status,
                str(r.attempt),
                "-" if r.duration_s is None else f"{r.duration_s:.3f}s",
                (r.error or "")[:60],
            ]
            for r in runs
        ]
        table(
            rows, ["RUN", "JOB", "SCHEDULED FOR (UTC)", "REASON", "STATUS", "TRY", "TOOK", "ERROR"]
        )
    return 0


def _show(args: argparse.Namespace) -> int:
    with open_client(args) as tw:
        run = tw.get_run(args.run_id)
        if args.json:
            dump_json(asdict(run))
            return 0
        for key in ("id", "job_id", "status", "reason", "attempt", "retry_of", "node_id"):
            print(f"{key:>14}: {getattr(run, key)}")
        for key in ("scheduled_for", "started_at", "finished_at"):
            print(f"{key:>14}: {when(getattr(run, key))}")
        print(f"{'duration':>14}: {run.duration_s}")
        print(f"{'result':>14}: {run.result}")
        print(f"{'error':>14}: {run.error}")
        if run.traceback:
            print("--- traceback ---")
            print(run.traceback.rstrip())
        print("--- log ---")
        print((run.log or "").rstrip())
    return 0
