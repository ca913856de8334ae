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
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tickwork.cli.common import Progress, open_client, store_options
from tickwork.errors import InvalidInput
from tickwork.importers import Imported
from tickwork.jobspec import JobSpec
from tickwork.service.bulk_add import no_gc
from tickwork.store.job_batch import JobBatch
from tickwork.store.records import JobRecord
from tickwork.targets.policy import check_target

PROGRESS_EVERY = 10_000  # entries between two progress lines while checking

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


@importer("celery-beat")
def _celery_beat(cmds: Any, common: argparse.ArgumentParser) -> None:
    # Its own handler (docs/celery.md): it prints beat's schedule as it moves, imports what
    # converts and names what it refuses (solar, both day fields), replacing jobs of the same id.
    p = cmds.add_parser(
        "celery-beat",
        parents=[common],
        help="a Celery app's beat_schedule -> jobs publishing the same tasks",
    )
    p.add_argument("app", help="the Celery app, as pkg.module:celery_app")
    from tickwork.cli.importers import celery_beat

    p.set_defaults(handler=celery_beat)


@importer("crontab")
def _crontab(cmds: Any, common: argparse.ArgumentParser) -> None:
    p = cmds.add_parser("crontab", parents=[common], help="a user crontab file (crontab -l)")
    p.add_argument("file", type=Path, metavar="FILE")
    p.add_argument("--group", default="crontab")

    def read(args: argparse.Namespace) -> Imported:
        from tickwork.importers import crontab

        return crontab.read(args.file, prefix=args.prefix or "crontab", group=args.group)

    p.set_defaults(handler=lambda args: import_with(args, read))


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

    p.set_defaults(handler=lambda args: import_with(args, read))


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

    p.set_defaults(handler=lambda args: import_with(args, read))


@importer("ruoyi")
def _ruoyi(cmds: Any, common: argparse.ArgumentParser) -> None:
    p = cmds.add_parser("ruoyi", parents=[common], help="RuoYi's sys_job table")
    p.add_argument("source", metavar="DB_URL|DUMP.sql")

    def read(args: argparse.Namespace) -> Imported:
        from tickwork.importers import ruoyi

        return ruoyi.read(args.source, prefix=args.prefix or "ruoyi")

    p.set_defaults(handler=lambda args: import_with(args, read))


def import_with(args: argparse.Namespace, read: Callable[[argparse.Namespace], Imported]) -> int:
    """``run_import`` of what ``read`` reads, with the cyclic collector off throughout: a
    million entries, specs and records live until the command ends, a collection meanwhile
    walks them all (2.7 s once the collector was back on after validating), and reference
    counting frees them when the command returns."""
    with no_gc():
        return run_import(args, read(args))


def run_import(args: argparse.Namespace, imported: Imported) -> int:
    from tickwork.cli.jobs import _describe, _target_text

    for note in imported.note_lines():
        print(f"note: {note}", file=sys.stderr)
    with open_client(args) as tw:
        valid, refused = validate(tw, imported.jobs)
        refused = [*imported.refused, *refused]
        for where, reason in refused:
            print(f"refused: {where}: {reason}", file=sys.stderr)
        if refused and not args.skip_refused:
            print(nothing_written(len(refused), len(valid)), file=sys.stderr)
            return 1
        if args.dry_run:
            for _, record in valid.pairs():
                state = " (paused)" if record.paused else ""
                print(
                    f"would create {record.id}: {_describe(record.trigger)}{state} -> "
                    f"{_target_text(record)}"
                )
            print(f"{len(valid)} jobs would be created, {len(refused)} refused (dry run)")
            return 0
        added, replaced = write(tw, valid, replace=args.replace, hint=", or --prefix for other ids")
        print(f"imported {len(valid)} jobs: {added} added, {replaced} replaced")
    return 0


def nothing_written(refused: int, valid: int) -> str:
    return (
        f"nothing written: {refused} refused, {valid} convertible "
        "(fix them, or give --skip-refused to create the others)"
    )


@dataclass(slots=True)
class Valid:
    """The entries that passed ``validate``: their specs and, in the same order, their jobs
    as built (a ``JobBatch``: a million of them are not a million records)."""

    specs: list[JobSpec]
    jobs: JobBatch

    def __len__(self) -> int:
        return len(self.specs)

    def pairs(self) -> Iterator[tuple[JobSpec, JobRecord]]:
        return zip(self.specs, self.jobs, strict=True)


def validate(
    tw: Any, entries: Sequence[tuple[str, JobSpec]], *, strict: bool = False
) -> tuple[Valid, list[tuple[str, str]]]:
    """Each entry validated as a job the CLI creates (the target rules apply) and built,
    once: the valid ones, (where, reason) of the others (``strict``: the first one raises,
    its field prefixed with where it is). What the entries share is checked once, equal
    cron triggers built once (``BulkBuilder``); progress on stderr."""
    from tickwork.bulk_build import BulkBuilder

    builder = BulkBuilder(now_us=tw.clock.now_us(), default_tz=tw.settings.timezone, by=tw.actor)
    allowed = tw.allowed_targets()
    checked: set[str] = set()
    valid = Valid([], JobBatch())
    refused: list[tuple[str, str]] = []
    progress = Progress("checking jobs", len(entries))
    with no_gc():
        for n, (where, spec) in enumerate(entries, start=1):
            spec.owner, spec.owner_ref, spec.check_target = "cli", None, True
            try:
                target = spec.target
                if isinstance(target, str) and target not in checked:
                    check_target(target, allowed)  # the target rules, before importing it
                    checked.add(target)
                builder.add(spec, valid.jobs)
            except InvalidInput as exc:
                if strict:
                    raise InvalidInput(
                        f"{where}: {exc.field}", exc.reason, code=exc.code, params=exc.params
                    ) from None
                refused.append((where, f"{exc.field}: {exc.reason}"))
            else:
                valid.specs.append(spec)
            if n % PROGRESS_EVERY == 0 or n == len(entries):
                progress.advance(n - progress.done)
    return valid, refused


def write(tw: Any, valid: Valid, *, replace: bool, hint: str = "") -> tuple[int, int]:
    """Add the new jobs in bulk (as built: no second build), replace the existing ones if
    ``replace`` (else refuse them all, InvalidInput), with progress. (added, replaced)."""
    existing = stored_ids(tw)
    new_ids = [s.id not in existing for s in valid.specs]
    clash = [str(s.id) for s, new in zip(valid.specs, new_ids, strict=True) if not new]
    if clash and not replace:
        raise InvalidInput(
            "id",
            f"{len(clash)} job(s) already exist ({', '.join(clash[:5])}"
            f"{', ...' if len(clash) > 5 else ''}); give --replace to replace them{hint}",
            code="duplicate_id",
            params={"id": clash[0]},
        )
    new = valid.jobs.where(new_ids) if clash else valid.jobs
    old = [s for s, is_new in zip(valid.specs, new_ids, strict=True) if not is_new]
    progress = Progress("importing jobs", len(valid))
    tw.add_records(new, by=tw.actor, progress=lambda done: progress.advance(done - progress.done))
    for spec in old:
        tw.create_job(spec, by=tw.actor, replace_existing=True)
        progress.advance(1)
    return len(new), len(old)


def stored_ids(tw: Any) -> set[str]:
    """The ids of the stored jobs (not their records: an import into a large store)."""
    from tickwork.store import JobFilter

    with tw.store.db.read() as conn:
        return set(tw.store.jobs.ids(conn, JobFilter()))
