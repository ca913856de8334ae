"""The role x route matrix, generated from the OpenAPI document: every operation declares a
minimum role, anonymous callers get 401, lower roles 403, the rest get past the check."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.api.conftest import ROLES, Api, job_body

LEVEL = {"viewer": 1, "operator": 2, "admin": 3}
# The only routes open without credentials.
PUBLIC = {("GET", "/healthz"), ("GET", "/readyz"), ("POST", "/api/auth/login")}


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, op)
        for path, item in spec["paths"].items()
        for method, op in item.items()
    ]


@pytest.fixture
def world(lite_api: Api) -> dict[str, str]:
    """Objects the paths name, so allowed calls reach their handlers."""
    admin = lite_api.client("admin")
    assert admin.post("/api/jobs", json=job_body("matrix-job", group="g")).status_code == 201
    run_id = lite_api.tw.run_job("matrix-job")
    lite_api.tw.cancel_run(run_id)  # ended: its log stream closes at once
    victim = lite_api.tw.accounts.create_user("victim", "victim password 1", "viewer", by="t")
    return {
        "job_id": "matrix-job",
        "run_id": str(run_id),
        "user_id": str(victim.id),
        "token_id": "0000000000000000",
        "group": "g",
    }


def fill(path: str, values: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], path)


def call(api: Api, role: str | None, method: str, path: str, op: dict[str, Any]) -> int:
    client = api.client(role)
    kwargs: dict[str, Any] = {}
    if "requestBody" in op:
        kwargs["json"] = {}
    return client.request(method, path, **kwargs).status_code


def test_every_operation_declares_a_role(lite_api: Api) -> None:
    spec = lite_api.app.openapi()
    ops = operations(spec)
    assert len(ops) >= 30
    for method, path, op in ops:
        role = op.get("x-required-role")
        assert role in ("public", *ROLES), f"{method} {path} declares no role"
        if role == "public":
            assert (method, path) in PUBLIC, f"{method} {path} is public but not on the list"
    assert {(m, p) for m, p, op in ops if op["x-required-role"] == "public"} == PUBLIC


def test_role_route_matrix(lite_api: Api, world: dict[str, str]) -> None:
    spec = lite_api.app.openapi()
    wrong: list[str] = []
    checked = 0
    # Reads first, deletions last, so the objects the paths name exist for most calls.
    ops = sorted(operations(spec), key=lambda o: (o[0] == "DELETE", o[0] != "GET"))
    for method, path, op in ops:
        needed = op["x-required-role"]
        url = fill(path, world)
        if needed != "public":
            status = call(lite_api, None, method, url, op)
            if status != 401:
                wrong.append(f"anonymous {method} {path}: {status}, expected 401")
        for role in ROLES:
            status = call(lite_api, role, method, url, op)
            checked += 1
            allowed = needed == "public" or LEVEL[role] >= LEVEL[needed]
            if allowed and status in (401, 403):
                wrong.append(f"{role} {method} {path}: {status}, expected to be let in")
            if not allowed and status != 403:
                wrong.append(f"{role} {method} {path}: {status}, expected 403")
            if status >= 500 and not (path == "/readyz" and status == 503):
                wrong.append(f"{role} {method} {path}: {status}")
    assert checked >= 90
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
