"""Issue 9, item 4: bounded structure, atomic writes.

JSON nested 500-989 deep passed the size check, was stored, and then the job list, the run
history and the audit pages answered 500; an admin's create answered 500 but was written
anyway. Now nesting is refused in every JSON input, and a request that fails writes nothing:
each write route runs in one transaction that commits only once its response is built."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.api.conftest import Api, job_body
from tests.api.test_canary import dump_tables
from tickwork.api import convert
from tickwork.api import schemas as s


def nested(depth: int) -> str:
    """JSON text of a value nested ``depth`` lists deep (built as text: Python's own encoder
    stops near 1,000 levels)."""
    return "[" * depth + '"leaf"' + "]" * depth


HOLE = "@@deep@@"


def text_with(body: Any, deep: str) -> str:
    """``body`` as JSON text with the deep value where it says HOLE."""
    return json.dumps(body).replace(json.dumps(HOLE), deep)


def send(client: Any, method: str, path: str, body: Any, deep: str) -> Any:
    return client.request(
        method, path, content=text_with(body, deep), headers={"Content-Type": "application/json"}
    )


@pytest.mark.parametrize("depth", [33, 500, 989])
def test_deep_json_is_refused_and_the_pages_keep_working(lite_api: Api, depth: int) -> None:
    admin = lite_api.client("admin")
    before = dump_tables(lite_api)
    deep = nested(depth)
    for body in (
        job_body("deep", target={"ref": "tests.api.tasks:noop", "kwargs": {"x": HOLE}}),
        job_body("deep", target={"ref": "tests.api.tasks:noop", "args": [HOLE]}),
        job_body("deep", trigger={"kind": "cron", "args": {"hour": HOLE}}),
        job_body("deep", trigger={"kind": "cron", "spec": {"kind": "cron", "x": HOLE}}),
    ):
        response = send(admin, "POST", "/api/jobs", body, deep)
        assert response.status_code == 422, response.text[:300]
    # nesting in a body whose field takes any JSON, and in one that takes text
    assert admin.post("/api/jobs", json=job_body("ok")).status_code == 201
    for method, path, body in (
        ("PATCH", "/api/jobs/ok", {"target": {"kwargs": {"x": HOLE}}}),
        ("POST", "/api/tokens", {"name": HOLE}),
        ("POST", "/api/jobs/ok/run", {"params": {"kwargs": {"x": HOLE}}}),
        ("POST", "/api/auth/login", {"username": "admin-user", "password": HOLE}),
    ):
        response = send(admin, method, path, body, deep)
        assert response.status_code == 422, (path, response.text[:300])
    after = dump_tables(lite_api)
    assert "'id': 'deep'" not in after["tw_job"]
    assert before["tw_run"] == after["tw_run"]
    for path in ("/api/jobs", "/api/runs", "/api/audit", "/api/jobs/ok/history", "/api/stats"):
        assert admin.get(path).status_code == 200, path


def fail(*_: Any, **__: Any) -> Any:
    raise RuntimeError("the response could not be built")


# (method, path, body, what builds its response): each write, made to fail after its change
WRITES: list[tuple[str, str, dict[str, Any] | None, tuple[Any, str]]] = [
    ("POST", "/api/jobs", job_body("new"), (convert, "job_out")),
    ("PUT", "/api/jobs/w", job_body("w", description="changed"), (convert, "job_out")),
    ("PATCH", "/api/jobs/w", {"description": "changed"}, (convert, "job_out")),
    ("POST", "/api/jobs/w/pause", None, (convert, "job_out")),
    ("POST", "/api/jobs/w/run", None, (s, "RunQueued")),
    ("DELETE", "/api/jobs/w", None, (s, "RunQueued")),  # a failure after the delete itself
    ("POST", "/api/groups/g/pause", None, ("tickwork.api.schemas_groups", "GroupAction")),
    ("POST", "/api/scheduler/pause", None, ("tickwork.api.routers.scheduler", "scheduler_status")),
    (
        "POST",
        "/api/users",
        {"username": "newbie", "password": "a long new passphrase", "role": "viewer"},
        (convert, "user_out"),
    ),
    ("POST", "/api/tokens", {"name": "t"}, (convert, "token_out")),
]


@pytest.mark.parametrize(("method", "path", "body", "target"), WRITES)
def test_a_request_that_fails_writes_nothing(
    lite_api: Api,
    monkeypatch: pytest.MonkeyPatch,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    target: tuple[Any, str],
) -> None:
    admin = lite_api.client("admin")
    assert admin.post("/api/jobs", json=job_body("w", group="g")).status_code == 201
    before = dump_tables(lite_api)
    module, name = target
    if isinstance(module, str):
        monkeypatch.setattr(f"{module}.{name}", fail)
    else:
        monkeypatch.setattr(module, name, fail)
    if path == "/api/jobs/w" and method == "DELETE":
        monkeypatch.setattr("tickwork.api.routers.jobs.Response", fail)
    client = lite_api.client("admin")
    client_raises = False
    try:
        response = client.request(method, path, json=body)
    except RuntimeError:
        client_raises = True  # the test client re-raises what the app did not handle
    else:
        assert response.status_code == 500, response.text
    assert client_raises or response.headers["content-type"].startswith("application/problem")
    assert dump_tables(lite_api) == before, f"{method} {path} failed but wrote"
