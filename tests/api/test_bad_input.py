"""Bad input is refused before anything is written, with problem+json naming the field:
DESIGN.md's cron list, other job fields, and bodies over the size limit (413)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import Api, job_body

# DESIGN.md, "Cron dialect": what every face must refuse.
BAD_CRON = [
    "5-2 * * * *",  # reversed range
    "0 0 * * 5-1",
    "60 * * * *",  # out of range
    "0 24 * * *",
    "0 0 32 * *",
    "0 0 0 * *",
    "0 0 * 13 *",
    "0 0 * * 8",
    "0 0 30 2 *",  # never fires
    "0 0 31 4,6,9,11 *",
    "0 0 * FOO *",  # unknown names
    "0 0 * * FUNDAY",
    "@sometimes",
    "* * * *",  # wrong field counts
    "* * * * * * * *",
    "",
    "*/0 * * * *",  # zero step
    "0 0 L-40 * *",
    "0 0 * * 1#6",
    "0 0 32W * *",
    "a b c d e",
]


def counts(api: Api) -> tuple[int, int]:
    return api.tw.job_counts()["total"], api.tw.audit.count()


def problem(response: Any, status: int = 422) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["title"]
    assert body["detail"]
    return body


@pytest.mark.parametrize("expr", BAD_CRON)
def test_bad_cron_is_refused_naming_the_field_and_writes_nothing(lite_api: Api, expr: str) -> None:
    admin = lite_api.client("admin")
    before = counts(lite_api)
    body = problem(admin.post("/api/jobs", json=job_body("bad", trigger={"expr": expr})))
    assert body["field"].startswith("trigger"), body
    preview = problem(admin.post("/api/cron/preview", json={"expr": expr}))
    assert preview["field"], preview
    admin.post("/api/jobs", json=job_body("good"))
    changed = problem(admin.patch("/api/jobs/good", json={"trigger": {"expr": expr}}))
    assert changed["field"].startswith("trigger")
    after = counts(lite_api)
    assert after == (before[0] + 1, before[1] + 1)  # only "good" and its creation
    assert lite_api.tw.get_job("bad") is None
    good = lite_api.tw.get_job("good")
    assert good is not None
    assert good.version == 1


FIELD_CASES: list[tuple[dict[str, Any], str]] = [
    ({"id": "-starts-with-dash"}, "id"),
    ({"id": "x" * 300}, "id"),
    ({"timezone": "Mars/Olympus"}, "timezone"),
    ({"target": {"ref": "not a reference"}}, "target"),
    ({"target": {"ref": "os:system", "args": "rm -rf /"}}, "target.args"),
    ({"target": {"ref": "m:f", "kwargs": {"a": 1}}, "secret_keys": ["b"]}, "secret_keys"),
    ({"policies": {"retries": -1}}, "retries"),
    ({"policies": {"max_instances": 0}}, "max_instances"),
    ({"policies": {"timeout_s": 0}}, "timeout_s"),
    ({"policies": {"misfire_policy": "sometimes"}}, "policies.misfire_policy"),
    ({"policies": {"retry_backoff_s": 10, "retry_backoff_max_s": 1}}, "retry_backoff_max_s"),
    ({"executor": "gpu"}, "executor"),
    ({"tags": ["ok", ""]}, "tags"),
    ({"name": "bell\x07"}, "name"),
    ({"trigger": {"kind": "interval", "args": {"seconds": -5}}}, "trigger"),
    ({"trigger": {"kind": "interval", "expr": "* * * * *"}}, "trigger.expr"),
    ({"trigger": {"kind": "cron", "expr": "* * * * *", "args": {"hour": 1}}}, "trigger"),
    ({"trigger": {"kind": "date", "args": {"run_date": "yesterday-ish"}}}, "trigger"),
    ({"trigger": {"kind": "cron", "args": {"hour": 25}}}, "trigger"),
    ({"unknown_field": 1}, "unknown_field"),
]


@pytest.mark.parametrize(("changes", "field"), FIELD_CASES)
def test_bad_fields_are_named(lite_api: Api, changes: dict[str, Any], field: str) -> None:
    before = counts(lite_api)
    body = problem(lite_api.client("admin").post("/api/jobs", json=job_body("x", **changes)))
    assert body["field"].startswith(field), body
    assert counts(lite_api) == before


def test_malformed_json_is_a_problem_too(lite_api: Api) -> None:
    response = lite_api.client("admin").post(
        "/api/jobs", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    problem(response)


def test_oversized_bodies_are_413_and_write_nothing(lite_api: Api) -> None:
    admin = lite_api.client("admin")
    before = counts(lite_api)
    huge = job_body("huge", description="x" * (2 * 1024 * 1024))
    body = problem(admin.post("/api/jobs", json=huge), 413)
    assert body["field"] == "body"

    # without Content-Length: the limit holds while the body streams in
    def chunks() -> Any:
        yield b'{"id": "huge", "description": "'
        for _ in range(40):
            yield b"y" * 65536
        yield b'"}'

    streamed = admin.post(
        "/api/jobs", content=chunks(), headers={"Content-Type": "application/json"}
    )
    problem(streamed, 413)
    # args bigger than the facade's 64 KiB limit, but under the body limit: 422, named
    big_args = job_body("big", target={"ref": "m:f", "args": ["z" * 70_000]})
    assert problem(admin.post("/api/jobs", json=big_args))["field"] == "args"
    assert counts(lite_api) == before


def test_unknown_api_routes_are_problem_404(lite_api: Api) -> None:
    response = lite_api.client("viewer").get("/api/nothing-here")
    problem(response, 404)
