"""``tickwork jobs list|show|add|pause|resume|run|remove``."""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict
from typing import Any

from tickwork.cli import targets
from tickwork.cli.common import dump_json, open_client, store_options, table, when
from tickwork.engine.trigger_cache import trigger_of
from tickwork.errors import InvalidInput
from tickwork.jobspec import JobSpec
from tickwork.models import RunStatus


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    common = store_options()
    group = sub.add_parser("jobs", help="list and manage jobs")
    cmds = group.add_subparsers(dest="jobs_command", metavar="SUBCOMMAND", required=True)

    ls = cmds.add_parser("list", parents=[common], help="list jobs")
    ls.add_argument("--group")
    ls.add_argument("--tag")
    ls.add_argument("--state", choices=("scheduled", "paused", "completed"))
    ls.add_argument("--text", help="substring of id or name")
    ls.add_argument("--json", action="store_true", help="print JSON")
    ls.set_defaults(handler=_list)

    show = cmds.add_parser("show", parents=[common], help="show one job")
    show.add_argument("job_id", metavar="ID")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=_show)

    add = cmds.add_parser("add", parents=[common], help="add a job")
    add.add_argument("job_id", metavar="ID")
    targets.add_options(add)
    when_ = add.add_mutually_exclusive_group(required=True)
    when_.add_argument("--cron", metavar="EXPR", help='cron expression, e.g. "0 2 * * *"')
    when_.add_argument("--every", metavar="SECONDS", type=float, help="interval in seconds")
    when_.add_argument("--at", metavar="ISO8601", help="run once at this instant")
    add.add_argument("--name")
    add.add_argument("--tz", help="time zone of the trigger (default: the server's)")
    add.add_argument("--group", default="default")
    add.add_argument("--tag", action="append", default=[], dest="tags")
    add.add_argument("--args", default="[]", help="JSON list of positional arguments")
    add.add_argument("--kwargs", default="{}", help="JSON object of keyword arguments")
    add.add_argument("--timeout", type=float, help="seconds")
    add.add_argument("--retries", type=int, default=0)
    add.add_argument("--executor", choices=("thread", "process", "asyncio"))
    add.add_argument("--replace", action="store_true", help="replace a job with the same id")
    add.set_defaults(handler=_add)

    for name, helptext in (
        ("pause", "pause a job"),
        ("resume", "resume a paused job"),
        ("remove", "remove a job (its run history stays)"),
    ):
        cmd = cmds.add_parser(name, parents=[common], help=helptext)
        cmd.add_argument("job_id", metavar="ID")
        cmd.set_defaults(handler=_simple, action=name)

    run = cmds.add_parser("run", parents=[common], help="queue a run now; prints its run id")
    run.add_argument("job_id", metavar="ID")
    run.add_argument("--wait", action="store_true", help="wait for the run to end")
    run.add_argument("--timeout", type=float, default=300.0, help="seconds to --wait (300)")
    run.set_defaults(handler=_run)


def _list(args: argparse.Namespace) -> int:
    with open_client(args) as tw:
        jobs = tw.get_jobs(group=args.group, tag=args.tag, state=args.state, text=args.text)
        if args.json:
            dump_json([_job_dict(j.record) for j in jobs])
            return 0
        rows = []
        for j in jobs:
            state = (
                "paused" if j.paused else ("scheduled" if j.record.next_fire_at else "completed")
            )
            rows.append(
                [
                    j.id,
                    j.name,
                    _describe(j.record.trigger),
                    when(j.record.next_fire_at, j.trigger.tz),
                    state,
                ]
            )
        table(rows, ["ID", "NAME", "TRIGGER", "NEXT RUN", "STATE"])
    return 0


def _show(args: argparse.Namespace) -> int:
    with open_client(args) as tw:
        job = tw.get_job(args.job_id)
        if job is None:
            from tickwork.errors import NotFound

            raise NotFound("job", args.job_id)
        data = _job_dict(job.record)
        if args.json:
            dump_json(data)
        else:
            for key, value in data.items():
                print(f"{key:>20}: {value}")
    return 0


def _add(args: argparse.Namespace) -> int:
    try:
        job_args = json.loads(args.args)
    except json.JSONDecodeError as exc:
        raise InvalidInput("args", f"not valid JSON: {exc}") from None
    try:
        job_kwargs = json.loads(args.kwargs)
    except json.JSONDecodeError as exc:
        raise InvalidInput("kwargs", f"not valid JSON: {exc}") from None
    trigger: Any
    trigger_args: dict[str, Any] = {}
    if args.cron:
        trigger = args.cron
    elif args.every is not None:
        trigger, trigger_args = "interval", {"seconds": args.every}
    else:
        trigger, trigger_args = "date", {"run_date": args.at}
    with open_client(args) as tw:
        tw.check_targets = True

        def script_language(name: str) -> str:
            return str(tw.script(name)[0].language)

        target = targets.target_of(args, script_language)
        if not isinstance(target, str) and (job_args or job_kwargs):
            raise InvalidInput("--args", "only a Python job takes --args and --kwargs")
        job = tw.add_job(
            target,
            trigger,
            args=job_args,
            kwargs=job_kwargs,
            id=args.job_id,
            name=args.name,
            executor=args.executor,
            replace_existing=args.replace,
            timezone=args.tz,
            group=args.group,
            tags=args.tags,
            timeout=args.timeout,
            retries=args.retries,
            owner="cli",
            **trigger_args,
        )
        nxt = when(job.record.next_fire_at, job.trigger.tz)
        what = "" if job.kind == "python" else f" ({_target_text(job.record)})"
        print(f"added {job.id}{what}: {_describe(job.record.trigger)}; next run {nxt}")
    return 0


def _simple(args: argparse.Namespace) -> int:
    with open_client(args) as tw:
        if args.action == "pause":
            tw.pause_job(args.job_id, by="cli")
            print(f"paused {args.job_id}")
        elif args.action == "resume":
            job = tw.resume_job(args.job_id, by="cli")
            print(
                f"resumed {args.job_id}; next run {when(job.record.next_fire_at, job.trigger.tz)}"
            )
        else:
            tw.remove_job(args.job_id, by="cli", origin="cli")
            print(f"removed {args.job_id}")
    return 0


def _run(args: argparse.Namespace) -> int:
    with open_client(args) as tw:
        run_id = tw.run_job(args.job_id, by="cli")
        print(run_id)
        if not args.wait:
            return 0
        deadline = time.monotonic() + args.timeout
        while time.monotonic() < deadline:
            run = tw.get_run(run_id)
            if RunStatus(run.status).finished:
                print(run.status)
                return 0 if run.status == RunStatus.SUCCEEDED else 1
            time.sleep(0.2)
        print("still queued or running (is a scheduler node running? tickwork serve)")
        return 1


def _describe(spec: dict[str, Any]) -> str:
    try:
        return trigger_of(spec).describe("en")
    except Exception:  # a spec from a newer version: show it raw
        return json.dumps(spec)


def _target_text(record: Any) -> str:
    from tickwork.targets import kinds

    try:
        return kinds.get(record.target_kind).describe(record.target).en
    except Exception:
        return record.target_kind  # type: ignore[no-any-return]


def _job_dict(record: Any) -> dict[str, Any]:
    from tickwork.audit import redacted_target

    data = asdict(record)
    data["target"] = redacted_target(record)  # secrets shown as ****** (sealed at rest)
    zone = trigger_of(record.trigger).tz
    data["next_fire_at"] = when(record.next_fire_at, zone)
    for key in ("created_at", "updated_at"):
        data[key] = when(data[key], zone)
    data["trigger_description"] = _describe(record.trigger)
    data["target_description"] = _target_text(record)
    return data


__all__ = ["JobSpec", "register"]
