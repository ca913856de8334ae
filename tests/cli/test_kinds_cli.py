"""`tickwork jobs add --shell/--http/--sql/--script`, `tickwork connections` and `tickwork
scripts` (issue 17), run as the real command; connection secrets (canaries) never appear in
what it prints."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CANARY = "canary-cli-pa55-0c41"


def tickwork(
    data_dir: Path, *args: str, stdin: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "TICKWORK_DATA_DIR": str(data_dir), "PYTHONPATH": str(ROOT), **env}
    full.pop("TICKWORK_DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "tickwork.cli", *args],
        capture_output=True, text=True, env=full, timeout=120, check=False, input=stdin,
    )  # fmt: skip


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    assert CANARY not in result.stdout + result.stderr
    return result.stdout


def test_connections_scripts_and_jobs_of_every_kind(tmp_path: Path) -> None:
    data = tmp_path / "data"
    target_db = tmp_path / "target.db"
    import sqlite3

    sqlite3.connect(target_db).close()
    added = ok(tickwork(
        data, "connections", "add", "wh", "database", "--set", f"url=sqlite:///{target_db}",
    ))  # fmt: skip
    assert "wh (database) version 1" in added
    ok(tickwork(
        data, "connections", "add", "api", "http", "--set", "base_url=https://api.example.com",
        "--secret", "auth_value", stdin=f"Bearer {CANARY}\n",
    ))  # fmt: skip
    shown = ok(tickwork(data, "connections", "show", "api"))
    assert "auth_value: ******" in shown
    listed = ok(tickwork(data, "connections", "list", "--json"))
    assert {c["name"] for c in json.loads(listed)} == {"wh", "api"}
    tested = ok(tickwork(data, "connections", "test", "wh"))
    assert "wh: ok: connected to sqlite" in tested

    script = tmp_path / "report.py"
    script.write_text("print('report v1')\n")
    assert "report: version 1" in ok(tickwork(data, "scripts", "push", str(script), "-m", "first"))
    script.write_text("print('report v2')\n")
    assert "report: version 2" in ok(tickwork(data, "scripts", "push", str(script), "-m", "second"))
    history = ok(tickwork(data, "scripts", "history", "report"))
    assert "second" in history
    assert "first" in history
    assert (
        ok(tickwork(data, "scripts", "show", "report", "--version", "1")) == "print('report v1')\n"
    )

    jobs = {
        "sh": ["--shell", "pg_dump -Fc app > /tmp/app.dump", "--env", "PGHOST=db"],
        "hook": ["--http", "/health", "--connection", "api", "--method", "POST"],
        "count": ["--sql", "wh", "SELECT 1", "--read-only"],
        "rep": ["--script", "report", "--version", "2"],
    }
    for job_id, flags in jobs.items():
        out = ok(tickwork(data, "jobs", "add", job_id, *flags, "--cron", "0 3 * * *"))
        assert f"added {job_id} (" in out
    shown_jobs = json.loads(ok(tickwork(data, "jobs", "list", "--json")))
    # job-file entries: a non-Python target is its mapping with its kind
    targets = {
        j["id"]: (j["target"]["kind"], {k: v for k, v in j["target"].items() if k != "kind"})
        for j in shown_jobs
    }
    assert targets["sh"] == ("shell", {
        "command": "pg_dump -Fc app > /tmp/app.dump", "shell": True, "env": {"PGHOST": "db"},
    })  # fmt: skip
    assert targets["hook"] == ("http", {
        "method": "POST", "url": "/health", "connection": "api", "timeout_s": 30.0,
    })  # fmt: skip
    assert targets["count"][1]["read_only"] is True
    assert targets["rep"] == ("script", {"language": "python", "script": "report", "version": 2})
    # a connection in use is not removed
    refused = tickwork(data, "connections", "remove", "api")
    assert refused.returncode == 1
    assert "used by job(s) hook" in refused.stderr


def test_bad_kind_options_are_refused_naming_them(tmp_path: Path) -> None:
    data = tmp_path / "data"
    cases = [
        (["--shell", "true", "--http", "https://x.org"], "target"),
        (["--http", "ftp://x.org/"], "target.url"),
        (["--sql", "missing", "SELECT 1"], "target.connection"),
        (["--script", "missing"], "script"),
    ]
    for flags, field in cases:
        result = tickwork(data, "jobs", "add", "bad", *flags, "--cron", "0 3 * * *")
        assert result.returncode in (1, 2), result
        assert field in result.stderr, (flags, result.stderr)


def test_shell_jobs_switched_off(tmp_path: Path) -> None:
    result = tickwork(
        tmp_path / "data", "jobs", "add", "sh", "--shell", "true", "--cron", "0 3 * * *",
        TICKWORK_SHELL="off",
    )  # fmt: skip
    assert result.returncode == 2
    assert "TICKWORK_SHELL=off" in result.stderr
