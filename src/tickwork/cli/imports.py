"""``tickwork import SOURCE_KIND ...``: other schedulers' jobs into Tickwork.

Importers register here (``IMPORTERS``: name -> a function adding its subparser, whose
handler returns an ``Imported``); ``run_import`` does the rest the same way for all: every
job is validated as a CLI-created job (the target rules apply: TICKWORK_ALLOWED_TARGETS),
the notes and refusals are printed, ``--dry-run`` prints what would be created, otherwise
the jobs are created in batches with progress. A refused entry writes nothing unless
``--skip-refused``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tickwork.cli.common import Progress, open_client, store_options
from tickwork.errors import InvalidInput
from tickwork.importers import Imported

Adder = Callable[
    ["argparse._SubParsersAction[argparse.ArgumentParser]", argparse.ArgumentParser], None
]
IMPORTERS: dict[str, Adder] = {}


def importer(name: str) -> Callable[[Adder], Adder]:
    """Register an importer's subparser under ``tickwork import NAME``."""

    def add(fn: Adder) -> Adder:
        IMPORTERS[name] = fn
        return fn

    return add


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    group = sub.add_parser("import", help="import jobs from another scheduler")
    cmds = group.add_subparsers(dest="import_command", metavar="SOURCE", required=True)
    common = argparse.ArgumentParser(add_help=False, parents=[store_options()])
    common.add_argument("--dry-run", action="store_true", help="print what would be created")
    common.add_argument(
        "--skip-refused", action="store_true", help="create the others when some are refused"
    )
    common.add_argument("--replace", action="store_true", help="replace jobs with the same id")
    common.add_argument("--prefix", help="the prefix of the new jobs' ids")
    for add in IMPORTERS.values():
        add(cmds, common)


def _pairs(values: list[str], flag: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for value in values:
        name, sep, ref = value.partition("=")
        if not sep or not name or not ref:
            raise InvalidInput(flag, f"{value!r} should read NAME=package.module:function")
        out[name] = ref
    return out


@importer("crontab")
def _crontab(cmds: Any, common: argparse.ArgumentParser) -> None:
    p = cmds.add_parser("crontab", parents=[common], help="a user crontab file (crontab -l)")
    p.add_argument("file", type=Path, metavar="FILE")
    p.add_argument("--group", default="crontab")

    def read(args: argparse.Namespace) -> Imported:
        from tickwork.importers import crontab

        return crontab.read(args.file, prefix=args.prefix or "crontab", group=args.group)

    p.set_defaults(handler=lambda args: run_import(args, read(args)))


@importer("apscheduler")
def _apscheduler(cmds: Any, common: argparse.ArgumentParser) -> None:
    p = cmds.add_parser(
        "apscheduler", parents=[common], help="an APScheduler 3 SQLAlchemy job store"
    )
    p.add_argument("url", metavar="DB_URL")
    p.add_argument("--table", default="apscheduler_jobs")
    p.add_argument(
        "--trust-pickles",
        action="store_true",
        help="unpickle the stored jobs (in a child process): only for a table you trust",
    )

    def read(args: argparse.Namespace) -> Imported:
        from tickwork.importers import apscheduler

        return apscheduler.read(args.url, table=args.table, trust_pickles=args.trust_pickles)

    p.set_defaults(handler=lambda args: run_import(args, read(args)))


@importer("xxl-job")
def _xxljob(cmds: Any, common: argparse.ArgumentParser) -> None:
    p = cmds.add_parser("xxl-job", parents=[common], help="xxl-job's xxl_job_info table")
    p.add_argument("source", metavar="DB_URL|DUMP.sql")
    p.add_argument(
        "--handler",
        action="append",
        default=[],
        dest="handlers",
        metavar="NAME=REF",
        help="the Python function of a Java handler (repeatable)",
    )
    p.add_argument("--handler-module", help="a module whose functions are named like handlers")

    def read(args: argparse.Namespace) -> Imported:
        from tickwork.importers import xxljob

        return xxljob.read(
            args.source,
            handlers=_pairs(args.handlers, "--handler"),
            handler_module=args.handler_module,
            prefix=args.prefix or "xxl",
        )

    p.set_defaults(handler=lambda args: run_import(args, read(args)))


@importer("ruoyi")
def _ruoyi(cmds: Any, common: argparse.ArgumentParser) -> None:
    p = cmds.add_parser("ruoyi", parents=[common], help="RuoYi's sys_job table")
    p.add_argument("source", metavar="DB_URL|DUMP.sql")

    def read(args: argparse.Namespace) -> Imported:
        from tickwork.importers import ruoyi

        return ruoyi.read(args.source, prefix=args.prefix or "ruoyi")

    p.set_defaults(handler=lambda args: run_import(args, read(args)))


def run_import(args: argparse.Namespace, imported: Imported) -> int:
    from tickwork.cli.jobs import _describe, _target_text
    from tickwork.jobspec import build_record
    from tickwork.targets.policy import check_target

    for note in imported.notes:
        print(f"note: {note}", file=sys.stderr)
    refused = list(imported.refused)
    valid = []
    with open_client(args) as tw:
        now = tw.clock.now_us()
        allowed = tw.allowed_targets()
        for where, spec in imported.jobs:
            spec.owner, spec.owner_ref, spec.check_target = "cli", None, True
            try:
                if isinstance(spec.target, str):  # the target rules, before importing it
                    check_target(spec.target, allowed)
                record = build_record(
                    spec, now_us=now, default_tz=tw.settings.timezone, by=tw.actor
                )
            except InvalidInput as exc:
                refused.append((where, f"{exc.field}: {exc.reason}"))
                continue
            valid.append((spec, record))
        for where, reason in refused:
            print(f"refused: {where}: {reason}", file=sys.stderr)
        if refused and not args.skip_refused:
            print(
                f"nothing written: {len(refused)} refused, {len(valid)} convertible "
                "(fix them, or give --skip-refused to create the others)",
                file=sys.stderr,
            )
            return 1
        if args.dry_run:
            for _, record in valid:
                state = " (paused)" if record.paused else ""
                print(
                    f"would create {record.id}: {_describe(record.trigger)}{state} -> "
                    f"{_target_text(record)}"
                )
            print(f"{len(valid)} jobs would be created, {len(refused)} refused (dry run)")
            return 0
        existing = {j.id for j in tw.get_jobs()}
        clash = [s.id for s, _ in valid if s.id in existing]
        if clash and not args.replace:
            raise InvalidInput(
                "id",
                f"{len(clash)} job(s) already exist ({', '.join(map(str, clash[:5]))}); "
                "give --replace to replace them, or --prefix for other ids",
                code="duplicate_id",
                params={"id": str(clash[0])},
            )
        new = [r for s, r in valid if s.id not in existing]  # validated once, added as built
        old = [s for s, _ in valid if s.id in existing]
        progress = Progress("importing jobs", len(valid))
        for start in range(0, len(new), 5000):
            batch = new[start : start + 5000]
            tw.add_records(batch, by=tw.actor)
            progress.advance(len(batch))
        for spec in old:
            tw.create_job(spec, by=tw.actor, replace_existing=True)
            progress.advance(1)
        print(f"imported {len(valid)} jobs: {len(new)} added, {len(old)} replaced")
    return 0
