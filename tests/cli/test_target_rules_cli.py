"""`tickwork jobs add` obeys the target rules of the API (issue 9, item 1): the denylist
whatever the allowlist says, and the allowlist before the target is even imported."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def add(data_dir: Path, job_id: str, target: str, allowed: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TICKWORK_DATA_DIR": str(data_dir), "PYTHONPATH": str(ROOT),
           "TICKWORK_ALLOWED_TARGETS": allowed}  # fmt: skip
    env.pop("TICKWORK_DATABASE_URL", None)
    command = ["jobs", "add", job_id, target, "--cron", "0 2 * * *"]
    return subprocess.run(
        [sys.executable, "-m", "tickwork.cli", *command],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )  # fmt: skip


def test_jobs_add_refuses_denied_and_unlisted_targets(tmp_path: Path) -> None:
    shell = add(tmp_path, "shell", "subprocess:run", "*")
    assert shell.returncode == 2
    assert "target" in shell.stderr
    assert "subprocess" in shell.stderr
    # outside the list: refused before the module is imported (importing it would raise)
    unlisted = add(tmp_path, "sentinel", "tests.api.import_sentinel:job", "tests.cli")
    assert unlisted.returncode == 2
    assert "TICKWORK_ALLOWED_TARGETS" in unlisted.stderr
    assert "imported user code" not in unlisted.stderr
    listed = add(tmp_path, "fine", "tests.service.seed_tasks:daily_cleanup_task", "tests.service")
    assert listed.returncode == 0, listed.stderr
    listing = subprocess.run(
        [sys.executable, "-m", "tickwork.cli", "jobs", "list"],
        capture_output=True, text=True, check=True, timeout=60,
        env={**os.environ, "TICKWORK_DATA_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)},
    ).stdout  # fmt: skip
    assert [line.split()[0] for line in listing.splitlines()[1:]] == ["fine"]


def test_jobs_import_checks_every_target_before_importing_one(tmp_path: Path) -> None:
    env = {**os.environ, "TICKWORK_DATA_DIR": str(tmp_path), "PYTHONPATH": str(ROOT),
           "TICKWORK_ALLOWED_TARGETS": "tests.cli"}  # fmt: skip
    env.pop("TICKWORK_DATABASE_URL", None)

    def imported(*entries: dict[str, str]) -> subprocess.CompletedProcess[str]:
        path = tmp_path / "jobs.json"
        path.write_text(json.dumps(list(entries)))
        return subprocess.run(
            [sys.executable, "-m", "tickwork.cli", "jobs", "import", str(path)],
            capture_output=True, text=True, env=env, timeout=60, check=False,
        )  # fmt: skip

    fine = {"id": "fine", "target": "tests.cli.test_target_rules_cli:add", "cron": "0 2 * * *"}
    shell = imported(fine, {"id": "shell", "target": "subprocess:run", "cron": "0 2 * * *"})
    assert shell.returncode == 2
    assert "target" in shell.stderr
    assert "subprocess" in shell.stderr
    sentinel = {"id": "s", "target": "tests.api.import_sentinel:job", "cron": "0 2 * * *"}
    unlisted = imported(fine, sentinel)
    assert unlisted.returncode == 2
    assert "TICKWORK_ALLOWED_TARGETS" in unlisted.stderr
    assert "imported user code" not in unlisted.stderr  # refused before the import
    listing = subprocess.run(
        [sys.executable, "-m", "tickwork.cli", "jobs", "list"],
        capture_output=True, text=True, env=env, timeout=60, check=True,
    ).stdout  # fmt: skip
    assert listing.splitlines()[1:] == []  # nothing half-imported
