"""Embedding Tickwork keeps the host's log clean: Alembic's lines ("Context impl",
"Will assume transactional DDL", "Running upgrade") go to Tickwork's logger at DEBUG, and one
INFO line says when a migration actually ran."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tickwork import Tickwork
from tickwork.settings import Settings


def test_alembic_stays_out_of_the_host_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)  # a host application logging at INFO
    settings = Settings(data_dir=tmp_path, timezone="UTC")

    Tickwork(settings=settings).close()  # a new database: the migrations run
    first = [r for r in caplog.records if r.levelno >= logging.INFO]
    assert not [r for r in first if r.name.startswith("alembic")], [r.getMessage() for r in first]
    migrated = [r for r in first if r.name == "tickwork.store.migrate"]
    assert len(migrated) == 1
    assert "migrated from an empty database" in migrated[0].getMessage()

    caplog.clear()
    Tickwork(settings=settings).close()  # every later start: not a line at INFO
    assert not [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    # Alembic's logger is left as the host configured it
    alembic = logging.getLogger("alembic")
    assert alembic.propagate is True
    assert not [h for h in alembic.handlers if type(h).__module__.startswith("tickwork")]


def test_alembic_lines_are_kept_at_debug_under_tickwork(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="tickwork.store.migrate")
    Tickwork(settings=Settings(data_dir=tmp_path, timezone="UTC")).close()
    lines = [r.getMessage() for r in caplog.records if r.name == "tickwork.store.migrate"]
    assert any(line.startswith("alembic: Running upgrade") for line in lines), lines
