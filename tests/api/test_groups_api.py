"""/api/groups and users' grants (issue 11, item 3) on SQLite, PostgreSQL and MariaDB: groups
as objects, their defaults in new jobs, refusals naming the field, grants managed by admins,
the hidden-group filters on each dialect."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.api.conftest import Api, fresh_url, job_body
from tickwork.accounts.records import Principal
from tickwork.accounts.roles import Role


@pytest.fixture(params=["sqlite", "postgres", "mysql"])
def every_db(request: pytest.FixtureRequest, tmp_path: Path, server_database: Any) -> str:
    kind: str = request.param
    request.applymarker(getattr(pytest.mark, kind))
    return fresh_url(kind, tmp_path, server_database)


@pytest.fixture
def dialect_api(every_db: str, api_factory: Callable[..., Api]) -> Api:
    return api_factory(every_db)


def test_groups_are_objects_with_defaults_for_new_jobs(dialect_api: Api) -> None:
    api = dialect_api
    admin = api.client("admin")
    assert admin.post("/api/jobs", json=job_body("early", group="报表")).status_code == 201
    implicit = admin.get("/api/groups/报表").json()  # named by a job only
    assert (implicit["declared"], implicit["jobs"], implicit["version"]) == (False, 1, 0)
    body = {
        "name": "报表",
        "description": "每日报表",
        "owner": "operator-user",
        "timezone": "Asia/Shanghai",
        "defaults": {"timeout_s": 120, "retries": 2, "misfire_policy": "skip"},
    }
    created = admin.post("/api/groups", json=body)
    assert created.status_code == 201, created.text
    assert created.headers["Location"] == "/api/groups/%E6%8A%A5%E8%A1%A8"
    out = created.json()
    assert (out["declared"], out["version"], out["jobs"], out["your_role"]) == (
        True,
        1,
        1,
        "admin",
    )
    assert admin.post("/api/groups", json=body).json()["code"] == "duplicate_group"
    # a new job takes the group's zone and policies where it gives none; its own win
    job = admin.post("/api/jobs", json=job_body("later", group="报表", timezone=None)).json()
    assert job["timezone"] == "Asia/Shanghai"
    assert (job["policies"]["timeout_s"], job["policies"]["retries"]) == (120, 2)
    assert job["policies"]["misfire_policy"] == "skip"
    own = job_body("own", group="报表", policies={"retries": 0, "timeout_s": 5})
    mine = admin.post("/api/jobs", json=own).json()
    assert (mine["timezone"], mine["policies"]["retries"], mine["policies"]["timeout_s"]) == (
        "Europe/Berlin",
        0,
        5,
    )
    # the jobs made before keep what they had
    assert admin.get("/api/jobs/early").json()["policies"]["retries"] == 0
    patched = admin.patch("/api/groups/报表", json={"defaults": {"retries": 1}, "version": 1})
    assert (patched.json()["defaults"], patched.json()["version"]) == ({"retries": 1}, 2)
    stale = admin.patch("/api/groups/报表", json={"description": "x", "version": 1})
    assert (stale.status_code, stale.json()["code"]) == (409, "stale_version")
    listed = {g["name"]: g for g in admin.get("/api/groups").json()["items"]}
    assert listed["报表"]["jobs"] == 3
    assert listed["报表"]["updated_by"] == "admin-user"
    # removing a group with jobs is refused; without, it goes
    refused = admin.delete("/api/groups/报表")
    assert (refused.status_code, refused.json()["params"]) == (409, {"name": "报表", "jobs": 3})
    assert admin.post("/api/groups", json={"name": "empty"}).status_code == 201
    assert admin.delete("/api/groups/empty").status_code == 204
    assert admin.get("/api/groups/empty").status_code == 404
    actions = [e["action"] for e in admin.get("/api/audit", params={"action": "group."}).json()[
        "items"]]  # fmt: skip
    assert actions == ["group.remove", "group.create", "group.update", "group.create"]


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"name": "g", "defaults": {"timeout_s": -1}}, "defaults.timeout_s", None),
        ({"name": "g", "defaults": {"retries": 1000}}, "defaults.retries", None),
        ({"name": "g", "defaults": {"colour": "blue"}}, "defaults.colour", "extra_forbidden"),
        ({"name": "g", "timezone": "Mars/Base"}, "timezone", None),
        ({"name": "g", "owner": "nobody"}, "owner", "unknown_user"),
        ({"name": "a/b"}, "name", "group_name_slash"),
        ({"name": "   "}, "name", "empty"),
    ],
)
def test_bad_groups_are_refused_naming_the_field(
    lite_api: Api, body: dict[str, Any], field: str, code: str | None
) -> None:
    admin = lite_api.client("admin")
    response = admin.post("/api/groups", json=body)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["field"].endswith(field), problem
    if code is not None:
        assert problem["code"] == code
    assert admin.get("/api/groups").json()["items"] == []


def test_admins_manage_grants(lite_api: Api) -> None:
    admin = lite_api.client("admin")
    uid = lite_api.users["viewer"]
    assert admin.get(f"/api/users/{uid}/grants").json() == {
        "user_id": uid,
        "username": "viewer-user",
        "role": "viewer",
        "grants": {},
    }
    put = admin.put(f"/api/users/{uid}/grants/ops", json={"role": "operator"})
    assert put.json()["grants"] == {"ops": "operator"}
    assert admin.put(f"/api/users/{uid}/grants/ops", json={"role": "none"}).json()["grants"] == {
        "ops": "none"
    }
    assert admin.get("/api/groups/ops/members").json() == [
        {"user_id": uid, "username": "viewer-user", "role": "none"}
    ]
    bad = admin.put(f"/api/users/{uid}/grants/ops", json={"role": "owner"})
    assert bad.status_code == 422
    assert admin.put("/api/users/99999/grants/ops", json={"role": "viewer"}).status_code == 404
    own = admin.put(f"/api/users/{lite_api.users['admin']}/grants/ops", json={"role": "viewer"})
    assert (own.status_code, own.json()["code"]) == (409, "own_grants")
    assert admin.delete(f"/api/users/{uid}/grants/ops").json()["grants"] == {}
    gone = admin.delete(f"/api/users/{uid}/grants/ops")
    assert gone.status_code == 404
    # grants go with their user
    root = Principal(lite_api.users["admin"], "admin-user", Role.ADMIN, via="t")
    lite_api.tw.accounts.set_grant(uid, "ops", "operator", by=root)
    assert admin.delete(f"/api/users/{uid}").status_code == 204
    assert admin.get("/api/groups/ops/members").json() == []


def test_hidden_groups_on_every_dialect(dialect_api: Api) -> None:
    api = dialect_api
    admin = api.client("admin")
    for job_id, group in (("a1", "A"), ("h1", "H"), ("h2", "H")):
        assert admin.post("/api/jobs", json=job_body(job_id, group=group)).status_code == 201
        api.tw.cancel_run(api.tw.run_job(job_id))
    uid = api.users["viewer"]
    assert admin.put(f"/api/users/{uid}/grants/H", json={"role": "none"}).status_code == 200
    viewer = api.client("viewer")
    assert [j["id"] for j in viewer.get("/api/jobs").json()["items"]] == ["a1"]
    assert {r["job_id"] for r in viewer.get("/api/runs").json()["items"]} == {"a1"}
    searched = viewer.get("/api/runs", params={"q": "cancel"}).json()["items"]
    assert {r["job_id"] for r in searched} == {"a1"}
    assert viewer.get("/api/stats").json()["total"]["runs"] == 1
    assert [g["name"] for g in viewer.get("/api/groups").json()["items"]] == ["A"]
    counts = {g["name"]: g["jobs"] for g in admin.get("/api/groups").json()["items"]}
    assert counts == {"A": 1, "H": 2}
