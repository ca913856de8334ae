"""``tickwork jobs list|show|add|pause|resume|run|remove``."""

from __future__ import annotations

import argparse
import json
import time
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
    # one of them, unless the job comes from a template (which has its schedule)
    when_ = add.add_mutually_exclusive_group()
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
    add.add_argument("--retries", type=int, help="default: the group's, else 0")
    add.add_argument("--executor", choices=("thread", "process", "asyncio"))
    add.add_argument("--queue", help="a Celery queue: the runs go to `tickwork worker`s")
    add.add_argument("--replace", action="store_true", help="replace a job with the same id")
    add.add_argument(
        "--template", metavar="NAME", help="make the job from a template (tickwork templates list)"
    )
    add.add_argument(
        "--param", action="append", default=[], metavar="K=V", help="a template parameter"
    )
    add.set_defaults(handler=_add)

    for name, helptext in (
        ("pause", "pause a job"),
        ("resume", "resume a paused job"),
        ("remove", "remove a job (its run history stays)"),
    ):
        cmd = cmds.add_parser(name, parents=[common], help=helptext)
        cmd.add_argument("job_id", metavar="ID")
        cmd.set_defaults(handler=_simple, action=name)

    imp = cmds.add_parser(
        "import",
        parents=[common],
        help="add the jobs of a file: `jobs list --json` output or any job file format",
    )
    imp.add_argument("file", metavar="FILE", help="JSON or YAML (see docs/jobfiles.md)")
    imp.add_argument("--replace", action="store_true", help="replace jobs with the same ids")
    imp.set_defaults(handler=_import)

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
            info = data.pop("info")
            for key, value in [*data.items(), *info.items()]:
                print(f"{key:>20}: {value}")
    return 0


def _add(args: argparse.Namespace) -> int:
    if args.template is not None:
        from tickwork.cli.templates import add_from_template

        return add_from_template(args)
    if args.param:
        raise InvalidInput("--param", "is for jobs made from a template (--template NAME)")
    if not (args.cron or args.every is not None or args.at):
        raise InvalidInput("--cron", "give one of --cron, --every and --at (or --template)")
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
        # What the command line leaves out comes from the group's defaults.
        defaults = tw.group_defaults(args.group)
        given = {"timezone", "executor", "timeout_s", "retries"}
        policies = {k: v for k, v in defaults.items() if k not in given}
        job = tw.add_job(
            target,
            trigger,
            args=job_args,
            kwargs=job_kwargs,
            id=args.job_id,
            name=args.name,
            executor=args.executor or defaults.get("executor"),
            queue=args.queue,
            replace_existing=args.replace,
            timezone=args.tz or defaults.get("timezone"),
            group=args.group,
            tags=args.tags,
            timeout=args.timeout if args.timeout is not None else defaults.get("timeout_s"),
            retries=args.retries if args.retries is not None else defaults.get("retries", 0),
            owner="cli",
            **policies,
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


def _import(args: argparse.Namespace) -> int:
    """Validate every entry first (nothing is written if one is wrong), then add the new jobs
    in bulk as validated and replace existing ones (--replace), with progress on stderr."""
    from tickwork.service.bulk_add import no_gc

    with no_gc():  # as for the importers (cli.imports.import_with)
        return _import_entries(args)


def _import_entries(args: argparse.Namespace) -> int:
    from tickwork.cli.imports import stored_ids, validate, write
    from tickwork.jobfiles import read_specs

    entries = read_specs(args.file)
    with open_client(args) as tw:
        existing = stored_ids(tw)
        for where, spec in entries:
            if not spec.secret_keys:
                continue
            old = None
            if spec.id in existing:  # a masked secret keeps the stored one
                with tw.store.db.read() as conn:
                    old = tw.store.jobs.get(conn, str(spec.id))
            try:
                spec.kwargs = _kept_secrets(spec, old)
            except InvalidInput as exc:
                raise InvalidInput(
                    f"{where}: {exc.field}", exc.reason, code=exc.code, params=exc.params
                ) from None
        valid, _ = validate(tw, entries, strict=True)
        added, replaced = write(tw, valid, replace=args.replace)
        print(f"imported {len(entries)} jobs from {args.file}: {added} added, {replaced} replaced")
    return 0


def _kept_secrets(spec: JobSpec, old: Any) -> dict[str, Any]:
    """The kwargs of an imported entry, a secret masked as `jobs list --json` shows it
    (``******``) keeping the stored job's secret; a masked secret with none stored is refused
    (it would become the secret)."""
    from tickwork.executors.redact import MASK

    kwargs = dict(spec.kwargs)
    kept = (old.target.get("kwargs") or {}) if old is not None else {}
    for key in spec.secret_keys:
        if kwargs.get(key) != MASK:
            continue
        if key in kept and old is not None and key in old.secret_keys:
            kwargs[key] = kept[key]  # still sealed: the service keeps the seal
        else:
            raise InvalidInput(
                f"kwargs.{key}",
                "is a secret masked as ****** (as jobs list --json writes it) and no stored "
                "job has it; write its value in the file",
                code="masked_secret",
            )
    return kwargs


def _describe(spec: dict[str, Any]) -> str:
    try:
        return trigger_of(spec).describe("en")
    except Exception:  # a spec from a newer version: show it raw
        return json.dumps(spec)


# The definition fields of a job file entry, in the order `jobs list --json` writes them.
_DEFINITION = (
    "name", "description", "group", "tags", "args", "kwargs", "timezone", "executor",
    "misfire_policy", "misfire_grace_s", "max_catchup", "concurrency_policy", "max_instances",
    "timeout_s", "retries", "retry_backoff_s", "retry_backoff_max_s", "secret_keys", "paused",
)  # fmt: skip


def _target_text(record: Any) -> str:
    from tickwork.targets import kinds

    try:
        return kinds.get(record.target_kind).describe(record.target).en
    except Exception:
        return record.target_kind  # type: ignore[no-any-return]


def _job_dict(record: Any, *, info: bool = True) -> dict[str, Any]:
    """A job as an entry of Tickwork's job file format (so `jobs list --json > jobs.json`
    re-imports with `tickwork jobs import jobs.json`, or serves as a job file), with what the
    database says about it under ``info`` (ignored on import; ``info=False``: without it,
    as ``tickwork export`` writes a million of them)."""
    from tickwork.audit import redacted_target
    from tickwork.parameters import declared_of

    target = redacted_target(record)  # secrets shown as ****** (sealed at rest)
    python = record.target_kind == "python"
    spec = {k: v for k, v in target.items() if k != "parameters"}
    entry: dict[str, Any] = {
        "id": record.id,
        # a Python target in its short form; another kind as its mapping ({kind: shell, ...})
        "target": target.get("ref") if python else {"kind": record.target_kind, **spec},
    }
    for key in _DEFINITION:
        if key in ("args", "kwargs"):
            if python:
                entry[key] = target.get(key) or ([] if key == "args" else {})
        else:
            value = getattr(record, key)  # copies of its lists: the record is not handed out
            entry[key] = list(value) if isinstance(value, list) else value
    parameters = declared_of(record.target)
    if parameters:
        entry["parameters"] = parameters  # what a manual run may set
    entry["trigger"] = record.trigger  # the stored spec: the same schedule comes back
    if not info:
        return entry
    zone = trigger_of(record.trigger).tz
    state = "paused" if record.paused else ("scheduled" if record.next_fire_at else "completed")
    entry["info"] = {
        "state": state,
        "next_run": when(record.next_fire_at, zone),
        "trigger_description": _describe(record.trigger),
        "target_description": _target_text(record),
        "owner": record.owner,
        "owner_ref": record.owner_ref,
        "version": record.version,
        "created_at": when(record.created_at, zone),
        "created_by": record.created_by,
        "updated_at": when(record.updated_at, zone),
        "updated_by": record.updated_by,
    }
    return entry


__all__ = ["JobSpec", "register"]
