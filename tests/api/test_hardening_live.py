"""Issue 9 against a real ``tickwork serve`` over HTTP: where job bodies run (item 1), which
client address is believed (item 8) and what 40 concurrent password guesses cost (item 5)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx2 as httpx
import pytest

from tests.api.conftest import PASSWORD
from tests.api.test_live import cli, environment, free_port


@contextlib.contextmanager
def serve(
    data_dir: Path, *args: str, env: dict[str, str] | None = None
) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """A `tickwork serve` on a free port of 127.0.0.1, with an admin 'alice'."""
    if not (data_dir / "secret_key").exists():
        cli(data_dir, "init")
        cli(data_dir, "users", "create-admin", "alice", "--password-stdin", stdin=PASSWORD + "\n")
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tickwork.cli", "serve", "--port", str(port), *args],
        env={**environment(data_dir), **(env or {})},
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
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.stdout is not None and not proc.stdout.closed:
            proc.stdout.close()


@contextlib.contextmanager
def admin_client(base: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base, timeout=30) as client:
        login = client.post("/api/auth/login", json={"username": "alice", "password": PASSWORD})
        assert login.status_code == 200, login.text
        client.headers["X-CSRF-Token"] = login.json()["csrf_token"]
        yield client


def wait_until(predicate: object, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {predicate}")


def pid_of_a_run(client: httpx.Client, out: Path) -> int:
    job = {
        "id": "where",
        "target": {"ref": "tests.api.tasks:record_pid", "kwargs": {"out": str(out)}},
        "trigger": {"kind": "cron", "expr": "0 0 1 1 *"},
    }
    assert client.post("/api/jobs", json=job).status_code == 201
    run_id = client.post("/api/jobs/where/run").json()["run_id"]
    wait_until(lambda: client.get(f"/api/runs/{run_id}").json()["status"] == "succeeded")
    return int(out.read_text())


def parent_of(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[1])


def test_job_bodies_run_in_a_supervised_child_not_in_the_api_process(tmp_path: Path) -> None:
    with serve(tmp_path) as (base, proc), admin_client(base) as client:
        ran_in = pid_of_a_run(client, tmp_path / "pid")
        assert ran_in != proc.pid
        assert parent_of(ran_in) == proc.pid  # the scheduler child of this server
        wait_until(lambda: client.get("/readyz").status_code == 200)
        os.kill(ran_in, signal.SIGKILL)  # the scheduler process dies
        wait_until(lambda: client.get("/readyz").status_code == 503, 30)
        down = client.get("/readyz").json()
        assert "scheduler" in down["checks"]["scheduler"], down
        # the API answers meanwhile, and the supervisor starts a new scheduler process
        assert client.get("/api/jobs").status_code == 200
        wait_until(lambda: client.get("/readyz").status_code == 200, 60)
        (tmp_path / "pid").unlink()
        run_id = client.post("/api/jobs/where/run").json()["run_id"]
        wait_until(lambda: client.get(f"/api/runs/{run_id}").json()["status"] == "succeeded")
        again = int((tmp_path / "pid").read_text())
        assert again not in (proc.pid, ran_in)
        assert parent_of(again) == proc.pid


def test_in_process_is_an_explicit_choice(tmp_path: Path) -> None:
    with serve(tmp_path, "--in-process") as (base, proc), admin_client(base) as client:
        assert pid_of_a_run(client, tmp_path / "pid") == proc.pid
    output = proc.stdout.read() if proc.stdout and not proc.stdout.closed else ""
    assert "job bodies run in this process" in output or proc.returncode == 0


@pytest.mark.parametrize("trusted", [False, True])
def test_x_forwarded_for_is_believed_only_from_configured_proxies(
    tmp_path: Path, trusted: bool
) -> None:
    env = {"TICKWORK_TRUSTED_PROXIES": "127.0.0.1"} if trusted else {}
    with serve(tmp_path, "--no-scheduler", env=env) as (base, _):
        forged = {"X-Forwarded-For": "203.0.113.9"}
        with httpx.Client(base_url=base, timeout=30) as client:
            login = client.post(
                "/api/auth/login",
                json={"username": "alice", "password": PASSWORD},
                headers=forged,
            )
            assert login.status_code == 200, login.text
    import sqlalchemy as sa

    engine = sa.create_engine(f"sqlite:///{tmp_path / 'tickwork.db'}")
    try:
        with engine.connect() as conn:
            seen = {r[0] for r in conn.execute(sa.text("SELECT address FROM tw_session"))}
    finally:
        engine.dispose()
    assert seen == ({"203.0.113.9"} if trusted else {"127.0.0.1"})


def peak_memory_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


def test_concurrent_password_guesses_are_bounded(tmp_path: Path) -> None:
    """Each argon2id check takes 64 MiB: 24 concurrent guesses took 24 x 64 MiB before. Now
    at most a few are checked at once and the rest are answered 429 at once."""
    with serve(tmp_path, "--no-scheduler") as (base, proc):
        with httpx.Client(base_url=base, timeout=60) as warm:  # the server's own baseline
            warm.post("/api/auth/login", json={"username": "alice", "password": PASSWORD})
        before = peak_memory_kib(proc.pid)

        def guess(i: int) -> int:
            with httpx.Client(base_url=base, timeout=120) as client:
                body = {"username": f"nobody-{i}", "password": f"wrong password {i:04d}"}
                return client.post("/api/auth/login", json=body).status_code

        with ThreadPoolExecutor(24) as pool:
            statuses = list(pool.map(guess, range(24)))
        grown_mib = (peak_memory_kib(proc.pid) - before) / 1024
    assert grown_mib < 6 * 64, f"peak memory grew by {grown_mib:.0f} MiB"
    assert set(statuses) <= {401, 429}, statuses
    assert statuses.count(429) >= 1, statuses  # some were refused without hashing
