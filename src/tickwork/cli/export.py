"""``tickwork export --format yaml|json|fastapi-json [--group G] [-o FILE]``: the stored jobs
as a job file (``tickwork jobs import FILE`` or ``serve --jobs FILE`` brings the same jobs
back), or as RuoYi-FastAPI's task configuration (its ``save_config`` shape)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from tickwork.cli.common import open_client, store_options
from tickwork.errors import InvalidInput


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("export", parents=[store_options()], help="write the jobs to a file")
    p.add_argument("--format", choices=("yaml", "json", "fastapi-json"), default="yaml")
    p.add_argument("--group", help="only this group's jobs")
    p.add_argument("-o", "--output", type=Path, help="the file (default: standard output)")
    p.add_argument(
        "--skip-refused",
        action="store_true",
        help="fastapi-json: leave out the jobs its shape cannot hold (else nothing is written)",
    )
    p.set_defaults(handler=_export)


def entries(records: list[Any]) -> list[dict[str, Any]]:
    """Tickwork job file entries (``jobs list --json`` without its read-only ``info``)."""
    from tickwork.cli.jobs import _job_dict

    return [_job_dict(record, info=False) for record in records]


def _export(args: argparse.Namespace) -> int:
    from tickwork.exporting import task_config

    with open_client(args) as tw:
        records = [j.record for j in tw.get_jobs(group=args.group)]
    secret = [r.id for r in records if r.secret_keys]
    if secret:
        print(
            f"note: secret values are not exported (shown as ******): {', '.join(secret[:5])}; "
            "set them again after importing into another store",
            file=sys.stderr,
        )
    if args.format == "fastapi-json":
        data: Any = []
        refused = []
        for record in records:
            try:
                data.append(task_config(record))
            except InvalidInput as exc:
                refused.append(f"{record.id}: {exc.field}: {exc.reason}")
        for line in refused:
            print(f"refused: {line}", file=sys.stderr)
        if refused and not args.skip_refused:
            print(
                f"nothing written: {len(refused)} job(s) do not fit the task configuration "
                "(give --skip-refused to write the others)",
                file=sys.stderr,
            )
            return 1
    else:
        data = {"jobs": entries(records)}
    if args.format == "yaml":
        import yaml

        text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    elif isinstance(data, dict):
        text = _job_file_json(data["jobs"])
    else:
        text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.write_text(text, encoding="utf-8")
        print(f"exported {len(data['jobs'] if isinstance(data, dict) else data)} jobs to "
              f"{args.output}", file=sys.stderr)  # fmt: skip
    return 0


def _job_file_json(jobs: list[dict[str, Any]]) -> str:
    """``{"jobs": [...]}`` with one job per line: each line by the C encoder (``indent``
    makes json use its pure-Python encoder: most of exporting a million jobs)."""
    dumps = json.JSONEncoder(ensure_ascii=False).encode
    if not jobs:
        return '{"jobs": []}\n'
    return '{"jobs": [\n  ' + ",\n  ".join(map(dumps, jobs)) + "\n]}\n"
