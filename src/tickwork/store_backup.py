"""Scheduled backups of Tickwork's own store as a built-in job: ``tickwork-store-backup``
(group ``tickwork``, owner ``builtin``), daily on whichever node claims it, when a directory
is configured (``TICKWORK_STORE_BACKUP_DIR``).

Each run writes ``tickwork-store-YYYYmmdd-HHMMSS.db`` (a SQLite store, SQLite's online backup)
or ``.jsonl`` (the portable dump, any store) under a temporary name and renames it, checks it
as ``tickwork db restore`` would (``integrity_check`` or the dump's digest), then removes the
backups older than ``keep_days`` by the time in their name, always keeping the newest. The
result is a built-in's report (``metrics`` and ``findings``), so the alerts' ``finding`` rule
and ``/metrics`` read it; a backup that cannot be written or checked fails the run.

Like the retention job, the job names its database by a digest of the URL and runs on a
node's thread executor, where the node registered its store (never in the API process)."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tickwork.builtins.result import Report
from tickwork.errors import TickworkError

if TYPE_CHECKING:
    from tickwork.clock import Clock
    from tickwork.store import Store

JOB_ID = "tickwork-store-backup"
TARGET = "tickwork.store_backup:backup_store"
PREFIX = "tickwork-store-"
NAME = re.compile(r"^tickwork-store-(\d{8}-\d{6})\.(db|jsonl)\Z")
_STAMP = "%Y%m%d-%H%M%S"
_DAY_US = 86_400_000_000
_lock = threading.Lock()
_stores: dict[str, tuple[Store, Clock]] = {}


class StoreBackupFailed(TickworkError):
    """The scheduled backup could not be written or did not pass its check."""


def register(key: str, store: Store, clock: Clock) -> None:
    with _lock:
        _stores[key] = (store, clock)


def stamp_of(name: str) -> int | None:
    """The time (µs, UTC) in a backup's file name, or None for any other file."""
    match = NAME.match(name)
    if match is None:
        return None
    at = datetime.strptime(match.group(1), _STAMP).replace(tzinfo=UTC)
    return int(at.timestamp()) * 1_000_000


def backup_store(
    store: str, directory: str, keep_days: float = 30, portable: bool = False
) -> dict[str, Any]:
    """The built-in job's target: one backup into ``directory``, checked, then rotation."""
    from tickwork.store.backup import RestoreRefused, backup, verify

    with _lock:
        found = _stores.get(store)
    if found is None:
        raise RuntimeError(
            "no Tickwork store of this process matches the job's database; the store backup "
            "job runs on a scheduler node's thread executor"
        )
    tw_store, clock = found
    folder = Path(directory)
    now_us = clock.now_us()
    sqlite = tw_store.db.sqlite_path is not None and not portable
    name = PREFIX + datetime.fromtimestamp(now_us / 1e6, UTC).strftime(_STAMP)
    path = folder / (name + (".db" if sqlite else ".jsonl"))
    try:
        folder.mkdir(parents=True, exist_ok=True)
        outcome = backup(tw_store, path, portable=portable)
    except OSError as exc:
        raise StoreBackupFailed(
            f"could not write the store backup {path}: {exc.strerror or exc} "
            "(check TICKWORK_STORE_BACKUP_DIR exists and the node may write there)"
        ) from None
    try:
        checked = verify(path)
    except (RestoreRefused, OSError) as exc:
        path.unlink(missing_ok=True)  # a backup that would not restore is no backup
        raise StoreBackupFailed(f"the store backup {path} failed its check: {exc}") from None

    report = Report()
    report.metric("file", str(path))
    report.metric("kind", outcome.kind)
    report.metric("bytes", path.stat().st_size)
    report.metric("rows", sum(int(n) for n in checked["counts"].values()))
    report.metric("revision", outcome.revision)
    report.metric("verified", True)
    removed, kept = rotate(folder, now_us, keep_days, report)
    report.metric("removed", len(removed))
    report.metric("kept", kept)
    report.metric("keep_days", keep_days)
    report.table(
        "counts", ["table", "rows"], [[t, n] for t, n in sorted(checked["counts"].items())]
    )
    if removed:
        report.table("removed", ["file"], [[n] for n in removed])
    return report.as_result()


def rotate(folder: Path, now_us: int, keep_days: float, report: Report) -> tuple[list[str], int]:
    """Remove this job's backups older than ``keep_days`` (by the time in their names), never
    the newest one; other files in the folder are left alone. Returns (removed, kept)."""
    backups = sorted(
        (at, p) for p in folder.iterdir() if (at := stamp_of(p.name)) is not None and p.is_file()
    )
    if not backups:
        return [], 0
    cutoff = now_us - int(keep_days * _DAY_US)
    removed: list[str] = []
    for at, p in backups[:-1]:  # the newest stays, however old
        if at >= cutoff:
            continue
        try:
            p.unlink()
            removed.append(p.name)
        except OSError as exc:
            report.finding(
                "warning",
                str(p),
                f"could not remove an old store backup: {exc.strerror or exc}",
                "check the permissions of the backup directory",
            )
    return removed, len(backups) - len(removed)
