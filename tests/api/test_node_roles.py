"""A deployment of separate processes: an API-only node (`tickwork serve --no-scheduler`) and
a scheduler-only node (`tickwork serve --no-api`) on one database. Both appear in the node
table with their roles, the API node runs nothing, the scheduler node runs the jobs."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx2 as httpx

from tests.api.conftest import PASSWORD
from tests.api.test_live import cli, environment, free_port


def test_api_and_scheduler_nodes_run_apart_and_both_are_listed(tmp_path: Path) -> None:
    cli(tmp_path, "init")
    cli(tmp_path, "users", "create-admin", "alice", "--password-stdin", stdin=PASSWORD + "\n")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "tickwork.cli", "serve"]
    api = subprocess.Popen(
        [*command, "--no-scheduler", "--port", str(port)],
        env=environment(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    scheduler = subprocess.Popen(
        [*command, "--no-api"],
        env=environment(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    clients: list[httpx.Client] = []
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the API node did not come up"
                time.sleep(0.1)
        client = httpx.Client(base_url=base, timeout=10)
        clients.append(client)
        login = client.post("/api/auth/login", json={"username": "alice", "password": PASSWORD})
        assert login.status_code == 200, login.text
        client.headers["X-CSRF-Token"] = login.json()["csrf_token"]

        def roles() -> list[str]:
            nodes = client.get("/api/scheduler").json()["nodes"]
            return sorted(n["roles"] for n in nodes if n["alive"])

        deadline = time.monotonic() + 30
        while roles() != ["api", "scheduler"]:
            assert time.monotonic() < deadline, roles()
            time.sleep(0.2)
        job = {"id": "apart", "target": {"ref": "tests.api.tasks:noop"},
               "trigger": {"kind": "cron", "expr": "0 0 1 1 *"}}  # fmt: skip
        assert client.post("/api/jobs", json=job).status_code == 201
        run_id = client.post("/api/jobs/apart/run", json={}).json()["run_id"]
        deadline = time.monotonic() + 30
        while (run := client.get(f"/api/runs/{run_id}").json())["status"] != "succeeded":
            assert time.monotonic() < deadline, run
            time.sleep(0.2)
        status = client.get("/api/scheduler").json()
        nodes = {n["id"]: n["roles"] for n in status["nodes"]}
        assert nodes[run["node_id"]] == "scheduler"  # the API process ran nothing
        # the node answering is the API node (the dashboard marks it "this server")
        assert status["this_node"]["scheduler"] is False
        assert nodes[status["this_node"]["node_id"]] == "api"
    finally:
        for c in clients:
            c.close()
        for proc in (scheduler, api):
            proc.terminate()
            output = proc.communicate(timeout=60)[0]
            assert proc.returncode == 0, output
