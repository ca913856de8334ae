"""The object-level role matrix: who may do what to the jobs of which group.

The route-level matrix (test_role_matrix.py) proves each route's least role for users without
group grants. Here users hold grants, and every route that touches a job is called on a job
of each of three groups; the expected answer of each (actor, group, action) is written down by
hand below, from the rule in ``tickwork.accounts.access`` (the effective role in a group is
the grant for it, else the global role; ``none`` hides the group):

- alice: global viewer; operator of A; none in H  (an operator of A, a viewer elsewhere)
- ann:   global viewer; admin of A                 (a group administrator)
- oscar: global operator; viewer in B               (a grant that lowers)
- root:  global admin, no grants

ok: let in (any status but 403/404); 403: refused (``group_role_required``, or the route's gate
``role_required`` when the caller holds the role in no group at all, which says nothing about
the object: alice editing in H); 404: the job (or run, or group) answers as if it did not
exist.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import PASSWORD, Api, job_body
from tickwork.accounts.access import Action, can, check, role_in
from tickwork.accounts.errors import PermissionDenied
from tickwork.accounts.records import Principal
from tickwork.accounts.roles import Role
from tickwork.errors import NotFound

SECRET = "group-b-secret-value-2718"
GROUPS = ("A", "B", "H")

# actor   group  view  operate  edit
EXPECTED_TABLE = """
alice     A      ok    ok       403
alice     B      ok    403      403
alice     H      404   404      403
ann       A      ok    ok       ok
ann       B      ok    403      403
ann       H      ok    403      403
oscar     A      ok    ok       403
oscar     B      ok    403      403
oscar     H      ok    ok       403
root      A      ok    ok       ok
root      B      ok    ok       ok
root      H      ok    ok       ok
"""


def expected() -> dict[tuple[str, str, str], str]:
    out = {}
    for line in EXPECTED_TABLE.strip().splitlines():
        actor, group, view, operate, edit = line.split()
        for action, want in (("view", view), ("operate", operate), ("edit", edit)):
            out[(actor, group, action)] = want
    return out


EXPECTED = expected()


def body_of(job_id: str, group: str, **changes: Any) -> dict[str, Any]:
    return job_body(
        job_id,
        group=group,
        target={"ref": "tests.api.tasks:use_password", "kwargs": {"password": SECRET, "out": "x"}},
        secret_keys=["password"],
        **changes,
    )


class World:
    def __init__(self, api: Api) -> None:
        self.api = api
        tw = api.tw
        root = Principal(api.users["admin"], "admin-user", Role.ADMIN, via="test")
        ann = tw.accounts.create_user("ann", PASSWORD, "viewer", by="test")
        grants = {
            api.users["viewer"]: {"A": "operator", "H": "none"},
            ann.id: {"A": "admin"},
            api.users["operator"]: {"B": "viewer"},
        }
        for user_id, given in grants.items():
            for group, role in given.items():
                tw.accounts.set_grant(user_id, group, role, by=root)
        self.ids = {"alice": api.users["viewer"], "ann": ann.id, "oscar": api.users["operator"]}
        # Tokens with the holder's highest role (the default), so grants are not capped.
        self.tokens = {"root": api.tokens["admin"]}
        for name in self.ids:
            me = self.principal(name)
            self.tokens[name] = tw.accounts.create_token(me, f"{name} token")[0]
        admin = self.client("root")
        self.runs: dict[str, int] = {}
        for group in GROUPS:
            job_id = f"job-{group.lower()}"
            assert admin.post("/api/jobs", json=body_of(job_id, group)).status_code == 201
            run_id = tw.run_job(job_id, by="test")
            tw.cancel_run(run_id)  # ended: its log stream closes at once
            self.runs[group] = run_id

    def principal(self, name: str) -> Principal:
        """The principal as authentication builds it (grants loaded from the database)."""
        principal: Principal = self.api.tw.accounts.principal_for(self.ids[name], via="test")
        return principal

    def client(self, name: str) -> TestClient:
        client = TestClient(self.api.app)
        client.headers["Authorization"] = f"Bearer {self.tokens[name]}"
        return client


@pytest.fixture
def world(lite_api: Api) -> World:
    return World(lite_api)


def calls(group: str, run_id: int) -> list[tuple[str, str, str, Any]]:
    """(action, method, path, body) of every route that touches one job or its runs."""
    job = f"/api/jobs/job-{group.lower()}"
    run = f"/api/runs/{run_id}"
    return [
        ("view", "GET", job, None),
        ("view", "GET", f"{job}/stats", None),
        ("view", "GET", f"{job}/history", None),
        ("view", "GET", run, None),
        ("view", "GET", f"{run}/log", None),
        ("view", "GET", f"{run}/log/stream", None),
        ("view", "GET", f"/api/groups/{group}", None),
        ("operate", "POST", f"{job}/pause", None),
        ("operate", "POST", f"{job}/resume", None),
        ("operate", "POST", f"{job}/run", None),
        ("operate", "POST", f"{run}/cancel", None),
        ("operate", "POST", f"/api/groups/{group}/pause?dry_run=true", None),
        ("operate", "POST", f"/api/groups/{group}/pause", None),
        ("operate", "POST", f"/api/groups/{group}/resume", None),
        ("operate", "POST", f"/api/groups/{group}/run", None),
        ("edit", "PATCH", job, {"description": "changed"}),
        ("edit", "PUT", job, body_of(f"job-{group.lower()}", group, description="put")),
        ("edit", "PATCH", f"/api/groups/{group}", {"description": "group text"}),
        ("edit", "GET", f"/api/groups/{group}/members", None),
        ("view", "GET", f"{job}/then", None),
        ("edit", "PUT", f"{job}/then", {"then": []}),
    ]


def verdict(status: int, body: dict[str, Any]) -> str:
    if status == 404:
        return "404"
    if status == 403:
        known = body.get("code") in ("group_role_required", "role_required")
        return "403" if known else f"403 {body.get('code')}"
    if status >= 500:
        return f"{status}"
    return "ok"


def test_object_level_matrix(world: World) -> None:
    wrong: list[str] = []
    checked = 0
    for actor in ("alice", "ann", "oscar", "root"):
        client = world.client(actor)
        for group in GROUPS:
            for action, method, path, body in calls(group, world.runs[group]):
                response = client.request(method, path, json=body)
                got = verdict(response.status_code, _json(response))
                want = EXPECTED[(actor, group, action)]
                checked += 1
                if got != want:
                    wrong.append(
                        f"{actor} {method} {path}: {got} ({response.status_code}), want {want}"
                    )
    assert checked == 4 * 3 * len(calls("A", 1))
    assert not wrong, "\n".join(wrong)


def test_deleting_a_job_needs_admin_in_its_group(world: World) -> None:
    admin = world.client("root")
    for actor in ("alice", "ann", "oscar", "root"):
        for group in GROUPS:
            job_id = f"del-{actor}-{group.lower()}"
            assert admin.post("/api/jobs", json=body_of(job_id, group)).status_code == 201
            response = world.client(actor).delete(f"/api/jobs/{job_id}")
            got = verdict(response.status_code, _json(response))
            assert got == EXPECTED[(actor, group, "edit")], (actor, group, response.text)
            still = admin.get(f"/api/jobs/{job_id}").status_code
            assert still == (404 if got == "ok" else 200), (actor, group)


def test_creating_and_moving_jobs_need_admin_in_both_groups(world: World) -> None:
    ann = world.client("ann")
    assert ann.post("/api/jobs", json=body_of("ann-a", "A")).status_code == 201
    refused = ann.post("/api/jobs", json=body_of("ann-b", "B"))
    assert (refused.status_code, refused.json()["code"]) == (403, "group_role_required")
    assert refused.json()["params"] == {"group": "B", "role": "admin", "actual": "viewer"}
    # out of A into B, and out of B into A: both refused, nothing moved
    assert ann.patch("/api/jobs/ann-a", json={"group": "B"}).status_code == 403
    assert ann.patch("/api/jobs/job-b", json={"group": "A"}).status_code == 403
    assert ann.put("/api/jobs/ann-a", json=body_of("ann-a", "H")).status_code == 403
    # an empty group is the default group, where ann is a viewer
    assert ann.patch("/api/jobs/ann-a", json={"group": ""}).status_code == 403
    assert ann.post("/api/jobs", json=body_of("ann-empty", "")).status_code == 403
    admin = world.client("root")
    assert admin.get("/api/jobs/ann-a").json()["group"] == "A"
    assert admin.get("/api/jobs/job-b").json()["group"] == "B"
    # a group admin defines Python jobs, not commands on the scheduler's hosts
    shell = job_body("ann-shell", group="A", target={"kind": "shell", "command": ["true"]})
    response = ann.post("/api/jobs", json=shell)
    assert (response.status_code, response.json()["code"]) == (403, "admin_only_kind")


def test_list_filters_leave_hidden_groups_out(world: World) -> None:
    alice = world.client("alice")
    ids = {j["id"] for j in alice.get("/api/jobs").json()["items"]}
    assert ids == {"job-a", "job-b"}
    assert alice.get("/api/jobs", params={"group": "H"}).json()["items"] == []
    assert alice.get("/api/jobs", params={"text": "job-h"}).json()["items"] == []
    assert alice.get("/api/jobs", params={"sort": "-name"}).json()["items"][0]["id"] != "job-h"
    runs = alice.get("/api/runs").json()["items"]
    assert {r["job_id"] for r in runs} == {"job-a", "job-b"}
    assert alice.get("/api/runs", params={"job_id": "job-h"}).json()["items"] == []
    searched = alice.get("/api/runs", params={"q": "cancelled"}).json()["items"]
    assert {r["job_id"] for r in searched} == {"job-a", "job-b"}
    stats = alice.get("/api/stats").json()
    assert {j["job_id"] for j in stats["jobs"]} == {"job-a", "job-b"}
    assert stats["total"]["runs"] == 2
    upcoming = alice.get("/api/overview/upcoming").json()["items"]
    assert {j["id"] for j in upcoming} == {"job-a", "job-b"}
    timeline = alice.get("/api/overview/timeline").json()
    assert sum(b["runs"] for b in timeline["buckets"]) == 2
    groups = {g["name"]: g["your_role"] for g in alice.get("/api/groups").json()["items"]}
    assert groups == {"A": "operator", "B": "viewer"}
    # root sees all three
    root = world.client("root")
    assert {j["id"] for j in root.get("/api/jobs").json()["items"]} == {"job-a", "job-b", "job-h"}
    assert root.get("/api/stats").json()["total"]["runs"] == 3


def test_secret_parameters_never_leave_the_server_and_hidden_jobs_not_at_all(
    world: World,
) -> None:
    alice = world.client("alice")
    seen = [
        alice.get("/api/jobs/job-b").text,
        alice.get("/api/jobs").text,
        alice.get(f"/api/runs/{world.runs['B']}").text,
        alice.get("/api/jobs/job-b/history").text,
    ]
    assert all(SECRET not in text for text in seen)
    assert alice.get("/api/jobs/job-b").json()["target"]["kwargs"]["password"] == "******"
    hidden = alice.get("/api/jobs/job-h")
    assert (hidden.status_code, hidden.json()["code"]) == (404, "not_found")
    assert alice.get("/api/jobs/job-h/history").status_code == 404
    assert alice.get(f"/api/runs/{world.runs['H']}/log").status_code == 404
    # an operator of A cannot run B's job with parameters of their own either
    response = alice.post("/api/jobs/job-b/run", json={"params": {"kwargs": {"password": "x"}}})
    assert response.status_code == 403


def test_group_actions_count_first_and_touch_only_their_group(world: World) -> None:
    alice = world.client("alice")
    admin = world.client("root")
    assert admin.post("/api/jobs", json=body_of("job-a2", "A", paused=True)).status_code == 201
    preview = alice.post("/api/groups/A/pause", params={"dry_run": "true"}).json()
    assert preview == {
        "group": "A",
        "action": "pause",
        "dry_run": True,
        "jobs": 2,
        "changes": 1,
        "run_ids": [],
    }
    states = {j["id"]: j["state"] for j in admin.get("/api/jobs").json()["items"]}
    assert states["job-a"] == "scheduled"  # a dry run changes nothing
    done = alice.post("/api/groups/A/pause").json()
    assert (done["jobs"], done["changes"], done["dry_run"]) == (2, 1, False)
    states = {j["id"]: j["state"] for j in admin.get("/api/jobs").json()["items"]}
    assert states == {
        "job-a": "paused",
        "job-a2": "paused",
        "job-b": "scheduled",
        "job-h": "scheduled",
    }
    assert alice.post("/api/groups/A/resume", params={"dry_run": True}).json()["changes"] == 2
    ran = alice.post("/api/groups/A/run").json()
    assert len(ran["run_ids"]) == 2
    runs = {admin.get(f"/api/runs/{i}").json()["job_id"] for i in ran["run_ids"]}
    assert runs == {"job-a", "job-a2"}
    refused = alice.post("/api/groups/B/run")
    assert refused.status_code == 403
    assert alice.post("/api/groups/H/pause").status_code == 404
    assert {j["id"]: j["state"] for j in admin.get("/api/jobs").json()["items"]}["job-h"] == (
        "scheduled"
    )


def test_a_token_caps_the_grants_too(world: World) -> None:
    me = world.principal("alice")
    assert me.highest is Role.OPERATOR
    capped = world.api.tw.accounts.create_token(me, "read only", "viewer")[0]
    client = TestClient(world.api.app)
    client.headers["Authorization"] = f"Bearer {capped}"
    response = client.post("/api/jobs/job-a/pause")
    assert (response.status_code, response.json()["params"]["actual"]) == (403, "viewer")
    assert client.get("/api/jobs/job-h").status_code == 404  # a cap never un-hides
    assert client.get("/api/me").json()["groups"] == {"A": "viewer", "H": "none"}
    assert world.client("alice").post("/api/jobs/job-a/pause").status_code == 200
    too_high = world.client("alice").post("/api/tokens", json={"name": "x", "role": "admin"})
    assert too_high.status_code == 403


def test_a_console_session_carries_the_grants(world: World) -> None:
    session, csrf = world.api.session("viewer")
    me = session.get("/api/me").json()
    assert (me["role"], me["groups"]) == ("viewer", {"A": "operator", "H": "none"})
    paused = session.post("/api/jobs/job-a/pause", headers={"X-CSRF-Token": csrf})
    assert paused.status_code == 200
    assert session.post("/api/jobs/job-b/pause", headers={"X-CSRF-Token": csrf}).status_code == 403


def test_a_grant_change_holds_from_the_next_request(world: World) -> None:
    alice = world.client("alice")
    admin = world.client("root")
    uid = world.ids["alice"]
    assert alice.post("/api/jobs/job-b/pause").status_code == 403
    granted = admin.put(f"/api/users/{uid}/grants/B", json={"role": "operator"})
    assert granted.json()["grants"] == {"A": "operator", "B": "operator", "H": "none"}
    assert alice.post("/api/jobs/job-b/pause").status_code == 200
    assert admin.delete(f"/api/users/{uid}/grants/H").json()["grants"] == {
        "A": "operator",
        "B": "operator",
    }
    assert alice.get("/api/jobs/job-h").status_code == 200  # the global viewer role again


@pytest.mark.parametrize(
    ("principal", "group", "action", "allowed"),
    [
        (Principal(1, "v", Role.VIEWER, via="t", grants={"A": Role.OPERATOR}), "A", "run", True),
        (Principal(1, "v", Role.VIEWER, via="t", grants={"A": Role.OPERATOR}), "B", "run", False),
        (Principal(1, "v", Role.VIEWER, via="t", grants={"A": Role.OPERATOR}), "B", "view", True),
        (Principal(1, "v", Role.VIEWER, via="t", grants={"A": Role.OPERATOR}), "A", "edit", False),
        (Principal(1, "o", Role.OPERATOR, via="t", grants={"B": Role.VIEWER}), "B", "pause", False),
        (Principal(1, "o", Role.OPERATOR, via="t", grants={"B": None}), "B", "view", False),
        (Principal(1, "a", Role.ADMIN, via="t", grants={"B": Role.VIEWER}), "B", "delete", False),
        (Principal(1, "a", Role.ADMIN, via="t"), "anything", "delete", True),
    ],
)
def test_can_is_the_rule_workflows_call(
    principal: Principal, group: str, action: str, allowed: bool
) -> None:
    assert can(principal, action, group) is allowed
    if allowed:
        check(principal, action, group)
    else:
        with pytest.raises((PermissionDenied, NotFound)):
            check(principal, action, group)


def test_can_names_its_actions() -> None:
    me = Principal(1, "v", Role.VIEWER, via="t", grants={"H": None})
    assert role_in(me, "H") is None
    assert role_in(me, "other") is Role.VIEWER
    with pytest.raises(NotFound):
        check(me, Action.VIEW, "H")
    with pytest.raises(ValueError, match="unknown action"):
        can(me, "fly", "A")


def _json(response: Any) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def test_connections_and_scripts_name_only_visible_users(world: World, tmp_path: Any) -> None:
    tw = world.api.tw
    tw.add_connection("warehouse", "database", {"url": f"sqlite:///{tmp_path / 'w.db'}"}, by="t")
    tw.push_script("tidy", "print(1)\n", language="python", by="t")
    admin = world.client("root")
    for job_id, group in (("sql-a", "A"), ("sql-h", "H")):
        sql = {"kind": "sql", "connection": "warehouse", "statement": "SELECT 1"}
        assert (
            admin.post("/api/jobs", json=job_body(job_id, group=group, target=sql)).status_code
            == 201
        )
        script = {"kind": "script", "language": "python", "script": "tidy"}
        made = admin.post("/api/jobs", json=job_body(f"s{job_id}", group=group, target=script))
        assert made.status_code == 201, made.text
    alice = world.client("alice")
    assert alice.get("/api/connections/warehouse").json()["used_by"] == ["sql-a"]
    listed = alice.get("/api/connections").json()["items"]
    assert [c["used_by"] for c in listed] == [["sql-a"]]
    assert alice.get("/api/scripts/tidy").json()["used_by"] == ["ssql-a"]
    assert alice.get("/api/scripts").json()["items"][0]["used_by"] == ["ssql-a"]
    assert sorted(admin.get("/api/connections/warehouse").json()["used_by"]) == ["sql-a", "sql-h"]


def test_a_group_grant_opens_no_global_route(world: World) -> None:
    """Ann administers group A; users, the audit, settings, connections, scripts, the whole
    scheduler and declaring or removing groups stay with global roles."""
    ann = world.client("ann")
    alice = world.client("alice")
    refused = [
        (ann, "GET", "/api/users", None),
        (ann, "GET", "/api/audit", None),
        (ann, "GET", "/api/settings", None),
        (ann, "POST", "/api/groups", {"name": "mine"}),
        (ann, "DELETE", "/api/groups/A", None),
        (ann, "PUT", f"/api/users/{world.ids['alice']}/grants/A", {"role": "admin"}),
        (ann, "POST", "/api/connections", {"name": "c", "kind": "database", "fields": {}}),
        (ann, "POST", "/api/scripts", {"name": "s", "language": "python", "code": "print(1)"}),
        (alice, "POST", "/api/scheduler/pause", None),
    ]
    for client, method, path, body in refused:
        response = client.request(method, path, json=body)
        assert (response.status_code, response.json()["code"]) == (403, "role_required"), path
    assert world.api.tw.is_paused() is False


def test_principal_for_loads_a_users_grants(world: World) -> None:
    me = world.api.tw.accounts.principal_for(world.ids["alice"])
    assert (me.role, dict(me.grants)) == (Role.VIEWER, {"A": Role.OPERATOR, "H": None})
    assert can(me, "run", "A")
    assert not can(me, "view", "H")


def workflow_of(client: TestClient, workflow_id: str, *groups: str) -> int:
    steps = [{"id": f"s{g.lower()}", "job": f"job-{g.lower()}"} for g in groups]
    body = {"id": workflow_id, "steps": steps}
    return client.post("/api/workflows", json=body).status_code


def test_a_workflow_needs_the_role_in_every_step_jobs_group(world: World) -> None:
    """Workflow steps are no way round a group's grant: oscar (global operator, viewer in B)
    runs a workflow of A and H jobs but not one with a B step; alice (none in H) does not see
    a workflow with an H step at all; ann (admin of A only) may not define one."""
    root, oscar, alice = world.client("root"), world.client("oscar"), world.client("alice")
    assert workflow_of(root, "wf-ah", "A", "H") == 201
    assert workflow_of(root, "wf-ab", "A", "B") == 201
    assert oscar.post("/api/workflows/wf-ah/run").status_code == 202
    refused = oscar.post("/api/workflows/wf-ab/run")
    assert refused.status_code == 403
    assert refused.json()["code"] == "group_role_required"
    assert oscar.post("/api/workflows/wf-ab/pause").status_code == 403
    assert oscar.get("/api/workflows/wf-ab").status_code == 200  # viewer in B still reads
    listed = {w["id"] for w in alice.get("/api/workflows").json()["items"]}
    assert listed == {"wf-ab"}
    assert alice.get("/api/workflows/wf-ah").status_code == 404
    assert alice.get("/api/workflows/wf-ah/runs").status_code == 404
    assert workflow_of(world.client("ann"), "wf-ann", "A") == 403  # the route's admin gate
    # a job's then list: operator in each group of the jobs it queues
    assert root.put("/api/jobs/job-a/then", json={"then": ["job-b"]}).status_code == 200


def test_a_grant_that_lowers_an_admin_holds_for_then_and_templates(world: World) -> None:
    root = world.client("root")
    admin_id = world.api.users["admin"]
    world.api.tw.accounts.set_grant(admin_id, "B", "viewer", by=world.principal("alice"))
    refused = root.put("/api/jobs/job-a/then", json={"then": ["job-b"]})
    assert refused.status_code == 403, refused.text
    assert root.put("/api/jobs/job-b/then", json={"then": ["job-a"]}).status_code == 403
    assert root.get("/api/jobs/job-b/then").status_code == 200
    assert world.client("alice").get("/api/jobs/job-h/template").status_code == 404
