"""Jobs and runs through the API on SQLite and PostgreSQL: create, read, list with filters
and cursors, replace and change under version checks, pause, resume, run now, delete, groups,
and the audit record each mutation leaves."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.api.conftest import Api, job_body
from tickwork.clock import us_to_datetime
from tickwork.executors.redact import MASK


def next_berlin_0200(now: datetime) -> datetime:
    """The first 02:00 in Europe/Berlin after ``now``; on the spring-forward day, when 02:00
    does not exist, the first instant after the gap (03:00 CEST). An oracle of its own."""
    zone = ZoneInfo("Europe/Berlin")
    day = now.astimezone(zone).date()
    while True:
        wall = datetime.combine(day, time(2), zone)
        if wall.astimezone(UTC).astimezone(zone).hour != 2:  # in the gap
            wall = datetime.combine(day, time(3), zone)
        if wall > now:
            return wall
        day += timedelta(days=1)


@pytest.mark.usefixtures("travel")  # at each instant of tests.conftest.INSTANTS
def test_create_get_and_the_job_shape(api: Api) -> None:
    admin = api.client("admin")
    body = job_body(
        "nightly",
        name="Nightly cleanup / 夜间清理",
        group="ops",
        tags=["db", "daily"],
        target={"ref": "tests.api.tasks:use_password", "args": [],
                "kwargs": {"password": "hunter2-secret", "out": "/tmp/x"}},
        secret_keys=["password"],
        policies={"retries": 2, "timeout_s": 30, "concurrency_policy": "forbid"},
    )  # fmt: skip
    created = admin.post("/api/jobs", json=body)
    assert created.status_code == 201, created.text
    assert created.headers["Location"] == "/api/jobs/nightly"
    assert created.headers["ETag"] == '"1"'
    job = created.json()
    assert job["target"] == {
        "kind": "python",
        "ref": "tests.api.tasks:use_password",
        "args": [],
        "kwargs": {"password": MASK, "out": "/tmp/x"},
        "description": {
            "en": "tests.api.tasks:use_password",
            "zh": "tests.api.tasks:use_password",
        },
    }
    assert job["trigger"]["kind"] == "cron"
    assert job["trigger"]["expr"] == "0 2 * * *"
    assert job["trigger"]["description"] == {
        "en": "At 02:00 (Europe/Berlin)",
        "zh": "每天 02:00（Europe/Berlin）",
    }
    assert job["next_fire_at"].endswith(("+01:00", "+02:00"))  # in the job's zone
    expected = next_berlin_0200(us_to_datetime(api.tw.clock.now_us()))
    assert job["next_fire_at"] == expected.isoformat()
    assert job["state"] == "scheduled"
    assert job["policies"]["retries"] == 2
    assert job["policies"]["concurrency_policy"] == "forbid"
    assert job["owner"] == "api"
    assert job["created_by"] == "admin-user"
    assert job["version"] == 1
    assert job["last_run"] is None
    # stored for real, secret included; the API never imported the target
    stored = api.tw.get_job("nightly")
    assert stored is not None
    assert stored.kwargs["password"] == "hunter2-secret"
    assert admin.get("/api/jobs/nightly").json() == job
    duplicate = admin.post("/api/jobs", json=body)
    assert duplicate.status_code == 409
    assert duplicate.json()["field"] == "id"
    assert admin.get("/api/jobs/nope").status_code == 404


def test_list_filters_and_cursor_pages(api: Api) -> None:
    admin = api.client("admin")
    for i in range(23):
        group = "even" if i % 2 == 0 else "odd"
        tags = ["t3"] if i % 3 == 0 else []
        response = admin.post(
            "/api/jobs", json=job_body(f"job-{i:02d}", group=group, tags=tags, name=f"Job {i}")
        )
        assert response.status_code == 201
    admin.post("/api/jobs/job-05/pause")
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 10}
        if cursor:
            params["cursor"] = cursor
        page = api.client("viewer").get("/api/jobs", params=params).json()
        seen += [j["id"] for j in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert seen == [f"job-{i:02d}" for i in range(23)]
    viewer = api.client("viewer")

    def ids(**params: Any) -> list[str]:
        response = viewer.get("/api/jobs", params=params)
        assert response.status_code == 200, response.text
        return [j["id"] for j in response.json()["items"]]

    assert len(ids(group="even")) == 12
    assert ids(tag="t3") == [f"job-{i:02d}" for i in range(0, 23, 3)]
    assert ids(state="paused") == ["job-05"]
    assert ids(text="JOB 1") == [f"job-{i:02d}" for i in (1, *range(10, 20))]
    bad = viewer.get("/api/jobs", params={"cursor": "!!!"})
    assert bad.status_code == 400  # a malformed query parameter
    assert bad.json()["field"] == "cursor"


def test_put_and_patch_with_versions(api: Api) -> None:
    admin = api.client("admin")
    admin.post("/api/jobs", json=job_body("j", tags=["a"], description="first"))
    patched = admin.patch(
        "/api/jobs/j", json={"description": "second", "policies": {"retries": 3}},
        headers={"If-Match": '"1"'},
    )  # fmt: skip
    assert patched.status_code == 200, patched.text
    job = patched.json()
    assert (job["description"], job["policies"]["retries"], job["version"]) == ("second", 3, 2)
    assert job["tags"] == ["a"]  # untouched
    assert job["trigger"]["expr"] == "0 2 * * *"
    stale = admin.patch("/api/jobs/j", json={"description": "x"}, headers={"If-Match": '"1"'})
    assert stale.status_code == 409
    assert stale.json()["field"] == "version"
    stale_body = admin.patch("/api/jobs/j", json={"description": "x", "version": 1})
    assert stale_body.status_code == 409
    # PUT replaces: what the body leaves out takes its default
    put = admin.put(
        "/api/jobs/j",
        json=job_body("j", trigger={"kind": "interval", "args": {"minutes": 5}}, version=2),
    )
    assert put.status_code == 200, put.text
    job = put.json()
    assert job["tags"] == []
    assert job["description"] == ""
    assert job["policies"]["retries"] == 0
    assert job["trigger"]["kind"] == "interval"
    assert job["version"] == 3
    mismatch = admin.put("/api/jobs/j", json=job_body("other"))
    assert mismatch.status_code == 422
    assert mismatch.json()["field"] == "id"
    assert admin.put("/api/jobs/nope", json=job_body("nope")).status_code == 404
    # a new zone alone moves the schedule into that zone
    zoned = admin.patch("/api/jobs/j", json={"timezone": "Asia/Shanghai"}).json()
    assert zoned["timezone"] == "Asia/Shanghai"
    assert zoned["trigger"]["spec"]["tz"] == "Asia/Shanghai"


def test_a_masked_secret_sent_back_keeps_the_stored_value(api: Api) -> None:
    admin = api.client("admin")
    body = job_body(
        "s", target={"ref": "tests.api.tasks:noop", "kwargs": {"pw": "real-secret", "n": 1}},
        secret_keys=["pw"],
    )  # fmt: skip
    shown = admin.post("/api/jobs", json=body).json()
    assert shown["target"]["kwargs"]["pw"] == MASK
    round_trip = {
        **job_body("s"),
        "target": {"ref": shown["target"]["ref"], "kwargs": {**shown["target"]["kwargs"], "n": 2}},
        "secret_keys": shown["secret_keys"],
    }
    assert admin.put("/api/jobs/s", json=round_trip).status_code == 200
    job = api.tw.get_job("s")
    assert job is not None
    assert job.kwargs == {"pw": "real-secret", "n": 2}
    admin.patch("/api/jobs/s", json={"target": {"kwargs": {"pw": "new-secret", "n": 3}}})
    job = api.tw.get_job("s")
    assert job is not None
    assert job.kwargs == {"pw": "new-secret", "n": 3}


def test_pause_resume_run_delete_and_groups(api: Api) -> None:
    admin = api.client("admin")
    operator = api.client("operator")
    for name in ("g1", "g2", "other"):
        admin.post(
            "/api/jobs",
            json=job_body(
                name,
                group="batch" if name != "other" else "x",
                parameters=[{"name": "x", "type": "integer"}],  # what a run may set
            ),
        )
    paused = operator.post("/api/jobs/g1/pause").json()
    assert (paused["state"], paused["next_fire_at"]) == ("paused", None)
    resumed = operator.post("/api/jobs/g1/resume").json()
    assert resumed["state"] == "scheduled"
    assert operator.post("/api/groups/batch/pause").json() == {
        "group": "batch",
        "action": "pause",
        "dry_run": False,
        "jobs": 2,
        "changes": 2,
        "run_ids": [],
    }
    states = {j["id"]: j["state"] for j in admin.get("/api/jobs").json()["items"]}
    assert states == {"g1": "paused", "g2": "paused", "other": "scheduled"}
    assert operator.post("/api/groups/batch/resume").json()["jobs"] == 2
    queued = operator.post("/api/jobs/g1/run", json={"params": {"kwargs": {"x": 1}}})
    assert queued.status_code == 202
    run_id = queued.json()["run_id"]
    run = operator.get(f"/api/runs/{run_id}").json()
    assert (run["status"], run["reason"], run["triggered_by"]) == (
        "scheduled",
        "manual",
        "operator-user",
    )
    assert run["params"] == {"kwargs": {"x": 1}}
    assert operator.post("/api/jobs/g1/run").status_code == 202  # no body at all
    assert admin.get("/api/jobs/g1").json()["last_run"]["status"] == "scheduled"
    cancelled = operator.post(f"/api/runs/{run_id}/cancel").json()
    assert cancelled == {"run_id": run_id, "status": "cancelled"}
    assert operator.post(f"/api/runs/{run_id}/cancel").json()["status"] == "cancelled"
    assert operator.post("/api/jobs/nope/run").status_code == 404
    assert admin.delete("/api/jobs/g1").status_code == 204
    assert admin.get("/api/jobs/g1").status_code == 404
    assert admin.delete("/api/jobs/g1").status_code == 404
    # runs stay after their job is removed
    assert admin.get(f"/api/runs/{run_id}").status_code == 200


def test_runs_list_filters_and_pages(api: Api) -> None:
    admin = api.client("admin")
    admin.post("/api/jobs", json=job_body("a"))
    admin.post("/api/jobs", json=job_body("b"))
    ids = [api.tw.run_job("a") for _ in range(7)] + [api.tw.run_job("b") for _ in range(3)]
    api.tw.cancel_run(ids[0])
    viewer = api.client("viewer")
    first = viewer.get("/api/runs", params={"job_id": "a", "limit": 4}).json()
    assert [r["id"] for r in first["items"]] == sorted(ids[:7], reverse=True)[:4]
    rest = viewer.get(
        "/api/runs", params={"job_id": "a", "limit": 4, "cursor": first["next_cursor"]}
    ).json()
    assert [r["id"] for r in rest["items"]] == sorted(ids[:7], reverse=True)[4:]
    assert rest["next_cursor"] is None
    cancelled = viewer.get("/api/runs", params={"status": "cancelled"}).json()["items"]
    assert [r["id"] for r in cancelled] == [ids[0]]
    both = viewer.get("/api/runs", params=[("status", "cancelled"), ("status", "scheduled")])
    assert len(both.json()["items"]) == 10
    future = viewer.get("/api/runs", params={"since": "2999-01-01T00:00:00Z"}).json()
    assert future["items"] == []
    naive = viewer.get("/api/runs", params={"since": "2026-01-01T00:00:00"})
    assert naive.status_code == 422
    assert naive.json()["field"] == "since"
    assert viewer.get("/api/runs", params={"status": "bogus"}).status_code == 422
    assert viewer.get("/api/runs/999999").status_code == 404
    log = viewer.get(f"/api/runs/{ids[1]}/log")
    assert (log.status_code, log.text) == (200, "")


def test_every_mutation_is_audited_with_before_and_after(api: Api) -> None:
    admin = api.client("admin")
    operator = api.client("operator")
    admin.post("/api/jobs", json=job_body("audited", group="grp",
               target={"ref": "tests.api.tasks:noop", "kwargs": {"pw": "top-secret"}},
               secret_keys=["pw"]))  # fmt: skip
    admin.patch("/api/jobs/audited", json={"description": "changed"})
    operator.post("/api/jobs/audited/pause")
    operator.post("/api/jobs/audited/resume")
    operator.post("/api/groups/grp/pause")
    run_id = operator.post("/api/jobs/audited/run").json()["run_id"]
    assert operator.post(f"/api/runs/{run_id}/cancel").status_code == 200
    operator.post("/api/scheduler/pause")
    operator.post("/api/scheduler/resume")
    admin.delete("/api/jobs/audited")
    events = admin.get("/api/audit", params={"limit": 100}).json()["items"]
    mine = [e for e in events if e["job_id"] == "audited" or e["action"].startswith("sched")]
    actions = [(e["action"], e["actor"]) for e in reversed(mine)]
    assert actions == [
        ("job.create", "admin-user"),
        ("job.update", "admin-user"),
        ("job.pause", "operator-user"),
        ("job.resume", "operator-user"),
        ("job.pause", "operator-user"),
        ("job.run", "operator-user"),
        ("run.cancel", "operator-user"),
        ("scheduler.pause", "operator-user"),
        ("scheduler.resume", "operator-user"),
        ("job.remove", "admin-user"),
    ]
    by_action = {e["action"]: e for e in reversed(mine)}
    update = by_action["job.update"]
    assert update["before"]["description"] == ""
    assert update["after"]["description"] == "changed"
    assert update["before"]["target"]["kwargs"]["pw"] == MASK
    assert by_action["job.remove"]["after"] is None
    assert by_action["job.remove"]["before"]["id"] == "audited"
    assert by_action["job.create"]["before"] is None
    assert by_action["run.cancel"]["run_id"] == run_id
    assert next(e for e in mine if e["action"] == "job.pause")["detail"] == {"group": "grp"}
    assert "top-secret" not in str(events)
    # filters and pages
    assert {e["action"] for e in admin.get("/api/audit", params={"action": "job."}).json()[
        "items"]} <= {"job.create", "job.update", "job.pause", "job.resume", "job.run",
                      "job.remove"}  # fmt: skip
    only = admin.get("/api/audit", params={"actor": "operator-user", "limit": 3}).json()
    assert len(only["items"]) == 3
    assert only["next_cursor"] is not None
    history = api.client("viewer").get("/api/jobs/audited/history").json()["items"]
    assert len(history) == 8


def test_the_python_api_and_the_cli_are_audited_too(api: Api) -> None:
    import os
    import subprocess
    import sys

    tw = api.tw
    tw.add_job("tests.api.tasks:noop", "cron", minute=5, id="py", owner="python")
    tw.pause_job("py", by="script")
    url = tw.store.db.url.render_as_string(hide_password=False)
    cli = subprocess.run(
        [sys.executable, "-m", "tickwork.cli", "jobs", "resume", "py", "--database-url", url],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": "."},
        timeout=60,
        check=False,
    )
    assert cli.returncode == 0, cli.stderr
    tw.remove_job("py")
    events = tw.audit.page()
    assert [(e.action, e.actor.partition(":")[0]) for e in events[:4]] == [
        ("job.remove", "local"),
        ("job.resume", "cli"),
        ("job.pause", "script"),
        ("job.create", "local"),
    ]
    assert tw.actor.startswith("local:")


def test_a_failed_mutation_writes_no_audit(api: Api) -> None:
    admin = api.client("admin")
    admin.post("/api/jobs", json=job_body("v"))
    before = api.tw.audit.count()
    assert admin.patch("/api/jobs/v", json={"name": "x", "version": 7}).status_code == 409
    assert admin.post("/api/jobs", json=job_body("v")).status_code == 409
    assert api.tw.audit.count() == before


def test_the_api_never_imports_user_code(lite_api: Api) -> None:
    import sys

    admin = lite_api.client("admin")
    body = job_body("sentinel", target={"ref": "tests.api.import_sentinel:job"})
    assert admin.post("/api/jobs", json=body).status_code == 201
    assert admin.patch("/api/jobs/sentinel", json={"description": "x"}).status_code == 200
    assert admin.put("/api/jobs/sentinel", json=body).status_code == 200
    assert admin.post("/api/jobs/sentinel/run").status_code == 202
    assert admin.get("/api/jobs/sentinel").status_code == 200
    assert "tests.api.import_sentinel" not in sys.modules
    missing = job_body("ghost", target={"ref": "tests.no.such.module:func"})
    assert admin.post("/api/jobs", json=missing).status_code == 201  # form checked only


def test_job_file_sync_is_audited(lite_api: Api, tmp_path: Any) -> None:
    from tickwork.jobspec import JobSpec

    tw = lite_api.tw
    spec = JobSpec(target="tests.api.tasks:noop", trigger="0 3 * * *", id="from-file",
                   check_target=False)  # fmt: skip
    record = tw._build(spec, by=None)
    assert tw.sync_owned("config", "/etc/jobs.yaml", [record])["created"] == 1
    assert tw.sync_owned("config", "/etc/jobs.yaml", [])["removed"] == 1
    events = tw.audit.page()
    assert [(e.action, e.actor, e.job_id) for e in events[:2]] == [
        ("job.remove", "config:/etc/jobs.yaml", "from-file"),
        ("job.create", "config:/etc/jobs.yaml", "from-file"),
    ]
    assert events[0].detail == {"sync": "config", "owner_ref": "/etc/jobs.yaml"}
    assert events[0].before is not None
    assert events[0].before["id"] == "from-file"


@pytest.mark.usefixtures("travel")  # next fires: at each instant of tests.conftest.INSTANTS
def test_sorted_lists_page_with_keyset_cursors(api: Api) -> None:
    """Every order pages through all jobs exactly once, ties broken by id, jobs without a
    next fire last in both directions."""
    admin = api.client("admin")
    names = ["delta", "alpha", "charlie", "alpha", "bravo", "echo", "bravo"]
    crons = [
        "0 2 * * *",
        "30 1 * * *",
        "0 3 * * *",
        "0 2 * * *",
        "15 0 * * *",
        "0 4 * * *",
        "0 5 * * *",
    ]
    for i, (name, expr) in enumerate(zip(names, crons, strict=True)):
        body = job_body(
            f"job-{i}", name=name, group=f"g{i % 3}", trigger={"kind": "cron", "expr": expr}
        )
        assert admin.post("/api/jobs", json=body).status_code == 201
    admin.post("/api/jobs/job-3/pause")  # no next fire: it sorts last
    admin.post("/api/jobs/job-6/pause")
    jobs = {j["id"]: j for j in admin.get("/api/jobs", params={"limit": 100}).json()["items"]}

    def walk(sort: str) -> list[str]:
        seen: list[str] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 2, "sort": sort}
            if cursor:
                params["cursor"] = cursor
            response = api.client("viewer").get("/api/jobs", params=params)
            assert response.status_code == 200, response.text
            page = response.json()
            seen += [j["id"] for j in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                return seen

    def expected(key: str, desc: bool) -> list[str]:
        def value(job_id: str) -> Any:
            found = jobs[job_id][key]
            if key == "next_fire_at" and found is not None:  # instants, not their texts
                return datetime.fromisoformat(found)
            return found

        present = [i for i in jobs if value(i) is not None]
        absent = sorted(i for i in jobs if value(i) is None)
        ordered = sorted(present, key=lambda i: (value(i), i), reverse=desc)
        return ordered + (sorted(absent, reverse=True) if desc else absent)

    for key in ("name", "group", "next_fire_at"):
        assert walk(key) == expected(key, False), key
        assert walk(f"-{key}") == expected(key, True), key
    assert walk("-id") == sorted(jobs, reverse=True)
    bad = admin.get("/api/jobs", params={"sort": "colour"})
    assert bad.status_code == 422
    assert bad.json()["field"] == "sort"
    wrong = admin.get("/api/jobs", params={"sort": "name", "cursor": "am9iLTE"})  # an id cursor
    assert wrong.status_code == 400
    assert wrong.json()["field"] == "cursor"


def test_a_job_defined_in_a_job_file_is_read_only_through_the_api(lite_api: Api) -> None:
    from tickwork.jobspec import JobSpec

    tw = lite_api.tw
    spec = JobSpec(target="tests.api.tasks:noop", trigger="0 3 * * *", id="from-file",
                   check_target=False)  # fmt: skip
    tw.sync_owned("config", "/etc/tickwork/jobs.yaml", [tw._build(spec, by=None)])
    admin = lite_api.client("admin")
    for method, body in (("PATCH", {"name": "x"}), ("PUT", job_body("from-file")),
                         ("DELETE", None)):  # fmt: skip
        response = admin.request(method, "/api/jobs/from-file", json=body)
        assert response.status_code == 409, (method, response.text)
        assert "defined by the job file /etc/tickwork/jobs.yaml" in response.json()["detail"]
    job = admin.get("/api/jobs/from-file").json()
    assert (job["owner"], job["owner_ref"], job["name"]) == (
        "config", "/etc/tickwork/jobs.yaml", "noop",
    )  # fmt: skip
    operator = lite_api.client("operator")
    assert operator.post("/api/jobs/from-file/pause").status_code == 200
    assert operator.post("/api/jobs/from-file/resume").status_code == 200
