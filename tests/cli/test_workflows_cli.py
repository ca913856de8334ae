"""`tickwork workflows list|show|run|rerun|cancel` (issue 11), run as the real command against
a database a scheduler node in this process serves."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.engine import wf_tasks
from tickwork import Tickwork
from tickwork.engine.node import NodeOptions
from tickwork.settings import Settings

ROOT = Path(__file__).resolve().parents[2]

FILE = """
jobs:
  - {id: extract, target: tests.engine.wf_tasks:step, kwargs: {tag: extract}, cron: "0 2 * * *",
     paused: true}
  - {id: load, target: tests.engine.wf_tasks:flaky, kwargs: {tag: load}, cron: "0 2 * * *",
     paused: true}
  - {id: report, target: tests.engine.wf_tasks:step, kwargs: {tag: report}, cron: "0 2 * * *",
     paused: true}
workflows:
  - id: etl
    name: Nightly ETL
    cron: "30 1 * * *"
    steps:
      - id: extract
      - {id: load, after: [extract]}
      - {id: report, after: [load]}
"""


def tickwork(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TICKWORK_DATA_DIR": str(data_dir), "PYTHONPATH": str(ROOT)}
    env.pop("TICKWORK_DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "tickwork.cli", *args],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Path]:
    """A data directory whose database a node of this process serves, with the file synced."""
    wf_tasks.reset()
    data = tmp_path / "data"
    jobs = tmp_path / "jobs.yaml"
    jobs.write_text(FILE, encoding="utf-8")
    settings = Settings(data_dir=data, timezone="UTC", job_files=(str(jobs),))
    tw = Tickwork(
        settings=settings,
        node_options=NodeOptions(workers={"thread": 4}, poll_s=0.2, shutdown_wait_s=2),
    )
    tw.start()
    yield data
    tw.close()
    wf_tasks.reset()


def test_list_show_run_and_rerun(served: Path) -> None:
    listed = tickwork(served, "workflows", "list")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.split("\n")[1].split()[:3] == ["etl", "3", "cron"]
    shown = tickwork(served, "workflows", "show", "etl")
    assert shown.returncode == 0, shown.stderr
    assert "etl: Nightly ETL" in shown.stdout
    assert any(line.split() == ["report", "report", "load"] for line in shown.stdout.splitlines())
    wf_tasks.failures_left["load"] = 1
    failed = tickwork(served, "workflows", "run", "etl", "--wait", "--timeout", "60")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "failed" in failed.stdout
    assert "upstream failed: load" in failed.stdout
    run_id = int(failed.stdout.split()[2])  # "workflow run N of etl started"
    rerun = tickwork(served, "workflows", "rerun", str(run_id), "--wait", "--timeout", "60")
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert f"rerun of workflow run {run_id}" in rerun.stdout
    assert "succeeded (kept)" in rerun.stdout  # extract kept its success
    assert wf_tasks.order.count("extract") == 1
