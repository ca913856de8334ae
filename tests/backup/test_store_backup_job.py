"""The built-in ``tickwork-store-backup`` job: it runs on a node (fake clock) on SQLite and
PostgreSQL, its file restores with ``tickwork db restore`` into an empty store with the same
counts, rotation keeps the newest and removes the old, and a failure fails the run with a
clear reason and leaves no partial file."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests import dbs
from tickwork.builtins.result import Report
from tickwork.cli import main
from tickwork.clock import FakeClock
from tickwork.engine.node import NodeOptions
from tickwork.jobspec import JobSpec
from tickwork.service import Tickwork
from tickwork.settings import Settings
from tickwork.store.tables import metadata
from tickwork.store_backup import JOB_ID, rotate

T0 = 1_767_607_200_000_000  # 2026-01-05 10:00:00 UTC
DAY_S = 86_400
KINDS = [
    pytest.param("sqlite", marks=pytest.mark.sqlite),
    pytest.param("postgres", marks=pytest.mark.postgres),
]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def new_db(tmp_path: Path) -> Iterator[Any]:
    """Fresh, empty databases of a kind, dropped afterwards."""
    made: list[Iterator[str]] = []

    def make(kind: str, name: str) -> str:
        if kind == "sqlite":
            return f"sqlite:///{tmp_path / name}"
        gen = dbs.create_database(kind)
        made.append(gen)
        return next(gen)

    yield make
    for gen in made:
        next(gen, None)


def _tw(url: str, tmp_path: Path, clock: FakeClock, folder: Path) -> Tickwork:
    settings = Settings(
        data_dir=tmp_path, database_url=url, timezone="UTC", store_backup_dir=folder
    )
    return Tickwork(settings=settings, clock=clock, node_options=NodeOptions(shutdown_wait_s=5))


def _finished(tw: Tickwork, run_id: int) -> Any:
    deadline = time.monotonic() + 30  # a bound on waiting, not a speed assertion
    while (r := tw.get_run(run_id)).finished_at is None:
        assert time.monotonic() < deadline, "the backup run did not finish"
        time.sleep(0.05)
    return r


def _counts(url: str) -> dict[str, int]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return {
                t.name: int(conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one())
                for t in metadata.sorted_tables
            }
    finally:
        engine.dispose()


@pytest.mark.parametrize("kind", KINDS)
def test_the_job_runs_on_a_node_and_its_backup_restores(
    kind: str, tmp_path: Path, clock: FakeClock, new_db: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    url = new_db(kind, "tw.db")
    folder = tmp_path / "backups"
    tw = _tw(url, tmp_path, clock, folder)
    try:
        tw.add_jobs(
            [JobSpec(target="tests.importers.sample_jobs:clean_logs", trigger="0 3 * * *",
                     id=f"job-{i}", name=f"清理 {i}") for i in range(12)]
        )  # fmt: skip
        tw.start()
        job = tw.get_job(JOB_ID)
        assert job is not None
        assert (job.group, job.record.owner) == ("tickwork", "builtin")
        assert job.next_run_time is not None
        r = _finished(tw, tw.run_job(JOB_ID))
        assert r.status == "succeeded", r.error
    finally:
        tw.shutdown(wait=True)
        tw.close()
    ext = "db" if kind == "sqlite" else "jsonl"
    path = folder / f"tickwork-store-20260105-100000.{ext}"
    assert sorted(p.name for p in folder.iterdir()) == [path.name]  # no temporary file left
    result = json.loads(r.result or "{}")
    assert result["metrics"]["file"] == str(path)
    assert result["metrics"]["verified"] is True
    assert result["findings"] == []
    counted = dict(result["tables"]["counts"]["rows"])
    assert counted["tw_job"] == 13  # the 12 and the backup job itself

    target = new_db(kind, "restored.db")
    assert main(["db", "restore", str(path), "--database-url", target]) == 0
    assert "counts verified" in capsys.readouterr().out
    restored = _counts(target)
    assert restored == {t.name: counted.get(t.name, 0) for t in metadata.sorted_tables}
    assert restored["tw_job"] == 13


@pytest.mark.sqlite
def test_rotation_keeps_recent_backups_and_the_newest(tmp_path: Path) -> None:
    folder = tmp_path / "backups"
    clock = FakeClock(T0 - 40 * DAY_S * 1_000_000)
    tw = _tw(f"sqlite:///{tmp_path / 'tw.db'}", tmp_path, clock, folder)
    try:
        tw.backup_store_now()
        clock.advance(9 * DAY_S)  # T0 - 31 days
        tw.backup_store_now()
        clock.advance(2 * DAY_S)  # T0 - 29 days
        tw.backup_store_now()
        (folder / "notes.txt").write_text("not a backup")
        (folder / "tickwork-store-old.db").write_text("not one of ours either")
        clock.advance(29 * DAY_S)  # T0
        result = tw.backup_store_now()
    finally:
        tw.close()
    assert result["metrics"]["removed"] == 2
    assert result["metrics"]["kept"] == 2
    assert sorted(p.name for p in folder.iterdir()) == [
        "notes.txt",
        "tickwork-store-20251207-100000.db",
        "tickwork-store-20260105-100000.db",
        "tickwork-store-old.db",
    ]
    assert sorted(n for [n] in result["tables"]["removed"]["rows"]) == [
        "tickwork-store-20251126-100000.db",
        "tickwork-store-20251205-100000.db",
    ]
    # all of them older than the days kept: the newest stays all the same
    report = Report()
    removed, kept = rotate(folder, T0 + 400 * DAY_S * 1_000_000, 30, report)
    assert removed == ["tickwork-store-20251207-100000.db"]
    assert kept == 1
    assert (folder / "tickwork-store-20260105-100000.db").exists()


@pytest.mark.parametrize("kind", KINDS)
def test_a_failed_backup_fails_the_run_and_leaves_no_partial_file(
    kind: str, tmp_path: Path, clock: FakeClock, new_db: Any
) -> None:
    url = new_db(kind, "tw.db")
    folder = tmp_path / "backups"
    folder.mkdir()
    ext = "db" if kind == "sqlite" else "jsonl"
    # the backup's own name is taken by a directory: written, then the rename fails
    (folder / f"tickwork-store-20260105-100000.{ext}").mkdir()
    tw = _tw(url, tmp_path, clock, folder)
    try:
        tw.start()
        r = _finished(tw, tw.run_job(JOB_ID))
        assert r.status == "failed"
        assert "could not write the store backup" in (r.error or "")
        assert "TICKWORK_STORE_BACKUP_DIR" in (r.error or "")
        assert [p.name for p in folder.iterdir()] == [f"tickwork-store-20260105-100000.{ext}"]
        assert not any((folder / f"tickwork-store-20260105-100000.{ext}").iterdir())
        # a directory that cannot be made (its parent is a file): refused, nothing written
        blocker = tmp_path / "a-file"
        blocker.write_text("x")
        with pytest.raises(Exception, match="could not write the store backup"):
            tw.backup_store_now(directory=str(blocker / "backups"))
    finally:
        tw.shutdown(wait=True)
        tw.close()


def test_the_job_is_off_without_a_directory(tmp_path: Path, clock: FakeClock) -> None:
    tw = Tickwork(settings=Settings(data_dir=tmp_path, timezone="UTC"), clock=clock)
    try:
        tw.start()
        assert tw.get_job(JOB_ID) is None
    finally:
        tw.shutdown(wait=True)
        tw.close()
    env = {"TICKWORK_STORE_BACKUP_DIR": "/var/backups/tw", "TICKWORK_STORE_BACKUP_KEEP_DAYS": "7"}
    settings = Settings.from_env(env)
    assert (settings.store_backup_dir, settings.store_backup_keep_days) == (
        Path("/var/backups/tw"),
        7.0,
    )
    assert Settings.from_env({}).store_backup_dir is None
    with pytest.raises(ValueError, match="TICKWORK_STORE_BACKUP_KEEP_DAYS"):
        Settings.from_env({"TICKWORK_STORE_BACKUP_KEEP_DAYS": "a month"})
