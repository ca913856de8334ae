"""/api/workflows over a real database (SQLite; the run routes on PostgreSQL too): define
(the graph refused naming the edge), read, run, cancel, rerun from the failed steps, pause,
replace with a version, remove; a job's then list. No node runs here: step runs stay queued."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import Api, job_body


def flow(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": "etl",
        "name": "Nightly ETL",
        "steps": [
            {"id": "extract", "job": "wf-a"},
            {"id": "load", "job": "wf-b", "after": ["extract"]},
            {"id": "alert", "job": "wf-c", "after": [{"step": "load", "on": "failure"}]},
        ],
        "trigger": "0 2 * * *",
        "timezone": "Asia/Shanghai",
        "deadline_s": 3600,
    }
    body.update(changes)
    return body


def setup_jobs(api: Api) -> None:
    admin = api.client("admin")
    for job_id in ("wf-a", "wf-b", "wf-c"):
        assert admin.post("/api/jobs", json=job_body(job_id)).status_code == 201


def test_define_read_replace_remove(lite_api: Api) -> None:
    api = lite_api
    setup_jobs(api)
    admin = api.client("admin")
    created = admin.post("/api/workflows", json=flow())
    assert created.status_code == 201, created.text
    assert created.headers["Location"] == "/api/workflows/etl"
    body = created.json()
    assert body["steps"][1] == {
        "id": "load",
        "job": "wf-b",
        "after": [{"step": "extract", "on": "success"}],
    }
    assert body["trigger"]["expr"] == "0 2 * * *"
    assert body["timezone"] == "Asia/Shanghai"
    assert body["next_fire_at"].endswith("+00:00")
    assert (body["owner"], body["version"], body["created_by"]) == ("api", 1, "admin-user")
    assert admin.post("/api/workflows", json=flow()).json()["code"] == "duplicate_id"
    viewer = api.client("viewer")
    assert [w["id"] for w in viewer.get("/api/workflows").json()["items"]] == ["etl"]
    assert viewer.get("/api/workflows/etl").json()["name"] == "Nightly ETL"
    # replace, with the version read; a stale one is refused
    changed = admin.put("/api/workflows/etl", json=flow(name="ETL", trigger=None, version=1))
    assert changed.status_code == 200, changed.text
    assert (changed.json()["version"], changed.json()["next_fire_at"]) == (2, None)
    stale = admin.put("/api/workflows/etl", json=flow(version=1))
    assert (stale.status_code, stale.json()["code"]) == (409, "stale_version")
    assert admin.delete("/api/workflows/etl").status_code == 204
    assert viewer.get("/api/workflows/etl").status_code == 404


def test_a_bad_graph_is_refused_naming_the_edge(lite_api: Api) -> None:
    api = lite_api
    setup_jobs(api)
    admin = api.client("admin")
    steps = [
        {"id": "a", "job": "wf-a", "after": ["c"]},
        {"id": "b", "job": "wf-b", "after": ["a"]},
        {"id": "c", "job": "wf-c", "after": ["b"]},
    ]
    refused = admin.post("/api/workflows", json=flow(steps=steps))
    assert refused.status_code == 422
    problem = refused.json()
    assert problem["code"] == "workflow_cycle"
    assert problem["field"] == "steps.a.after"
    assert problem["params"] == {"edge": "c -> a", "cycle": "a -> b -> c -> a"}
    self_edge = admin.post("/api/workflows", json=flow(steps=[{"id": "wf-a", "after": ["wf-a"]}]))
    assert self_edge.json()["params"] == {"edge": "wf-a -> wf-a"}
    unknown = admin.post(
        "/api/workflows", json=flow(steps=[{"id": "x", "job": "wf-a", "after": ["nope"]}])
    )
    assert (unknown.json()["code"], unknown.json()["params"]["edge"]) == (
        "workflow_unknown_step",
        "nope -> x",
    )
    no_job = admin.post("/api/workflows", json=flow(steps=[{"id": "ghost"}]))
    assert no_job.json()["code"] == "unknown_step_job"
    bad_on = admin.post(
        "/api/workflows",
        json=flow(steps=[{"id": "wf-a"}, {"id": "wf-b", "after": [{"step": "wf-a", "on": "x"}]}]),
    )
    assert bad_on.status_code == 422
    assert admin.get("/api/workflows").json()["items"] == []


def test_run_cancel_and_rerun(api: Api) -> None:
    setup_jobs(api)
    admin, operator, viewer = (api.client(r) for r in ("admin", "operator", "viewer"))
    assert admin.post("/api/workflows", json=flow()).status_code == 201
    started = operator.post("/api/workflows/etl/run")
    assert started.status_code == 202, started.text
    wr_id = started.json()["workflow_run_id"]
    wr = viewer.get(f"/api/workflows/etl/runs/{wr_id}").json()
    assert (wr["status"], wr["reason"]) == ("running", "manual")
    assert wr["triggered_by"] == "operator-user"
    steps = {s["step"]: s for s in wr["step_runs"]}
    assert steps["extract"]["state"] == "running"
    assert steps["load"]["state"] == steps["alert"]["state"] == "waiting"
    run = viewer.get(f"/api/runs/{steps['extract']['run_id']}").json()
    assert (run["job_id"], run["reason"], run["status"]) == ("wf-a", "dependency", "scheduled")
    assert viewer.get("/api/workflows/other/runs/" + str(wr_id)).status_code == 404
    cancelled = operator.post(f"/api/workflows/etl/runs/{wr_id}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    after = {s["step"]: (s["state"], s["reason"]) for s in cancelled.json()["step_runs"]}
    assert cancelled.json()["status"] == "cancelled"
    assert after["extract"] == ("cancelled", "cancelled: cancelled by operator-user")
    assert after["load"] == ("skipped", "cancelled by operator-user")
    again = operator.post(f"/api/workflows/etl/runs/{wr_id}/cancel")
    assert (again.status_code, again.json()["code"]) == (409, "workflow_run_ended")
    rerun = operator.post(f"/api/workflows/etl/runs/{wr_id}/rerun")
    assert rerun.status_code == 202, rerun.text
    new = viewer.get(f"/api/workflows/etl/runs/{rerun.json()['workflow_run_id']}").json()
    assert (new["rerun_of"], new["reason"], new["status"]) == (wr_id, "rerun", "running")
    listed = viewer.get("/api/workflows/etl/runs").json()
    assert [r["id"] for r in listed["items"]] == [new["id"], wr_id]
    running = operator.post(f"/api/workflows/etl/runs/{new['id']}/rerun")
    assert (running.status_code, running.json()["code"]) == (409, "workflow_run_not_rerunnable")
    paused = operator.post("/api/workflows/etl/pause").json()
    assert (paused["paused"], paused["next_fire_at"]) == (True, None)
    assert operator.post("/api/workflows/etl/resume").json()["next_fire_at"] is not None
    audit = [e["action"] for e in admin.get("/api/audit").json()["items"]]
    assert {"workflow.create", "workflow.run", "workflow.cancel", "workflow.rerun"} <= set(audit)


def test_then_lists(lite_api: Api) -> None:
    api = lite_api
    setup_jobs(api)
    admin, viewer = api.client("admin"), api.client("viewer")
    put = admin.put("/api/jobs/wf-a/then", json={"then": ["wf-b", "wf-c"]})
    assert put.status_code == 200, put.text
    assert viewer.get("/api/jobs/wf-a/then").json() == {"job_id": "wf-a", "then": ["wf-b", "wf-c"]}
    assert admin.put("/api/jobs/wf-b/then", json={"then": ["wf-c"]}).status_code == 200
    cycle = admin.put("/api/jobs/wf-c/then", json={"then": ["wf-a"]})
    assert cycle.status_code == 422
    assert (cycle.json()["code"], cycle.json()["params"]["edge"]) == (
        "workflow_cycle",
        "wf-c -> wf-a",
    )
    assert viewer.get("/api/jobs/wf-c/then").json()["then"] == []
    assert viewer.get("/api/jobs/nope/then").status_code == 404
