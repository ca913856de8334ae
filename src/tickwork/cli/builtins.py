"""``tickwork builtins list|install``: the built-in maintenance jobs, and one command that
creates seed 000's set for a connection (docs/maintenance.md)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from tickwork.cli.common import open_client, store_options, table
from tickwork.errors import InvalidInput


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from tickwork.builtins.catalog import SETS

    common = store_options()
    group = sub.add_parser("builtins", help="built-in maintenance jobs")
    cmds = group.add_subparsers(dest="builtins_command", metavar="SUBCOMMAND", required=True)

    ls = cmds.add_parser("list", help="the built-ins, their parameters and default schedules")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(handler=_list)

    inst = cmds.add_parser("install", parents=[common], help="add a set of built-in jobs")
    inst.add_argument("set", metavar="SET", choices=sorted(SETS), help=", ".join(sorted(SETS)))
    inst.add_argument("--connection", required=True, help="the database connection's name")
    inst.add_argument("--redis", help="the Redis connection of vacuum_redis_cache")
    inst.add_argument("--table", help="cleanup_old_data's table (else it is added paused)")
    inst.add_argument("--time-column", default=None, help="cleanup_old_data's time column")
    inst.add_argument("--id-prefix", default="", help="prefix of the job ids (a second set)")
    inst.add_argument("--replace", action="store_true", help="replace jobs with the same ids")
    inst.add_argument("--dry-run", action="store_true", help="print the jobs, add nothing")
    inst.set_defaults(handler=_install)


def _list(args: argparse.Namespace) -> int:
    from tickwork.builtins.catalog import BUILTINS

    if args.json:
        out = [
            {"name": b.name, "label": {"en": b.label.en, "zh": b.label.zh},
             "connection": b.connection, "schedule": b.schedule, "dialects": list(b.dialects),
             "destructive": list(b.destructive),
             "params": [p.describe() for p in b.all_params()]}
            for b in BUILTINS.values()
        ]  # fmt: skip
        print(json.dumps(out, ensure_ascii=False, indent=2))
        return 0
    rows = [
        [b.name, b.connection or "-", _schedule(b.schedule),
         ", ".join(f"{p.name}={_value(p.default)}" for p in b.params)]
        for b in BUILTINS.values()
    ]  # fmt: skip
    table(rows, ["NAME", "CONNECTION", "SCHEDULE", "PARAMETERS (defaults)"])
    return 0


def _schedule(schedule: dict[str, Any]) -> str:
    if "cron" in schedule:
        return str(schedule["cron"])
    return "every " + ", ".join(f"{v} {k}" for k, v in schedule["interval"].items())


def _value(value: Any) -> str:
    return "-" if value is None else json.dumps(value, ensure_ascii=False)


def _install(args: argparse.Namespace) -> int:
    from tickwork.builtins.install import install, plan

    if (args.table is None) != (args.time_column is None):
        raise InvalidInput("--table", "--table and --time-column go together")
    planned, skipped = plan(
        args.set, args.connection, redis=args.redis, table=args.table,
        time_column=args.time_column, id_prefix=args.id_prefix,
    )  # fmt: skip
    rows = [[p.job_id, _schedule(p.schedule), p.note or ("paused" if p.paused else "")]
            for p in planned]  # fmt: skip
    if args.dry_run:
        table(rows, ["JOB", "SCHEDULE", "NOTE"])
    else:
        with open_client(args) as tw:
            view = tw.connection(args.connection)
            if view.kind != "database":
                raise InvalidInput("--connection", f"{args.connection!r} is a {view.kind} "
                                   "connection; the set needs a database one")  # fmt: skip
            if args.redis is not None and tw.connection(args.redis).kind != "redis":
                raise InvalidInput("--redis", f"{args.redis!r} is not a Redis connection")
            existing = [p.job_id for p in planned if tw.get_job(p.job_id) is not None]
            if existing and not args.replace:  # all or nothing: check before adding any
                raise InvalidInput(
                    "--replace", f"jobs {', '.join(existing)} exist; give --replace to replace "
                    "them or --id-prefix for a second set", code="exists",
                )  # fmt: skip
            count = install(tw, planned, replace=args.replace, set_name=args.set)
        table(rows, ["JOB", "SCHEDULE", "NOTE"])
        print(f"{count} job(s) added for connection {args.connection}")
    for note in skipped:
        print(f"not added: {note}")
    return 0
