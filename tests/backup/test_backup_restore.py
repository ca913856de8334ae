"""``tickwork db backup`` and ``tickwork db restore`` round-trip on SQLite, PostgreSQL and
MariaDB (every row of every table comes back), a SQLite store moves to PostgreSQL through the
portable dump, and restore refuses a damaged dump, a non-empty store and live nodes."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests import dbs
from tickwork.accounts.records import Principal
from tickwork.accounts.roles import Role
from tickwork.cli import main
from tickwork.jobspec import JobSpec
from tickwork.service import Tickwork
from tickwork.settings import Settings
from tickwork.store.tables import metadata


def _fill(url: str, data_dir: Path) -> None:
    tw = Tickwork(settings=Settings(data_dir=data_dir, database_url=url))
    try:
        tw.accounts.set_secret_key(secrets.token_urlsafe(32))
        user = tw.accounts.create_user("ops.lead", secrets.token_urlsafe(16), "operator", by="test")
        tw.accounts.create_token(Principal(user.id, user.username, Role.OPERATOR, "t"), "ci")
        tw.add_jobs(
            [
                JobSpec(
                    target="tests.importers.sample_jobs:clean_logs",
                    trigger="0 3 * * *",
                    id=f"job-{i}",
                    name=f"清理 {i}",
                    kwargs={"dry": i % 2 == 0},
                    tags=["a", "b"],
                    group="g",
                )
                for i in range(30)
            ]
        )
        tw.add_connection(
            "warehouse",
            "http",
            {
                "base_url": "https://example.com",
                "auth_header": "Authorization",
                "auth_value": "Bearer s3",
            },
        )
        for i in range(5):
            tw.run_job(f"job-{i}")
        tw.pause_job("job-7")
    finally:
        tw.close()


def _snapshot(url: str) -> dict[str, list[dict[str, Any]]]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            out = {}
            for table in metadata.sorted_tables:
                pk = list(table.primary_key.columns)
                rows = conn.execute(sa.select(table).order_by(*pk)).all()
                out[table.name] = [dict(r._mapping) for r in rows]
            return out
    finally:
        engine.dispose()


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[Any]:
    """Fresh empty databases of a kind, dropped afterwards."""
    made: list[Iterator[str]] = []

    def make(kind: str) -> str:
        if kind == "sqlite":
            return f"sqlite:///{tmp_path / f'restored-{len(made)}.db'}"
        gen = dbs.create_database(kind)
        made.append(gen)
        return next(gen)

    yield make
    for gen in made:
        next(gen, None)


def test_round_trip_on_each_store(
    backend: str, db_url: str, tmp_path: Path, fresh: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    _fill(db_url, tmp_path)
    before = _snapshot(db_url)
    assert len(before["tw_job"]) == 30
    assert len(before["tw_run"]) == 5
    assert before["tw_connection"][0]["secret"]  # sealed, and restored as sealed
    path = tmp_path / "backup.twb"
    assert main(["db", "backup", str(path), "--database-url", db_url]) == 0
    out = capsys.readouterr().out
    kind = "SQLite backup" if backend == "sqlite" else "portable dump"
    assert out.startswith(f"{kind} {path}:")
    target = fresh(backend)
    assert main(["db", "restore", str(path), "--database-url", target]) == 0
    assert "counts verified" in capsys.readouterr().out
    after = _snapshot(target)
    assert after == before
    # the restored store works: new rows get fresh ids (PostgreSQL's sequences were reset)
    tw = Tickwork(settings=Settings(data_dir=tmp_path, database_url=target))
    try:
        run_id = tw.run_job("job-1")
        assert run_id > max(r["id"] for r in before["tw_run"])
        assert tw.get_job("job-7").paused  # type: ignore[union-attr]
    finally:
        tw.close()
    # into a store that is no longer empty: refused, nothing written
    assert main(["db", "restore", str(path), "--database-url", target]) == 1
    assert "the target database is not empty" in capsys.readouterr().err


@pytest.mark.postgres
def test_sqlite_store_moves_to_postgres(
    tmp_path: Path, fresh: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    source = f"sqlite:///{tmp_path / 'tw.db'}"
    _fill(source, tmp_path)
    dump = tmp_path / "tw.jsonl"
    assert main(["db", "backup", str(dump), "--portable", "--database-url", source]) == 0
    header = json.loads(dump.read_text(encoding="utf-8").splitlines()[0])
    assert header["format"] == "tickwork-dump"
    assert header["version"] == 1
    assert header["counts"]["tw_job"] == 30
    assert len(header["sha256"]) == 64
    target = fresh("postgres")
    assert main(["db", "restore", str(dump), "--database-url", target]) == 0
    assert _snapshot(target) == _snapshot(source)
    capsys.readouterr()


@pytest.mark.sqlite
def test_restore_refuses_damage_and_live_nodes(
    tmp_path: Path, fresh: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    source = f"sqlite:///{tmp_path / 'tw.db'}"
    _fill(source, tmp_path)
    dump = tmp_path / "tw.jsonl"
    assert main(["db", "backup", str(dump), "--portable", "--database-url", source]) == 0
    damaged = tmp_path / "damaged.jsonl"
    damaged.write_text(dump.read_text(encoding="utf-8").replace("清理 3", "清理 4"), "utf-8")
    target = fresh("sqlite")
    assert main(["db", "restore", str(damaged), "--database-url", target]) == 1
    assert "does not match its sha256 (nothing was written)" in capsys.readouterr().err
    not_a_backup = tmp_path / "notes.txt"
    not_a_backup.write_text("hello\n")
    assert main(["db", "restore", str(not_a_backup), "--database-url", target]) == 1
    assert "neither a Tickwork dump nor a SQLite backup" in capsys.readouterr().err

    live = Tickwork(settings=Settings(data_dir=tmp_path / "live", database_url=target))
    live.start()  # a scheduler node on the target database
    try:
        assert main(["db", "restore", str(dump), "--database-url", target]) == 1
        assert "node(s) are running on this database" in capsys.readouterr().err
        assert main(["db", "restore", str(dump), "--database-url", target, "--stop-nodes"]) == 0
    finally:
        live.shutdown(wait=False)
        live.close()
    assert len(_snapshot(target)["tw_job"]) == 30
