"""cleanup_log_files: remove old log files from a directory inside an allowed root (seed 004's
log cleanup). The roots are the deployment's ``TICKWORK_MAINTENANCE_ROOTS`` (paths separated by
``:``); without it nothing may be removed. Symbolic links are never followed or removed, the
walk stays in the one directory (no recursion), and at most ``max_files`` go per run.
``dry_run`` (the default) only counts."""

from __future__ import annotations

import fnmatch
import os
import time
from pathlib import Path

from tickwork.builtins.context import Context
from tickwork.builtins.db import Refused

ROOTS_ENV = "TICKWORK_MAINTENANCE_ROOTS"


def allowed_roots() -> list[Path]:
    value = os.environ.get(ROOTS_ENV, "")
    return [Path(p).resolve() for p in value.split(os.pathsep) if p.strip()]


def cleanup_log_files(ctx: Context) -> None:
    report = ctx.report
    roots = allowed_roots()
    if not roots:
        raise Refused(f"path: no directory may be cleaned: set {ROOTS_ENV} on the scheduler "
                      "nodes to the roots log cleanup may work in")  # fmt: skip
    path = Path(str(ctx.param("path"))).resolve()
    if not any(path == root or root in path.parents for root in roots):
        raise Refused(f"path: {path} is outside the allowed roots ({ROOTS_ENV})")
    if not path.is_dir():
        raise Refused(f"path: {path} is not a directory")
    pattern = str(ctx.param("pattern"))
    cutoff = time.time() - float(ctx.param("older_than_days")) * 86_400
    limit, dry_run = int(ctx.param("max_files")), bool(ctx.param("dry_run"))
    matched = removed = freed = 0
    failed: list[list[str]] = []
    with os.scandir(path) as entries:
        for entry in entries:
            if matched >= limit:
                report.finding(
                    "info", str(path), f"stopped at max_files ({limit})", "the next run continues"
                )
                break
            if not fnmatch.fnmatch(entry.name, pattern) or not entry.is_file(follow_symlinks=False):
                continue
            info = entry.stat(follow_symlinks=False)
            if info.st_mtime >= cutoff:
                continue
            matched += 1
            if dry_run:
                freed += info.st_size
                continue
            try:
                os.unlink(entry.path)
                removed += 1
                freed += info.st_size
            except OSError as exc:
                failed.append([entry.name, exc.strerror or str(exc)])
    report.metric("files_matched", matched)
    report.metric("files_removed", removed)
    report.metric("bytes_freed" if not dry_run else "bytes_matched", freed)
    if failed:
        report.finding(
            "warning",
            str(path),
            f"{len(failed)} file(s) could not be removed",
            "check the files' owner and permissions",
        )
        report.table("failed", ["file", "error"], failed)
    if dry_run and matched:
        report.finding(
            "info",
            str(path),
            f"dry run: {matched} file(s) would be removed",
            "set dry_run: false to remove them",
        )
    ctx.log(f"{matched} old file(s) in {path}, {removed} removed")
