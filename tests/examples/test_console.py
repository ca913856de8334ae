"""examples/console (seed 004) started the way its README says (``python start.py``) as a
subprocess on SQLite in tmp_path: the default_tasks jobs, the script job, the backup and
log-cleanup template jobs, the workflow, the groups, the alert channels (disabled placeholders)
and the failure rule exist, read back through the REST API; the workflow's first step runs."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx2 as httpx

from tests.api.test_live import free_port
from tests.examples.conftest import EXAMPLES, load
from tickwork import Tickwork

PASSWORD = "correct horse battery staple"


def test_console(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TICKWORK_")}
    env.update(CONSOLE_USERDATA=str(tmp_path / "userdata"), PORT=str(port),
               TICKWORK_ADMIN_USER="admin", TICKWORK_ADMIN_PASSWORD=PASSWORD)  # fmt: skip
    log = open(tmp_path / "console.log", "wb")  # noqa: SIM115 (closed below)
    proc = subprocess.Popen([sys.executable, "start.py"], cwd=EXAMPLES / "console", env=env,
                            stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 40
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError((tmp_path / "console.log").read_text())
            time.sleep(0.2)
        with httpx.Client(base_url=base, timeout=10) as c:
            login = c.post("/api/auth/login", json={"username": "admin", "password": PASSWORD})
            assert login.status_code == 200, login.text
            c.headers["X-CSRF-Token"] = login.json()["csrf_token"]

            def get(path: str) -> Any:
                r = c.get(path)
                assert r.status_code == 200, (path, r.text)
                return r.json()

            def job_ids() -> set[str]:
                return {j["id"] for j in get("/api/jobs?limit=100")["items"]}

            # the job files are synced by the scheduler process as it starts
            expected = {
                "cleanup_old_logs", "sync_accounts", "collect_database_sizes",
                "calculate_database_size_aggregations", "monitor_partition_health",
                "weekly_capacity_report", "backup_scheduler_data", "cleanup_log_files",
            }  # fmt: skip
            deadline = time.monotonic() + 30
            while not expected <= job_ids():
                assert time.monotonic() < deadline, job_ids()
                time.sleep(0.2)
            jobs = {j["id"]: j for j in get("/api/jobs?limit=100")["items"]}
            # default_tasks: category -> group, file-owned, enabled: false -> paused
            assert (jobs["sync_accounts"]["group"], jobs["sync_accounts"]["owner"]) == (
                "sync", "config")  # fmt: skip
            assert jobs["sync_accounts"]["target"]["ref"] == "tasks:sync_accounts"
            assert jobs["collect_database_sizes"]["paused"] is True
            assert jobs["weekly_capacity_report"]["target"]["kind"] == "script"

            (flow,) = get("/api/workflows")["items"]
            assert flow["id"] == "size-statistics"
            assert [(s["id"], s["after"]) for s in flow["steps"]] == [
                ("collect_database_sizes", []),
                ("calculate_database_size_aggregations",
                 [{"step": "collect_database_sizes", "on": "success"}])]  # fmt: skip

            groups = {g["name"]: g for g in get("/api/groups")["items"] if g["declared"]}
            assert set(groups) == {"maintenance", "sync", "processing", "monitoring"}
            assert groups["sync"]["description"].startswith("数据同步任务")

            (backup,) = get("/api/templates/db-backup/jobs")["items"]
            assert (backup["job_id"], backup["params"]["keep"]) == ("backup_scheduler_data", 30)
            (cleanup,) = get("/api/templates/log-cleanup/jobs")["items"]
            assert (cleanup["job_id"], cleanup["params"]["dry_run"]) == ("cleanup_log_files", True)

            channels = {ch["name"]: ch for ch in get("/api/alerts/channels")["items"]}
            assert {n: (ch["kind"], ch["enabled"]) for n, ch in channels.items()} == {
                "admin-email": ("email", False), "ops-dingtalk": ("dingtalk", False)}  # fmt: skip
            assert channels["ops-dingtalk"]["fields"]["secret"] == "******"
            (rule,) = get("/api/alerts/rules")["items"]
            assert (rule["kind"], rule["scope"], sorted(rule["channels"])) == (
                "failed", "all", ["admin-email", "ops-dingtalk"])  # fmt: skip
            (script,) = get("/api/scripts")["items"]
            assert script["used_by"] == ["weekly_capacity_report"]

            # the scheduled backup of the store, run now: a checked copy in userdata/backups
            started = c.post("/api/jobs/backup_scheduler_data/run")
            assert started.status_code in (200, 201, 202), started.text
            run_id = started.json()["run_id"]
            deadline = time.monotonic() + 30
            while (run := get(f"/api/runs/{run_id}"))["status"] in ("scheduled", "running"):
                assert time.monotonic() < deadline, run
                time.sleep(0.2)
            assert run["status"] == "succeeded", run
            dumps = sorted((tmp_path / "userdata/backups").glob("scheduler_store-*.sqlite3"))
            assert len(dumps) == 1
            assert Path(f"{dumps[0]}.sha256").exists()
        proc.terminate()
        proc.wait(30)
        # the next start declares nothing twice
        start = load("console", "start")
        env2 = start.environment(env)
        tw = Tickwork(env2["TICKWORK_DATABASE_URL"])
        try:
            start.setup(tw, env2)
            assert len([g for g in tw.list_groups() if g.record.declared]) == 4
            assert len(tw.alert_channels()) == 2
            assert len(tw.alert_rules()) == 1
        finally:
            tw.close()
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(30)
        log.close()
