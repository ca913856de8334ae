"""examples/fastapi-async (seed 002) through FastAPI's TestClient on SQLite, with an injected
clock: the JSON task configuration loaded at start, 6-field cron, interval, date and delayed
jobs, the registry/controller operations as routes, async jobs' results on their run records,
and the per-job statistics and slow-task listing."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from tests.examples.conftest import load
from tests.integrations.gunicorn import wait_for
from tickwork import Tickwork
from tickwork.clock import FakeClock

pytestmark = pytest.mark.sqlite

SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 3, 2, 1, 0, tzinfo=SHANGHAI)  # a Monday, 01:00
CLOCK: dict[str, FakeClock] = {}  # the test's clock, for slow_job


async def slow_job(seconds: float) -> dict[str, float]:
    """A job that takes ``seconds`` of the injected clock (no real waiting)."""
    CLOCK["now"].advance(seconds)
    return {"took_s": seconds}


def finished(client: TestClient, run_id: int) -> dict[str, Any]:
    wait_for(f"run {run_id}", lambda: client.get(f"/runs/{run_id}").json()["status"]
             not in ("scheduled", "running"))  # fmt: skip
    return client.get(f"/runs/{run_id}").json()  # type: ignore[no-any-return]


def test_fastapi_async(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TICKWORK_ELECTION_DIR", str(tmp_path / "host"))
    monkeypatch.setenv("APP_DB", str(tmp_path / "app.db"))
    CLOCK["now"] = clock = FakeClock(int(START.timestamp()) * 1_000_000)
    mod = load("fastapi-async", "main")
    config = tmp_path / "tasks.json"
    config.write_text((Path(mod.HERE) / "config" / "tasks.json").read_text("utf-8"), "utf-8")
    tw = Tickwork(f"sqlite:///{tmp_path / 'tw.db'}", timezone="Asia/Shanghai", clock=clock,
                  job_defaults=mod.JOB_DEFAULTS)  # fmt: skip
    app = mod.create_app(tw, config, (*mod.ALLOWED_FUNCS, f"{__name__}:slow_job"))
    with TestClient(app) as client:
        tasks = {t["id"]: t for t in client.get("/tasks").json()}
        # the JSON configuration and the 6-field cron string, read as the seed meant them
        assert set(tasks) == {"daily_cleanup", "health_check", "data_backup", "weekly_report"}
        assert tasks["daily_cleanup"]["next_run_time"] == "2026-03-02T02:00:00+08:00"
        assert tasks["weekly_report"]["next_run_time"] == "2026-03-02T09:00:00+08:00"
        assert tasks["health_check"]["next_run_time"] == "2026-03-02T01:30:00+08:00"
        assert tw.get_job("daily_cleanup").name == "每日清理任务"  # type: ignore[union-attr]

        bad = client.post("/tasks", json={"task_id": "x", "task_func": "services:weekly_report",
                                          "cron": "0 9 * * 1"})  # fmt: skip
        assert bad.status_code == 422
        assert bad.json()["detail"]["field"] == "cron"

        made = client.post(
            "/tasks",
            json={
                "task_id": "monthly",
                "task_func": "services:weekly_report",
                "cron": "0 0 12 1 * *",
            },
        )
        assert made.status_code == 201
        assert made.json()["next_run_time"] == "2026-04-01T12:00:00+08:00"
        made = client.post(
            "/tasks",
            json={
                "task_id": "year_end",
                "task_func": "services:weekly_report",
                "run_date": "2026-12-31T23:59:59+08:00",
            },
        )
        assert made.json()["next_run_time"] == "2026-12-31T23:59:59+08:00"

        # controller: stop / start / modify / remove
        assert client.post("/tasks/health_check/stop").json()["paused"] is True
        assert client.post("/tasks/health_check/start").json()["paused"] is False
        changed = client.put("/tasks/health_check/trigger",
                             json={"trigger_args": {"minutes": 10}}).json()  # fmt: skip
        assert changed["next_run_time"] == "2026-03-02T01:10:00+08:00"
        assert client.delete("/tasks/year_end").status_code == 204
        assert client.get("/tasks/year_end").status_code == 404

        # an async job run now: its result on the run record
        client.post("/visits/home")
        run = finished(client, client.post("/tasks/weekly_report/run").json()["run_id"])
        assert run["status"] == "succeeded", run["error"]
        assert json.loads(run["result"]) == {"visits": {"home": 1}}

        # a delayed job: due 30 s later on the app's clock, run when the clock gets there
        job = client.post("/tasks/delayed", json={
            "task_func": "tests.examples.test_fastapi_async:slow_job",
            "delay_seconds": 30, "kwargs": {"seconds": 3}}).json()  # fmt: skip
        assert job["next_run_time"] == "2026-03-02T01:00:30+08:00"
        assert not tw.get_runs(job["id"])
        clock.advance(31)
        wait_for("the delayed job", lambda: [r.status for r in tw.get_runs(job["id"])]
                 == ["succeeded"])  # fmt: skip

        # statistics from the run records: the delayed job took 3 s of the clock
        report = client.get("/monitor/performance").json()
        assert report["task_details"][job["id"]]["avg_execution_time"] == pytest.approx(3.0)
        assert report["task_details"]["weekly_report"]["execution_count"] == 1
        slow = client.get("/monitor/slow", params={"threshold": 1.0}).json()
        assert [s["task_id"] for s in slow] == [job["id"]]
        events = client.get("/monitor/events").json()
        assert {"event": "executed", "job_id": "weekly_report"} in [
            {k: e[k] for k in ("event", "job_id")} for e in events
        ]

        # the configuration written back in the seed's shape
        client.delete(f"/tasks/{job['id']}")
        saved = client.post("/config/save").json()
        assert {t["task_id"] for t in saved} == {
            "daily_cleanup",
            "health_check",
            "data_backup",
            "weekly_report",
            "monthly",
        }
        weekly = next(t for t in saved if t["task_id"] == "weekly_report")
        assert weekly["trigger_type"] == "cron"
        assert json.loads(config.read_text("utf-8")) == saved
