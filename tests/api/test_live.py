"""The whole path a new user takes, against a real `tickwork serve` over HTTP: create the
first admin with the CLI, log in with a cookie session, create a job, run it and stream its
log as Server-Sent Events until it ends; then the same with an API token."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from tests.api.conftest import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
SECRET = "Canary-Live-Pa55-9d1e"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def environment(data_dir: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "TICKWORK_DATA_DIR": str(data_dir),
        "PYTHONPATH": str(ROOT),
        "TICKWORK_ALLOWED_TARGETS": "tests.api",  # what API-made jobs may target
    }
    for name in (
        "TICKWORK_DATABASE_URL",
        "TICKWORK_SECRET_KEY",
        "TICKWORK_ADMIN_USER",
        "TICKWORK_SCHEDULER_IN_PROCESS",
        "TICKWORK_TRUSTED_PROXIES",
    ):
        env.pop(name, None)
    return env


def cli(data_dir: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "tickwork.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=environment(data_dir),
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    cli(tmp_path, "init")
    cli(tmp_path, "users", "create-admin", "alice", "--password-stdin", stdin=PASSWORD + "\n")
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tickwork.cli", "serve", "--port", str(port)],
        env=environment(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            proc.kill()
            raise AssertionError(proc.communicate()[0])
        yield base, proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=60)
        if proc.stdout is not None and not proc.stdout.closed:
            proc.stdout.close()


def sse(client: httpx.Client, url: str) -> list[tuple[str, dict[str, Any]]]:
    """Read a Server-Sent-Events stream until it closes."""
    events: list[tuple[str, dict[str, Any]]] = []
    with client.stream("GET", url, timeout=60) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        name = None
        for line in response.iter_lines():
            if line.startswith("event: "):
                name = line.removeprefix("event: ")
            elif line.startswith("data: ") and name is not None:
                events.append((name, json.loads(line.removeprefix("data: "))))
    return events


def run_and_stream(client: httpx.Client, job_id: str) -> list[tuple[str, dict[str, Any]]]:
    job = {
        "id": job_id,
        "target": {"ref": "tests.api.tasks:slow_logger", "kwargs": {"lines": 4, "pause_s": 0.6}},
        "trigger": {"kind": "cron", "expr": "0 0 1 1 *"},
    }
    created = client.post("/api/jobs", json=job)
    assert created.status_code == 201, created.text
    queued = client.post(f"/api/jobs/{job_id}/run", json={})
    assert queued.status_code == 202, queued.text
    run_id = queued.json()["run_id"]
    events = sse(client, f"/api/runs/{run_id}/log/stream")
    run = client.get(f"/api/runs/{run_id}").json()
    assert run["status"] == "succeeded", run
    return events


def check_stream(events: list[tuple[str, dict[str, Any]]]) -> None:
    names = [name for name, _ in events]
    assert names[-1] == "end"
    assert events[-1][1]["status"] == "succeeded"
    assert "running" in [data.get("status") for name, data in events if name == "status"]
    text = "".join(data["text"] for name, data in events if name == "log")
    assert [f"line {i}" in text for i in range(4)] == [True] * 4
    # it streamed while running: the log arrived in more than one piece
    assert names.count("log") >= 2, events


def test_first_admin_session_and_token_manage_jobs_over_http(
    server: tuple[str, subprocess.Popen[str]],
) -> None:
    base, proc = server
    with httpx.Client(base_url=base) as browser:
        login = browser.post("/api/auth/login", json={"username": "alice", "password": PASSWORD})
        assert login.status_code == 200, login.text
        browser.headers["X-CSRF-Token"] = login.json()["csrf_token"]
        assert browser.get("/api/me").json()["user"]["role"] == "admin"
        check_stream(run_and_stream(browser, "via-session"))
        token = browser.post("/api/tokens", json={"name": "ci", "role": "admin"}).json()["token"]
        ready = browser.get("/readyz").json()
        assert ready["status"] == "ok", ready
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as bot:
        check_stream(run_and_stream(bot, "via-token"))
        listed = bot.get("/api/jobs").json()["items"]
        assert {j["id"] for j in listed} == {"via-session", "via-token"}
        assert all(j["last_run"]["status"] == "succeeded" for j in listed)
        careless = {
            "id": "careless",
            "target": {"ref": "tests.api.tasks:log_secret", "kwargs": {"password": SECRET}},
            "secret_keys": ["password"],
            "trigger": {"kind": "cron", "expr": "0 0 1 1 *"},
        }
        assert bot.post("/api/jobs", json=careless).status_code == 201
        careless_run = bot.post("/api/jobs/careless/run").json()["run_id"]
        events = sse(bot, f"/api/runs/{careless_run}/log/stream")
        assert events[-1][1]["status"] == "succeeded"
        assert "using password ******" in "".join(d.get("text", "") for _, d in events)
        metrics = bot.get("/metrics").text
        assert 'tickwork_runs_total{job="via-token",status="succeeded"} 1' in metrics
        audit = bot.get("/api/audit").json()["items"]
        assert {e["actor"] for e in audit} >= {"alice"}
    proc.terminate()
    output = proc.communicate(timeout=60)[0]
    assert proc.returncode == 0, output
    assert token not in output
    assert SECRET not in output
    assert "using password ******" in output  # the server log has the line, masked
    assert PASSWORD not in output
    assert "scheduler node" in output
