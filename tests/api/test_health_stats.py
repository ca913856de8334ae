"""/healthz, /readyz levels, /metrics, scheduler status and run statistics."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.api.conftest import Api, job_body
from tickwork.store.runs import NewRun

SEC = 1_000_000

# Readiness, heartbeats, run times and statistics windows read the clock: each test runs at
# every instant of tests.conftest.INSTANTS (time-machine moves the process's wall clock).
pytestmark = pytest.mark.usefixtures("travel")


def test_healthz_needs_nothing(lite_api: Api) -> None:
    response = lite_api.client().get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})
    assert "content-security-policy" in response.headers


def test_readyz_levels(lite_api: Api) -> None:
    client = lite_api.client()
    stopped = client.get("/readyz")
    assert stopped.status_code == 503
    assert stopped.json()["status"] == "error"
    lite_api.tw.start()
    try:
        empty = client.get("/readyz").json()
        assert (empty["status"], empty["message"]) == ("warning", "no jobs are configured")
        lite_api.client("admin").post("/api/jobs", json=job_body("r", paused=True))
        paused = client.get("/readyz").json()
        assert paused["status"] == "warning"
        assert "paused" in paused["message"]
        lite_api.client("operator").post("/api/jobs/r/resume")
        ok = client.get("/readyz")
        assert (ok.status_code, ok.json()["status"]) == (200, "ok")
        lite_api.tw.pause()
        assert client.get("/readyz").json()["message"] == "the scheduler is paused"
        lite_api.tw.resume()
        status = lite_api.client("viewer").get("/api/scheduler").json()
        assert status["this_node"]["scheduler"] is True
        assert status["this_node"]["loop_alive"] is True
        assert len(status["nodes"]) == 1
        assert status["nodes"][0]["alive"] is True
        assert status["jobs"] == {"total": 1, "scheduled": 1, "paused": 0, "completed": 0}
    finally:
        lite_api.tw.shutdown(wait=True)


def test_metrics_count_runs_and_read_gauges(lite_api: Api) -> None:
    admin = lite_api.client("admin")
    admin.post("/api/jobs", json=job_body("m", target={"ref": "tests.api.tasks:noop"}))
    assert lite_api.client().get("/metrics").status_code == 401
    lite_api.tw.start()
    try:
        run_id = admin.post("/api/jobs/m/run").json()["run_id"]
        deadline = time.monotonic() + 20
        while admin.get(f"/api/runs/{run_id}").json()["status"] != "succeeded":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        deadline = time.monotonic() + 5
        while True:  # events reach the counters on the event thread, just after the commit
            text = lite_api.client("viewer").get("/metrics").text
            if 'tickwork_runs_total{job="m",status="succeeded"} 1' in text:
                break
            assert time.monotonic() < deadline, text
            time.sleep(0.05)
    finally:
        lite_api.tw.shutdown(wait=True)
    assert "tickwork_run_duration_seconds_count 1" in text
    assert "tickwork_run_lateness_seconds_count 1" in text
    assert 'tickwork_job_run_duration_seconds_count{job="m"} 1' in text
    assert 'tickwork_jobs{state="scheduled"} 1' in text
    assert "tickwork_due_backlog 0" in text
    assert "tickwork_scheduler_paused 0" in text
    assert "tickwork_nodes 1" in text
    assert "# TYPE tickwork_runs_total counter" in text


def test_stats_per_job_and_overall(api: Api) -> None:
    admin = api.client("admin")
    admin.post("/api/jobs", json=job_body("fast"))
    admin.post("/api/jobs", json=job_body("slow"))
    t0 = 1_800_000_000 * SEC
    durations = {"fast": [1.0 * i for i in range(1, 21)], "slow": [100.0, 200.0]}
    statuses = {"fast": ["succeeded"] * 18 + ["failed", "timed_out"], "slow": ["succeeded"] * 2}
    store = api.tw.store
    with store.db.write() as conn:
        for job_id, values in durations.items():
            for i, duration in enumerate(values):
                at = t0 + i * SEC
                rid = store.runs.insert_one(
                    conn,
                    NewRun(
                        job_id=job_id,
                        scheduled_for=at,
                        due_at=at,
                        reason="schedule",
                        status=statuses[job_id][i],
                    ),
                    at,
                )
                from tickwork.store.tables import run

                conn.execute(
                    run.update()
                    .where(run.c.id == rid)
                    .values(
                        started_at=at, finished_at=at + int(duration * SEC), duration_s=duration
                    )
                )
    viewer = api.client("viewer")
    fast = viewer.get("/api/jobs/fast/stats", params={"slow_s": 15}).json()["total"]
    assert fast["runs"] == 20
    assert fast["by_status"] == {"succeeded": 18, "failed": 1, "timed_out": 1}
    assert fast["success_rate"] == 0.9
    assert (fast["duration_min_s"], fast["duration_max_s"]) == (1.0, 20.0)
    assert abs(fast["duration_avg_s"] - 10.5) < 1e-9
    assert fast["duration_p95_s"] == 19.0  # nearest rank: the 19th of 20
    assert fast["last_status"] == "timed_out"
    assert fast["slow_runs"] == 5
    assert [r["duration_s"] for r in fast["slowest"]] == [20.0, 19.0, 18.0, 17.0, 16.0]
    everything: dict[str, Any] = viewer.get("/api/stats", params={"slow_s": 50}).json()
    assert everything["total"]["runs"] == 22
    assert [j["job_id"] for j in everything["jobs"]] == ["fast", "slow"]
    assert everything["total"]["slow_runs"] == 2
    assert everything["total"]["duration_max_s"] == 200.0
    window = viewer.get(
        "/api/stats", params={"since": "2027-01-15T08:00:05Z", "until": "2027-01-15T08:00:10Z"}
    ).json()
    assert window["since"].startswith("2027-01-15T08:00:05")
    assert window["total"]["runs"] == 5  # fast runs 5-9; slow ran at 0 and 1 s
    empty = viewer.get("/api/stats", params={"since": "2999-01-01T00:00:00Z"}).json()
    assert empty["total"]["runs"] == 0
    assert viewer.get("/api/jobs/nope/stats").status_code == 404
