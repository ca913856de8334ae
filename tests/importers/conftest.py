from __future__ import annotations

from pathlib import Path

import pytest

SAMPLES = Path(__file__).parent / "samples"


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh SQLite store for the CLI; the sample functions' module is an allowed target."""
    monkeypatch.setenv("TICKWORK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("TICKWORK_DATABASE_URL", raising=False)
    monkeypatch.setenv("TICKWORK_ALLOWED_TARGETS", "tests.importers")
    monkeypatch.setenv("TZ", "UTC")
    return tmp_path / "data"
