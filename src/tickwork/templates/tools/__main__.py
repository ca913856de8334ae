"""``python -m tickwork.templates.tools backup|cleanup ...``: what the db-backup and
log-cleanup templates' shell jobs run. Prints a JSON summary last (the run's result)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tickwork.templates.tools")
    sub = parser.add_subparsers(dest="tool", required=True)
    b = sub.add_parser("backup", help="dump a named connection's database, check it, rotate")
    b.add_argument("--connection", required=True, help="its fields come from TW_CONN_<NAME>")
    b.add_argument("--dir", required=True, type=Path)
    b.add_argument("--keep", type=int, default=7)
    b.add_argument("--max-age-days", type=float, default=0.0)
    b.add_argument("--timeout", type=float, default=None)
    c = sub.add_parser("cleanup", help="remove old files matching a glob, inside a root")
    c.add_argument("--root", required=True, type=Path)
    c.add_argument("--dir", required=True, type=Path)
    c.add_argument("--glob", required=True)
    c.add_argument("--older-than-days", type=float, required=True)
    c.add_argument(
        "--dry-run", nargs="?", const="true", default="false", choices=("true", "false"),
        help="only list what would be removed",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.tool == "backup":
        return _backup(args)
    return _cleanup(args)


def _backup(args: argparse.Namespace) -> int:
    from tickwork.templates.tools.backup import BackupError, backup, connection_fields

    try:
        fields = connection_fields(args.connection)
        done = backup(
            args.connection,
            fields,
            args.dir,
            now=datetime.now(UTC),
            keep=args.keep,
            max_age_s=args.max_age_days * 86_400,
            timeout_s=args.timeout,
        )
    except BackupError as exc:
        print(f"backup failed: {exc}", file=sys.stderr)
        return 1
    for path in done.removed:
        print(f"rotated away {path.name}")
    print(json.dumps({"backup": str(done.path), "bytes": done.size, "sha256": done.sha256,
                      "removed": [p.name for p in done.removed]}))  # fmt: skip
    return 0


def _cleanup(args: argparse.Namespace) -> int:
    from tickwork.templates.tools.cleanup import CleanupRefused, cleanup

    try:
        done = cleanup(
            args.root,
            args.dir,
            args.glob,
            older_than_s=args.older_than_days * 86_400,
            now_s=time.time(),
            dry_run=args.dry_run == "true",
        )
    except (CleanupRefused, FileNotFoundError) as exc:
        print(f"cleanup refused: {exc}", file=sys.stderr)
        return 1
    verb = "would remove" if args.dry_run == "true" else "removed"
    for path in done.removed:
        print(f"{verb} {path}")
    for path in done.outside:
        print(f"left alone (resolves outside {args.root}): {path}")
    summary = {
        "dry_run": args.dry_run == "true",
        "files": len(done.removed),
        "bytes": done.bytes,
        "kept_young": done.kept_young,
        "outside_root": len(done.outside),
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
