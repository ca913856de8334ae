"""The OpenAPI document keeps its promises: schemathesis generates requests for every
operation (as an admin with an API token) and checks that none fails with a 5xx, and that
every response matches its documented status, media type and schema."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.conftest import Api, job_body, make_api

# Per operation; 25 keeps the whole check around half a minute (80 passed too, in 2.5 min).
# The examples are the same on every run unless TW_SCHEMATHESIS_RANDOM is set.
EXAMPLES = int(os.environ.get("TW_SCHEMATHESIS_EXAMPLES", "25"))


@pytest.fixture(scope="module")
def schema_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    data = tmp_path_factory.mktemp("schemathesis")
    api = make_api(f"sqlite:///{data / 'tickwork.db'}", data)
    admin = api.client("admin")
    for i in range(3):
        admin.post("/api/jobs", json=job_body(f"job-{i}", group="g", tags=["t"]))
    for i in range(3):
        api.tw.run_job(f"job-{i}")
    api.tw.add_connection("conn-1", "redis", {"url": "redis://127.0.0.1:6379/0"})
    api.tw.push_script("script-1", "print(1)\n", language="python")
    yield api
    api.tw.close()


# Operations that reach out to the network (a connection's test, the HTTP test request): a
# fuzzer's public address would be a real request from the tests. tests/api/test_kinds_api.py
# covers them against servers of its own on 127.0.0.1.
OUTBOUND = (
    "/api/connections/{name}/test",
    "/api/targets/http/test",
    "/api/alerts/channels/{name}/test",  # tests/alerts/test_alerts_api.py, on 127.0.0.1
)


def operations(api: Api) -> list[Any]:
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", api.app)
    return [
        op
        for op in (result.ok() for result in schema.get_all_operations())
        if op.path not in OUTBOUND
    ]


def check_op(operation: Any, checks: list[Any], headers: dict[str, str]) -> None:
    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=os.environ.get("TW_SCHEMATHESIS_RANDOM") is None,  # stable in CI
        suppress_health_check=list(HealthCheck),
    )
    def check(case: Any) -> None:
        case.call_and_validate(headers=headers, checks=checks)

    check()


def test_api_keeps_its_openapi_promises(schema_api: Api) -> None:
    """Driven with plain Hypothesis (schemathesis' pytest plugin does not load on pytest 9)."""
    headers = {"Authorization": f"Bearer {schema_api.tokens['admin']}"}
    checks = [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
    ]
    tested = []
    for operation in operations(schema_api):
        if operation.path.endswith("/log/stream"):
            continue  # a stream of a queued run never ends; tests/api/test_live.py covers it

        # /readyz answers a documented 503 while no scheduler runs (none does here)
        check_op(operation, checks[1:] if operation.path == "/readyz" else checks, headers)
        tested.append(f"{operation.method.upper()} {operation.path}")
    assert len(tested) >= 30


# -- issue 9, item 9: every JSON input, with nesting, huge numbers and unicode ---------------
NASTY: list[Any] = [
    1e308, -1e308, 2**64, -(2**63) - 1, 10**30, 5e-324, -0.0, 0, -1, True,
    "", "\x00", "\ud800", "\udfff x", "\u202e\u2066evil", "𝕏" * 300, "é" * 5000,
    "' OR 1=1 --", "../../etc/passwd", "${jndi:ldap://x}", "<script>x</script>",
    [], {}, [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["deep"]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]],
]  # fmt: skip


def deep(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = {"k": value}
    return value


def nasty_values() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.sampled_from(NASTY),
        st.integers(min_value=33, max_value=600).map(deep),
        st.text(min_size=1, max_size=50),
        st.floats(allow_nan=False, allow_infinity=False),
        st.integers(),
    )


def mutate(body: Any, data: st.DataObject) -> Any:
    """Put a nasty value somewhere in ``body``: replace a field at any depth, or add one
    (also inside the free-form mappings, kwargs and trigger args)."""
    if not isinstance(body, dict):
        return data.draw(nasty_values())
    key = data.draw(st.sampled_from([*sorted(body), "extra"]))
    child = body.get(key)
    out = dict(body)
    if isinstance(child, dict) and data.draw(st.booleans()):
        out[key] = mutate(child, data)
    else:
        out[key] = data.draw(nasty_values())
    return out


def fingerprint(api: Api) -> tuple[Any, ...]:
    import sqlalchemy as sa

    with api.tw.store.db.read() as conn:
        return tuple(
            conn.execute(sa.text(sql)).scalar()
            for sql in (
                "SELECT count(*) FROM tw_job",
                "SELECT coalesce(sum(version), 0) FROM tw_job",
                "SELECT count(*) FROM tw_run",
                "SELECT count(*) FROM tw_audit_event",
                "SELECT count(*) FROM tw_user",
                "SELECT count(*) FROM tw_api_token",
            )
        )


FUZZ_EXAMPLES = int(os.environ.get("TW_FUZZ_EXAMPLES", "30"))


def test_every_json_input_survives_nesting_huge_numbers_and_unicode(schema_api: Api) -> None:
    """No JSON body, however deep, large or strange, makes the server fail (a 5xx), and a
    failure would have written nothing (the fingerprint of every table is compared)."""
    headers = {"Authorization": f"Bearer {schema_api.tokens['admin']}"}
    user = schema_api.tw.accounts.find_user("fuzz-target") or schema_api.tw.accounts.create_user(
        "fuzz-target", "a fuzzing passphrase 1", "viewer", by="test"
    )
    known = {"job_id": "job-1", "user_id": user.id, "group": "g", "run_id": 1}
    named = {"/api/connections": "conn-1", "/api/scripts": "script-1"}
    fuzzed = []
    for operation in operations(schema_api):
        if operation.body is None or not len(operation.body):
            continue
        known["name"] = next((n for p, n in named.items() if operation.path.startswith(p)), "x")

        @given(case=operation.as_strategy(), data=st.data())
        @settings(
            max_examples=FUZZ_EXAMPLES,
            deadline=None,
            database=None,
            derandomize=os.environ.get("TW_SCHEMATHESIS_RANDOM") is None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: Any, data: st.DataObject) -> None:
            case.body = mutate(case.body, data)
            if case.path_parameters:  # reach the handlers: name objects that exist
                case.path_parameters = {k: known.get(k, v) for k, v in case.path_parameters.items()}
            before = fingerprint(schema_api)
            try:
                response = case.call(headers=headers)
            except UnicodeEncodeError:
                # Schemathesis' own check of the body cannot encode a lone surrogate (a body
                # of one string field draws one often): send the JSON text ourselves.
                response = schema_api.client("admin").request(
                    case.method,
                    case.formatted_path,
                    params=case.query,
                    content=json.dumps(case.body),
                    headers={"Content-Type": "application/json"},
                )
            if response.status_code >= 500:
                unchanged = fingerprint(schema_api) == before
                raise AssertionError(
                    f"{case.method} {case.path} answered {response.status_code} "
                    f"({'nothing written' if unchanged else 'AND WROTE'}): {response.text[:300]}"
                )

        check()
        fuzzed.append(f"{operation.method.upper()} {operation.path}")
    assert len(fuzzed) >= 10, fuzzed


def sweep_bodies(user_id: int) -> list[tuple[str, str, dict[str, Any]]]:
    """A valid body of every operation that takes JSON (the sweep puts each nasty value at
    each place in it)."""
    job = job_body(
        "sweep",
        target={"ref": "tests.api.tasks:noop", "args": [1], "kwargs": {"k": "v"}},
        parameters=[{"name": "k", "type": "string", "max_length": 10}],
        policies={"timeout_s": 5, "retries": 1},
        tags=["t"],
    )
    return [
        ("POST", "/api/jobs", job),
        ("PUT", "/api/jobs/job-2", {**job, "id": "job-2"}),
        ("PATCH", "/api/jobs/job-2", {"description": "d", "target": {"kwargs": {"k": "w"}},
                                      "trigger": {"kind": "interval", "args": {"seconds": 9}}}),
        ("POST", "/api/jobs/job-2/run", {"params": {"kwargs": {"k": "x"}}}),
        ("POST", "/api/cron/preview", {"expr": "0 2 * * *", "timezone": "UTC", "count": 2}),
        ("POST", "/api/users", {"username": "sweeper", "password": "a sweeping passphrase",
                                "role": "viewer"}),
        ("PATCH", f"/api/users/{user_id}", {"role": "viewer", "disabled": False}),
        ("POST", "/api/tokens", {"name": "sweep", "role": "viewer"}),
        ("POST", "/api/auth/login", {"username": "nobody-sweeps", "password": "wrong but long"}),
        ("POST", "/api/jobs", {**job, "id": "sweep-sh", "target": {
            "kind": "shell", "command": ["echo", "x"], "env": {"A": "b"}, "ok_exit_codes": [0]}}),
        ("POST", "/api/jobs", {**job, "id": "sweep-http", "target": {
            "kind": "http", "url": "https://example.com/x", "headers": {"A": "b"},
            "json": {"k": [1]}, "expect_status": ["200-299"]}}),
        ("POST", "/api/connections", {"name": "sweep", "kind": "smtp", "fields": {
            "host": "smtp.example.com", "port": 587, "from_addr": "a@example.com",
            "password": "pw"}}),
        ("PATCH", "/api/connections/conn-1", {"fields": {"url": "redis://127.0.0.1/1"}}),
        ("POST", "/api/scripts", {"name": "sweep", "language": "bash", "code": "echo 1",
                                  "message": "m"}),
        ("POST", "/api/scripts/script-1/versions", {"code": "print(2)", "message": "m"}),
        ("POST", "/api/scripts/script-1/rollback", {"version": 1}),
    ]  # fmt: skip


def places(body: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place of a body: each existing key or item, and a new key in each mapping."""
    out: list[tuple[Any, ...]] = []
    if isinstance(body, dict):
        out.append((*path, "extra"))
        for key, value in body.items():
            out.append((*path, key))
            out.extend(places(value, (*path, key)))
    elif isinstance(body, list):
        for i, value in enumerate(body):
            out.append((*path, i))
            out.extend(places(value, (*path, i)))
    return out


def put(body: Any, path: tuple[Any, ...], value: Any) -> Any:
    import copy

    out = copy.deepcopy(body)
    node = out
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return out


def test_each_nasty_value_at_each_place_of_every_json_body(schema_api: Api) -> None:
    """The sweep: deterministic, every place times every value of NASTY (plus nesting 33
    and 600 deep); none may answer 5xx."""
    import json

    user = schema_api.tw.accounts.find_user("fuzz-target") or schema_api.tw.accounts.create_user(
        "fuzz-target", "a fuzzing passphrase 1", "viewer", by="test"
    )
    from fastapi.testclient import TestClient

    client = TestClient(schema_api.app, raise_server_exceptions=False)  # a 500 is an answer
    client.headers["Authorization"] = f"Bearer {schema_api.tokens['admin']}"
    client.headers["Content-Type"] = "application/json"
    failures = []
    sent = 0
    for method, path, body in sweep_bodies(user.id):
        for place in places(body):
            for value in [*NASTY, deep(33), deep(600)]:
                text = json.dumps(put(body, place, value))  # ASCII: lone surrogates escaped
                response = client.request(method, path, content=text)
                sent += 1
                if response.status_code >= 500:
                    failures.append(f"{method} {path} {place}={value!r:.40}: {response.text[:120]}")
    assert sent > 1000
    assert not failures, "\n".join(failures[:20])
