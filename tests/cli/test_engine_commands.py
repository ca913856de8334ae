"""The engine's commands, as a user runs them: serve, jobs, runs, db."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def tickwork(data_dir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "TICKWORK_DATA_DIR": str(data_dir),
        "PYTHONPATH": str(ROOT),
        "TICKWORK_ALLOWED_TARGETS": "tests",  # what `jobs add` may target
    }
    env.pop("TICKWORK_DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-m", "tickwork.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


def test_db_upgrade_reports_the_revision(tmp_path: Path) -> None:
    out = tickwork(tmp_path, "db", "upgrade").stdout
    from tickwork.store.migrate import head_revision

    assert out.startswith(f"schema at revision {head_revision()} on sqlite")
    assert (tmp_path / "tickwork.db").exists()


def test_jobs_commands_round_trip(tmp_path: Path) -> None:
    added = tickwork(
        tmp_path, "jobs", "add", "nightly", "tests.service.seed_tasks:daily_cleanup_task",
        "--cron", "0 2 * * *", "--tz", "Asia/Shanghai", "--group", "maintenance", "--tag", "db",
        "--retries", "2",
    ).stdout  # fmt: skip
    assert added.startswith("added nightly: At 02:00 (Asia/Shanghai); next run 20")
    assert "+08:00" in added
    listing = tickwork(tmp_path, "jobs", "list").stdout.splitlines()
    assert listing[0].split() == ["ID", "NAME", "TRIGGER", "NEXT", "RUN", "STATE"]
    assert listing[1].startswith("nightly")
    assert listing[1].endswith("scheduled")
    shown = json.loads(tickwork(tmp_path, "jobs", "show", "nightly", "--json").stdout)
    assert (shown["group"], shown["retries"], shown["tags"]) == ("maintenance", 2, ["db"])
    assert tickwork(tmp_path, "jobs", "pause", "nightly").stdout.strip() == "paused nightly"
    assert "paused" in tickwork(tmp_path, "jobs", "list", "--state", "paused").stdout
    assert tickwork(tmp_path, "jobs", "resume", "nightly").stdout.startswith("resumed nightly")
    run_id = int(tickwork(tmp_path, "jobs", "run", "nightly").stdout)
    runs = json.loads(tickwork(tmp_path, "runs", "list", "--json").stdout)
    assert [(r["id"], r["reason"], r["status"]) for r in runs] == [(run_id, "manual", "scheduled")]
    assert tickwork(tmp_path, "jobs", "remove", "nightly").stdout.strip() == "removed nightly"
    assert tickwork(tmp_path, "jobs", "list", "--json").stdout.strip() == "[]"


def test_bad_input_exits_2_naming_the_field(tmp_path: Path) -> None:
    tickwork(tmp_path, "db", "upgrade")  # the database exists: no "created a new" note
    bad = tickwork(
        tmp_path, "jobs", "add", "x", "tests.service.seed_tasks:daily_cleanup_task",
        "--cron", "0 0 32 * *", check=False,
    )  # fmt: skip
    assert bad.returncode == 2
    assert bad.stderr.strip() == "error: trigger.day-of-month: 32 is out of range 1-31"
    missing = tickwork(tmp_path, "jobs", "add", "x", "tests.nope:f", "--every", "5", check=False)
    assert missing.returncode == 2
    assert missing.stderr.strip() == "error: target: module 'tests.nope' not found"
    unknown = tickwork(tmp_path, "jobs", "pause", "ghost", check=False)
    assert (unknown.returncode, unknown.stderr.strip()) == (1, "error: job 'ghost' does not exist")
    assert tickwork(tmp_path, "jobs", "list", "--json").stdout.strip() == "[]"


def test_serve_runs_the_demo_jobs_and_runs_list_shows_them(tmp_path: Path) -> None:
    env = {**os.environ, "TICKWORK_DATA_DIR": str(tmp_path)}
    env.pop("TICKWORK_DATABASE_URL", None)
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = str(sock.getsockname()[1])
    serve = subprocess.Popen(
        [sys.executable, "-m", "tickwork.cli", "serve", "--demo", "--port", port],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        runs: list[dict[str, object]] = []
        while time.monotonic() < deadline:
            out = tickwork(
                tmp_path, "runs", "list", "--json", "--job", "demo-heartbeat", check=False
            )
            runs = json.loads(out.stdout) if out.returncode == 0 and out.stdout.strip() else []
            if any(r["status"] == "succeeded" for r in runs):
                break
            time.sleep(0.5)
        assert any(r["status"] == "succeeded" for r in runs), runs
        table = tickwork(tmp_path, "runs", "list").stdout
        assert "demo-heartbeat" in table
        assert "succeeded" in table
        jobs = tickwork(tmp_path, "jobs", "list").stdout
        assert {"demo-heartbeat", "demo-report", "demo-flaky", "demo-slow"} <= {
            line.split()[0] for line in jobs.splitlines()[1:]
        }
        run_id = next(r["id"] for r in runs if r["status"] == "succeeded")
        shown = tickwork(tmp_path, "runs", "show", str(run_id)).stdout
        assert "heartbeat from" in shown  # the captured stdout of the run
        # a second scheduler on the same SQLite file is refused, clearly
        second = tickwork(tmp_path, "serve", check=False)
        assert second.returncode == 1
        assert "SQLite supports one scheduler node" in second.stderr
    finally:
        serve.send_signal(signal.SIGTERM)
        output = serve.communicate(timeout=60)[0]
    assert serve.returncode == 0, output
    assert "scheduler node" in output
    assert "stopped" in output
