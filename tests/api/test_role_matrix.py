"""The role x route matrix. The least role of every operation is written down once, below, by
hand: a reviewer checks it against the product's rules (a viewer reads; an operator also
pauses, resumes, runs and cancels; an admin also defines jobs and manages users). It is not
read from the code's ``role=`` arguments or from ``x-required-role``, so a route opened to the
wrong role fails here. Every operation of the OpenAPI document must have a row, and every row
an operation: a new route needs a new row (later issues add theirs to the same table)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import fastapi.routing
import pytest
from fastapi import FastAPI

from tests.api.conftest import ROLES, Api, job_body
from tickwork.api.routers import pages

# method  path                                   least role (anonymous, viewer, operator, admin)
ROLE_TABLE = """
GET     /healthz                                  anonymous
GET     /readyz                                   anonymous
POST    /api/auth/login                           anonymous
POST    /api/auth/logout                          viewer
GET     /api/me                                   viewer
POST    /api/me/password                          viewer

GET     /api/jobs                                 viewer
POST    /api/jobs                                 admin
GET     /api/jobs/{job_id}                        viewer
PUT     /api/jobs/{job_id}                        admin
PATCH   /api/jobs/{job_id}                        admin
DELETE  /api/jobs/{job_id}                        admin
POST    /api/jobs/{job_id}/pause                  operator
POST    /api/jobs/{job_id}/resume                 operator
POST    /api/jobs/{job_id}/run                    operator
GET     /api/jobs/{job_id}/stats                  viewer
GET     /api/jobs/{job_id}/history                viewer
GET     /api/groups                               viewer
POST    /api/groups                               admin
GET     /api/groups/{group}                       viewer
PATCH   /api/groups/{group}                       admin
DELETE  /api/groups/{group}                       admin
GET     /api/groups/{group}/members               admin
POST    /api/groups/{group}/pause                 operator
POST    /api/groups/{group}/resume                operator
POST    /api/groups/{group}/run                   operator
GET     /api/users/{user_id}/grants               admin
PUT     /api/users/{user_id}/grants/{group}       admin
DELETE  /api/users/{user_id}/grants/{group}       admin

GET     /api/runs                                 viewer
GET     /api/runs/{run_id}                        viewer
GET     /api/runs/{run_id}/log                    viewer
GET     /api/runs/{run_id}/log/stream             viewer
POST    /api/runs/{run_id}/cancel                 operator

GET     /api/scheduler                            viewer
POST    /api/scheduler/pause                      operator
POST    /api/scheduler/resume                     operator
GET     /api/stats                                viewer
GET     /metrics                                  viewer
POST    /api/cron/preview                         viewer
GET     /api/overview/timeline                    viewer
GET     /api/overview/upcoming                    viewer

GET     /api/users                                admin
POST    /api/users                                admin
GET     /api/users/{user_id}                      admin
PATCH   /api/users/{user_id}                      admin
DELETE  /api/users/{user_id}                      admin
GET     /api/tokens                               viewer
POST    /api/tokens                               viewer
DELETE  /api/tokens/{token_id}                    viewer
GET     /api/audit                                admin

GET     /api/connections                          viewer
POST    /api/connections                          admin
GET     /api/connections/{name}                   viewer
PATCH   /api/connections/{name}                   admin
DELETE  /api/connections/{name}                   admin
POST    /api/connections/{name}/test              admin
GET     /api/scripts                              viewer
POST    /api/scripts                              admin
GET     /api/scripts/{name}                       viewer
DELETE  /api/scripts/{name}                       admin
GET     /api/scripts/{name}/versions              viewer
POST    /api/scripts/{name}/versions              admin
GET     /api/scripts/{name}/versions/{version}    viewer
GET     /api/scripts/{name}/diff                  viewer
POST    /api/scripts/{name}/rollback              admin
GET     /api/kinds                                viewer
GET     /api/builtins                             viewer
GET     /api/maintenance/sizes                    viewer
GET     /api/settings                             admin
POST    /api/targets/http/test                    admin

GET     /api/workflows                            viewer
POST    /api/workflows                            admin
GET     /api/workflows/{workflow_id}              viewer
PUT     /api/workflows/{workflow_id}              admin
DELETE  /api/workflows/{workflow_id}              admin
POST    /api/workflows/{workflow_id}/run          operator
POST    /api/workflows/{workflow_id}/pause        operator
POST    /api/workflows/{workflow_id}/resume       operator
GET     /api/workflows/{workflow_id}/runs         viewer
GET     /api/workflows/{workflow_id}/runs/{workflow_run_id}            viewer
POST    /api/workflows/{workflow_id}/runs/{workflow_run_id}/rerun      operator
POST    /api/workflows/{workflow_id}/runs/{workflow_run_id}/cancel     operator
GET     /api/jobs/{job_id}/then                   viewer
PUT     /api/jobs/{job_id}/then                   admin
GET     /api/forecast                             viewer
GET     /api/templates                            viewer
GET     /api/templates/{name}                     viewer
PUT     /api/templates/{name}                     admin
DELETE  /api/templates/{name}                     admin
GET     /api/templates/{name}/jobs                viewer
POST    /api/templates/{name}/jobs                admin
GET     /api/templates/{name}/rollout             viewer
POST    /api/templates/{name}/rollout             admin
GET     /api/jobs/{job_id}/template               viewer
GET     /api/queues                               viewer
GET     /api/alerts/channels                      admin
POST    /api/alerts/channels                      admin
GET     /api/alerts/channels/{name}               admin
PATCH   /api/alerts/channels/{name}               admin
DELETE  /api/alerts/channels/{name}               admin
POST    /api/alerts/channels/{name}/test          admin
GET     /api/alerts/rules                         viewer
POST    /api/alerts/rules                         admin
GET     /api/alerts/rules/{rule_id}               viewer
PATCH   /api/alerts/rules/{rule_id}               admin
DELETE  /api/alerts/rules/{rule_id}               admin
GET     /api/alerts/history                       viewer
GET     /api/alerts/history/{alert_id}            viewer
"""

# Routes left out of the OpenAPI document on purpose, all public: the document itself and its
# reference page, the console's client-side paths ({page}: each of pages.PAGES; the page holds
# no data) and the JSON 404 for unknown /api paths.
HIDDEN_PUBLIC = """
GET     /api/openapi.json
GET     /api/docs
GET     /api/docs.css
GET     /{page}
GET     /{page}/{rest:path}
*       /api/{rest:path}
"""

LEVEL = {"anonymous": 0, "viewer": 1, "operator": 2, "admin": 3}


def parse_table(text: str) -> dict[tuple[str, str], str]:
    table: dict[tuple[str, str], str] = {}
    for line in text.strip().splitlines():
        if not line.strip():
            continue
        method, path, role = line.split()
        assert role in LEVEL, f"{line!r}: unknown role {role!r}"
        assert (method, path) not in table, f"{method} {path} has two rows"
        table[(method, path)] = role
    return table


EXPECTED = parse_table(ROLE_TABLE)


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, op)
        for path, item in spec["paths"].items()
        for method, op in item.items()
    ]


def all_routes(app: FastAPI) -> list[Any]:
    """Every route with its path and methods, those of included routers too (FastAPI 0.16x
    keeps included routers as one entry of ``app.routes``; earlier versions list them flat)."""
    flatten = getattr(fastapi.routing, "iter_route_contexts", None)
    return list(flatten(app.routes)) if flatten is not None else list(app.routes)


@pytest.fixture
def world(lite_api: Api, tmp_path: Path) -> dict[str, str]:
    """Objects the paths name, so allowed calls reach their handlers. The connection is a
    SQLite file of the test's own: testing it opens nothing beyond this machine."""
    admin = lite_api.client("admin")
    assert admin.post("/api/jobs", json=job_body("matrix-job", group="g")).status_code == 201
    sqlite_url = f"sqlite:///{tmp_path / 'matrix.db'}"
    lite_api.tw.add_connection("matrix-thing", "database", {"url": sqlite_url}, by="t")
    lite_api.tw.push_script("matrix-thing", "print(1)\n", language="python", by="t")
    run_id = lite_api.tw.run_job("matrix-job")
    lite_api.tw.cancel_run(run_id)  # ended: its log stream closes at once
    lite_api.tw.add_workflow("matrix-flow", [{"id": "s", "job": "matrix-job"}], by="t")
    workflow_run_id = lite_api.tw.run_workflow("matrix-flow", by="t")
    victim = lite_api.tw.accounts.create_user("victim", "victim password 1", "viewer", by="t")
    # alerts: an email channel whose SMTP server is on loopback (the SSRF guard refuses it
    # before any connection), a rule, and an alert (the channel's test message)
    lite_api.tw.add_connection(
        "matrix-mail", "smtp",
        {"host": "127.0.0.1", "port": 9, "security": "none", "from_addr": "tw@example.com"},
    )  # fmt: skip
    lite_api.tw.add_alert_channel(
        "matrix-thing", "email", {"connection": "matrix-mail", "to": ["ops@example.com"]}
    )
    lite_api.tw.add_alert_rule({"id": "matrix-rule", "kind": "failed", "channels": []})
    alert_id = lite_api.tw.test_alert_channel("matrix-thing")["alert_id"]
    return {
        "rule_id": "matrix-rule",
        "alert_id": str(alert_id),
        "job_id": "matrix-job",
        "run_id": str(run_id),
        "user_id": str(victim.id),
        "token_id": "0000000000000000",
        "group": "g",
        "name": "matrix-thing",
        "version": "1",
        "workflow_id": "matrix-flow",
        "workflow_run_id": str(workflow_run_id),
    }


def fill(path: str, values: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], path)


def call(api: Api, role: str | None, method: str, path: str, op: dict[str, Any]) -> int:
    client = api.client(role)
    kwargs: dict[str, Any] = {}
    if "requestBody" in op:
        kwargs["json"] = {}
    return client.request(method, path, **kwargs).status_code


def test_the_table_has_a_row_for_every_operation_and_no_other(lite_api: Api) -> None:
    documented = {(m, p) for m, p, _ in operations(lite_api.app.openapi())}
    missing = sorted(documented - EXPECTED.keys())
    stale = sorted(EXPECTED.keys() - documented)
    assert not missing, "operations without a row in ROLE_TABLE: " + ", ".join(
        f"{m} {p}" for m, p in missing
    )
    assert not stale, "ROLE_TABLE rows with no such operation: " + ", ".join(
        f"{m} {p}" for m, p in stale
    )


def test_the_documented_role_agrees_with_the_table(lite_api: Api) -> None:
    """``x-required-role`` is what API clients read; it must say what the table says."""
    wrong = []
    for method, path, op in operations(lite_api.app.openapi()):
        declared = op.get("x-required-role")
        expected = EXPECTED.get((method, path))
        if expected is not None and declared != ("public" if expected == "anonymous" else expected):
            wrong.append(f"{method} {path}: declares {declared!r}, the table says {expected}")
    assert not wrong, "\n".join(wrong)


def test_routes_outside_the_document_are_the_known_public_ones(lite_api: Api) -> None:
    """A route hidden from the OpenAPI document escapes the matrix: only these may exist."""
    expected = set()
    for line in HIDDEN_PUBLIC.strip().splitlines():
        method, path = line.split()
        methods = ("GET", "POST", "PUT", "PATCH", "DELETE") if method == "*" else (method,)
        paths = [path.replace("{page}", p) for p in pages.PAGES] if "{page}" in path else [path]
        expected |= {(m, p) for m in methods for p in paths}
    hidden = {
        (method, route.path)
        for route in all_routes(lite_api.app)
        if not getattr(route, "include_in_schema", True)
        for method in getattr(route, "methods", ())
        if method != "HEAD"
    }
    assert hidden == expected
    client = lite_api.client()
    for method, path in sorted(expected):
        status = client.request(method, path.replace("{rest:path}", "x")).status_code
        assert status not in (401, 403), f"{method} {path}: {status}"


def test_role_route_matrix(lite_api: Api, world: dict[str, str]) -> None:
    spec = lite_api.app.openapi()
    wrong: list[str] = []
    checked = 0
    # Reads first, deletions last, so the objects the paths name exist for most calls.
    ops = sorted(operations(spec), key=lambda o: (o[0] == "DELETE", o[0] != "GET"))
    for method, path, op in ops:
        needed = EXPECTED[(method, path)]
        url = fill(path, world)
        status = call(lite_api, None, method, url, op)
        if needed == "anonymous" and status in (401, 403):
            wrong.append(f"anonymous {method} {path}: {status}, expected to be let in")
        if needed != "anonymous" and status != 401:
            wrong.append(f"anonymous {method} {path}: {status}, expected 401")
        for role in ROLES:
            status = call(lite_api, role, method, url, op)
            checked += 1
            allowed = LEVEL[role] >= LEVEL[needed]
            if allowed and status in (401, 403):
                wrong.append(f"{role} {method} {path}: {status}, expected to be let in")
            if not allowed and status != 403:
                wrong.append(f"{role} {method} {path}: {status}, expected 403")
            if status >= 500 and not (path == "/readyz" and status == 503):
                wrong.append(f"{role} {method} {path}: {status}")
    assert checked == 3 * len(EXPECTED)
    assert not wrong, "\n".join(wrong)


def test_anonymous_401_carries_www_authenticate_and_problem_json(lite_api: Api) -> None:
    response = lite_api.client().get("/api/jobs")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["title"] == "Authentication required"


def test_garbage_credentials_are_401(lite_api: Api) -> None:
    client = lite_api.client()
    for header in ("Bearer nope", "Bearer tw_" + "x" * 43, "Basic YWRtaW46YWRtaW4=", "Bearer"):
        assert client.get("/api/jobs", headers={"Authorization": header}).status_code == 401
    client.cookies.set("tw_session", "forged")
    assert client.get("/api/jobs").status_code == 401


# Routes that name a job, a run or a group yet act globally (grants are managed by admins).
GLOBAL_THOUGH_NAMED = {
    ("PUT", "/api/users/{user_id}/grants/{group}"),
    ("DELETE", "/api/users/{user_id}/grants/{group}"),
    ("DELETE", "/api/groups/{group}"),
}


def test_every_route_that_names_a_job_run_or_group_checks_its_group(lite_api: Api) -> None:
    """A route with a job, run or group in its path declares ``x-role-scope: group``: its
    handler checks the caller's role in that group (tests/api/test_group_matrix.py proves
    the checks); a new such route without it fails here."""
    wrong = []
    for method, path, op in operations(lite_api.app.openapi()):
        named = any(p in path for p in ("{job_id}", "{run_id}", "{group}"))
        scoped = op.get("x-role-scope") == "group"
        if named and (method, path) not in GLOBAL_THOUGH_NAMED and not scoped:
            wrong.append(f"{method} {path}: x-role-scope {op.get('x-role-scope')!r}")
    assert not wrong, "\n".join(wrong)
