"""The tools the built-in templates' shell jobs run: backup rotation on an injected clock,
the SQLite online backup with its integrity check, and log cleanup confined to its root."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tickwork.templates.tools.backup import STAMP, BackupError, backup, backups, rotate
from tickwork.templates.tools.cleanup import CleanupRefused, cleanup

T0 = datetime(2026, 5, 1, 3, 7, 0, tzinfo=UTC)
DAY = 86_400


def _make(directory: Path, name: str, at: datetime, suffix: str = ".dump") -> Path:
    path = directory / f"{name}-{at.strftime(STAMP)}{suffix}"
    path.write_bytes(b"x")
    (directory / (path.name + ".sha256")).write_text("x")
    return path


def test_rotation_keeps_the_newest_by_count_and_age(tmp_path: Path) -> None:
    made = [_make(tmp_path, "pg", T0 - timedelta(days=d)) for d in range(10)]
    other = _make(tmp_path, "pg-two", T0 - timedelta(days=40))  # another connection
    stray = tmp_path / "pg-notes.dump"
    stray.write_text("not a backup")
    removed = rotate(tmp_path, "pg", keep=7, max_age_s=0, now=T0)
    assert removed == list(reversed(made[7:]))  # the 3 oldest, oldest first
    assert [p for _, p in backups(tmp_path, "pg")] == list(reversed(made[:7]))
    assert not (tmp_path / (made[9].name + ".sha256")).exists()
    assert other.exists()
    assert stray.exists()
    # a week later by the clock: the age limit (5 days) takes all but the newest
    removed = rotate(tmp_path, "pg", keep=7, max_age_s=5 * DAY, now=T0 + timedelta(days=7))
    assert [p for _, p in backups(tmp_path, "pg")] == [made[0]]
    assert len(removed) == 6


def _sqlite_source(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        conn.executemany("INSERT INTO t (v) VALUES (?)", [(f"行 {i}",) for i in range(500)])


def test_sqlite_online_backup_is_checked_and_restorable(tmp_path: Path) -> None:
    source = tmp_path / "app.db"
    _sqlite_source(source)
    out = tmp_path / "backups"
    done = backup("lite", {"url": f"sqlite:///{source}"}, out, now=T0, keep=2, max_age_s=0)
    assert done.path.name == f"lite-{T0.strftime(STAMP)}.sqlite3"
    assert (out / (done.path.name + ".sha256")).read_text().startswith(done.sha256)
    with sqlite3.connect(done.path) as conn:
        rows = conn.execute("SELECT count(*), max(v) FROM t").fetchone()
        assert rows == (500, "行 99")
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    for minutes in (1, 2):
        backup("lite", {"url": f"sqlite:///{source}"}, out, now=T0 + timedelta(minutes=minutes),
               keep=2, max_age_s=0)  # fmt: skip
    assert len(backups(out, "lite")) == 2
    assert not list(out.glob(".partial-*"))
    with pytest.raises(BackupError, match="does not exist"):
        backup("gone", {"url": f"sqlite:///{tmp_path / 'nope.db'}"}, out, now=T0, keep=1,
               max_age_s=0)  # fmt: skip
    assert backups(out, "gone") == []  # nothing half-written counts as a backup


def _old(path: Path, days: float, now: float) -> None:
    os.utime(path, (now - days * DAY, now - days * DAY), follow_symlinks=False)


NOW_S = T0.timestamp()


def test_cleanup_removes_old_matches_inside_the_root_and_dry_runs_first(tmp_path: Path) -> None:
    root = tmp_path / "logs"
    app = root / "app"
    app.mkdir(parents=True)
    old, young, other = app / "a.log", app / "b.log", app / "c.txt"
    for p in (old, young, other):
        p.write_text("log")
    _old(old, 30, NOW_S)
    _old(young, 1, NOW_S)
    _old(other, 30, NOW_S)
    dry = cleanup(root, app, "*.log", older_than_s=14 * DAY, now_s=NOW_S, dry_run=True)
    assert dry.removed == [old]
    assert dry.kept_young == 1
    assert old.exists()  # a dry run removes nothing
    done = cleanup(root, app, "*.log", older_than_s=14 * DAY, now_s=NOW_S, dry_run=False)
    assert done.removed == [old]
    assert not old.exists()
    assert young.exists()
    assert other.exists()


def test_cleanup_refuses_a_symlink_escape(tmp_path: Path) -> None:
    root = tmp_path / "logs"
    root.mkdir()
    outside = tmp_path / "precious"
    outside.mkdir()
    victim = outside / "data.log"
    victim.write_text("keep me")
    _old(victim, 100, NOW_S)
    # the directory itself leads out of the root
    (root / "escape").symlink_to(outside, target_is_directory=True)
    with pytest.raises(CleanupRefused, match="outside the root"):
        cleanup(root, root / "escape", "*.log", older_than_s=DAY, now_s=NOW_S, dry_run=False)
    with pytest.raises(CleanupRefused):
        cleanup(root, root / ".." / "precious", "*.log", older_than_s=DAY, now_s=NOW_S,
                dry_run=False)  # fmt: skip
    # a match reached through a linked directory is left alone
    done = cleanup(root, root, "*/*.log", older_than_s=DAY, now_s=NOW_S, dry_run=False)
    assert done.removed == []
    assert len(done.outside) == 1
    # a linked file inside the root goes as a link; what it points to stays
    link = root / "old.log"
    link.symlink_to(victim)
    _old(link, 100, NOW_S)
    done = cleanup(root, root, "*.log", older_than_s=DAY, now_s=NOW_S, dry_run=False)
    assert done.removed == [link]
    assert not link.is_symlink()
    assert victim.read_text() == "keep me"
    with pytest.raises(CleanupRefused, match="relative"):
        cleanup(root, root, "../precious/*.log", older_than_s=DAY, now_s=NOW_S, dry_run=False)


def test_cleanup_command_prints_a_summary(tmp_path: Path) -> None:
    root = tmp_path / "logs"
    root.mkdir()
    (root / "x.log").write_text("x")
    _old(root / "x.log", 30, datetime.now(UTC).timestamp())  # the tool reads the real clock
    argv = [sys.executable, "-m", "tickwork.templates.tools", "cleanup", "--root", str(root),
            "--dir", str(root), "--glob", "*.log", "--older-than-days", "7"]  # fmt: skip
    dry = subprocess.run([*argv, "--dry-run", "true"], capture_output=True, text=True, check=True)
    assert f"would remove {root / 'x.log'}" in dry.stdout
    assert (root / "x.log").exists()
    done = subprocess.run([*argv, "--dry-run", "false"], capture_output=True, text=True, check=True)
    assert '"files": 1' in done.stdout
    assert not (root / "x.log").exists()
    escape = subprocess.run(
        [*argv[:6], "--dir", str(tmp_path), *argv[8:]],
        check=False,
        capture_output=True,
        text=True,
    )
    assert escape.returncode == 1
    assert "refused" in escape.stderr
