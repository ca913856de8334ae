"""Every refusal the API sends carries a machine-readable ``code`` with its ``params``, and the
console has a Chinese template for every code: checked over the source (every raise behind the
API names a code; every code has a template whose placeholders are params of that code) and
over real requests (Pydantic's limits, JSON syntax, the job-id rule, the Feb 30 cron, conflicts,
lookups, roles, unknown routes)."""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from tests.api.conftest import Api, job_body
from tickwork.api import problems

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "tickwork"
CATALOGUE = ROOT / "console" / "src" / "i18n" / "problems.ts"
CODED = {
    "InvalidInput",
    "BadParameter",
    "TriggerError",
    "Conflict",
    "PermissionDenied",
    "AuthenticationFailed",
    "RateLimited",
    "VaultError",
}
# Modules whose refusals never reach an HTTP response (start-up settings, the store's own
# retry signal, files read by `tickwork serve`): their messages go to a terminal or a log.
TERMINAL_ONLY = {
    "accounts/keys.py",
    "api/settings.py",
    "settings.py",
    "store/database.py",
    "store/claims.py",
    "executors/__init__.py",
    "jobfiles.py",
    # issue 15: importers and export (the CLI), the integrations' start-up configuration
    "exporting.py",
    "importers/apscheduler.py",
    "importers/quartz.py",
    "importers/ruoyi.py",
    "importers/sqldump.py",
    "importers/xxljob.py",
    "integrations/django/conf.py",
    "integrations/election.py",
    "integrations/fastapi.py",
    "integrations/flask.py",
}
# Codes whose params are added outside the raise (problems.py) or come from a return value.
EXTRA_PARAMS = {"rate_limited": {"seconds"}}
RETURNED = {"never_fires_days": {"days", "months"}, "never_fires": set()}


def catalogue() -> dict[str, str]:
    text = CATALOGUE.read_text()
    block = text.split("// BEGIN ZH_REASONS", 1)[1].split("// END ZH_REASONS", 1)[0]
    return dict(re.findall(r'^\s*([a-z_]+): "((?:[^"\\]|\\.)*)",\s*$', block, re.M))


def sites() -> tuple[list[str], dict[str, list[set[str]]]]:
    """Raises without a code, and every code with the params each site gives it."""
    missing: list[str] = []
    codes: dict[str, list[set[str]]] = defaultdict(list)
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC).as_posix()
        if rel.startswith("cli/"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            code = None
            params: set[str] | None = set()
            for kw in node.keywords:
                if kw.arg == "code" and isinstance(kw.value, ast.Constant):
                    code = kw.value.value
                if kw.arg == "params":
                    params = (
                        {k.value for k in kw.value.keys if isinstance(k, ast.Constant)}
                        if isinstance(kw.value, ast.Dict)
                        else None  # passed on from another error: checked at its raise
                    )
            if name == "fail" and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant):
                code = node.args[1].value
                params = {kw.arg for kw in node.keywords if kw.arg}
            if name in CODED and code is None and rel not in TERMINAL_ONLY:
                has_code_arg = any(kw.arg == "code" for kw in node.keywords)
                if not has_code_arg:
                    missing.append(f"{rel}:{node.lineno} {name}(...) without code=")
            if isinstance(code, str) and params is not None:
                if name == "RateLimited":  # problems.py adds the seconds to wait
                    params = params | {"seconds"}
                codes[code].append(params | EXTRA_PARAMS.get(code, set()))
    for code, given in RETURNED.items():
        codes[code].append(given)
    codes["not_found"].append({"kind", "id"})
    for status_code in problems.STATUS_CODES.values():
        codes[status_code].append(EXTRA_PARAMS.get(status_code, set()))
    return missing, codes


def test_every_refusal_behind_the_api_names_a_code() -> None:
    missing, _ = sites()
    assert not missing, "\n".join(missing)


def test_every_code_has_a_chinese_template_with_known_placeholders() -> None:
    _, codes = sites()
    zh = catalogue()
    wanted = set(codes) | set(problems.PYDANTIC_CODES) | {"invalid_value"}
    assert not sorted(wanted - set(zh)), "codes without a template in problems.ts"
    for code, params_per_site in codes.items():
        placeholders = set(re.findall(r"\{(\w+)\}", zh[code]))
        for params in params_per_site:
            assert placeholders <= params, (code, placeholders - params)
    # and no template for a code nothing sends
    assert not sorted(set(zh) - wanted), "templates of codes the API never sends"


def problem(response: Any, status: int = 422) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert isinstance(body["code"], str), body
    assert isinstance(body["params"], dict), body
    return body


@pytest.mark.parametrize(
    ("changes", "field", "code", "params"),
    [
        ({"name": "n" * 201}, "name", "string_too_long", {"max": 200}),
        ({"id": "-bad id"}, "id", "job_id_rule", {"value": "-bad id", "max": 191}),
        (
            {"trigger": {"kind": "cron", "expr": "0 0 30 2 *"}},
            "trigger",
            "never_fires_days",
            {"days": [30], "months": [2]},
        ),
        (
            {"trigger": {"kind": "cron", "expr": "61 * * * *"}},
            "trigger.minute",
            "out_of_range",
            {"value": 61, "min": 0, "max": 59},
        ),
        (
            {"trigger": {"kind": "cron", "args": {"month": 2, "day": 30}}},
            "trigger.day",
            "never_fires_fields",
            {"fields": [{"field": "month", "text": "2"}, {"field": "day", "text": "30"}]},
        ),
        (
            {"executor": "fork"},
            "executor",
            "literal_error",
            {"expected": ["thread", "process", "asyncio"]},
        ),
        ({"policies": {"retries": "x"}}, "policies.retries", "int_parsing", {}),
        ({"surprise": 1}, "surprise", "extra_forbidden", {}),
        ({"timezone": "Mars/Olympus"}, "timezone", "unknown_zone", {"zone": "Mars/Olympus"}),
    ],
)
def test_validation_problems_carry_code_and_params(
    lite_api: Api, changes: dict[str, Any], field: str, code: str, params: dict[str, Any]
) -> None:
    body = problem(lite_api.client("admin").post("/api/jobs", json=job_body("coded", **changes)))
    assert body["field"].startswith(field), body
    assert body["code"] == code, body
    assert body["params"] == params, body


def test_json_syntax_errors_name_the_body_and_the_position(lite_api: Api) -> None:
    response = lite_api.client("admin").post(
        "/api/jobs", content=b'{"id": "x", ', headers={"Content-Type": "application/json"}
    )
    body = problem(response)
    assert body["field"] == "body"
    assert body["code"] == "json_invalid"
    assert body["params"]["position"] == 12
    assert "not valid JSON" in body["detail"]


def test_conflicts_lookups_roles_and_routes_carry_codes(lite_api: Api) -> None:
    admin = lite_api.client("admin")
    assert admin.post("/api/jobs", json=job_body("twice")).status_code == 201
    dup = problem(admin.post("/api/jobs", json=job_body("twice")), 409)
    assert (dup["code"], dup["params"]) == ("duplicate_id", {"id": "twice"})
    stale = problem(
        admin.patch("/api/jobs/twice", json={"name": "x"}, headers={"If-Match": '"99"'}), 409
    )
    assert stale["code"] == "stale_version"
    assert stale["params"]["expected"] == 99
    gone = problem(admin.get("/api/jobs/nope"), 404)
    assert (gone["code"], gone["params"]) == ("not_found", {"kind": "job", "id": "nope"})
    run_gone = problem(admin.get("/api/runs/12345"), 404)
    assert run_gone["params"] == {"kind": "run", "id": "12345"}
    denied = problem(lite_api.client("viewer").post("/api/jobs/twice/pause"), 403)
    assert (denied["code"], denied["params"]) == (
        "role_required",
        {"role": "operator", "actual": "viewer"},
    )
    route = problem(admin.get("/api/nothing-here"), 404)
    assert route["code"] == "no_route"
    assert route["params"]["path"] == "/api/nothing-here"
    media = problem(
        admin.post("/api/jobs", content=b"id=x", headers={"Content-Type": "text/plain"}), 415
    )
    assert media["code"] == "unsupported_media_type"
    anonymous = problem(lite_api.client().get("/api/jobs"), 401)
    assert anonymous["code"] == "unauthenticated"


NESTED: list[Any] = []
for _ in range(33):  # within the body limit of 40 levels, beyond the stored limit of 32
    NESTED = [NESTED]
PARAMS = [{"name": "days", "type": "integer", "minimum": 1, "maximum": 30, "default": 7}]


@pytest.mark.parametrize(
    ("body", "field", "code", "params"),
    [
        (job_body("t1", target={"ref": "os:system"}), "target", "target_denied",
         {"ref": "os:system"}),
        (job_body("t2", target={"ref": "json:dumps"}), "target", "target_not_allowed",
         {"module": "json", "allowed": ["tests"]}),
        (job_body("b1", policies={"timeout_s": 1e10}), "timeout_s", "above_limit_seconds",
         {"value": 1e10, "max": 2_592_000}),
        (job_body("b2", trigger={"kind": "interval", "args": {"weeks": 6000}}),
         "trigger.interval", "interval_too_long", None),
        (job_body("p1", parameters=[{"name": "class", "type": "string"}]),
         "parameters[0].name", "not_identifier", {"value": "class"}),
        (job_body("p2", parameters=[{"name": "d", "type": "string", "minimum": 1}]),
         "parameters[0].minimum", "bounds_need_number", {}),
        (job_body("p3", target={"ref": "tests.api.tasks:noop", "kwargs": {"pw": "x"}},
                  secret_keys=["pw"], parameters=[{"name": "pw", "type": "string"}]),
         "parameters[0].name", "parameter_is_secret", {"name": "pw"}),
        (job_body("n1", target={"ref": "tests.api.tasks:noop", "kwargs": {"deep": NESTED}}),
         "kwargs", "nested_too_deep", {"max": 32}),
    ],
)  # fmt: skip
def test_refusals_of_the_security_rules_carry_codes(
    lite_api: Api, body: dict[str, Any], field: str, code: str, params: dict[str, Any] | None
) -> None:
    """Target rules, bounds, declared parameters and nesting (issue 9), by code."""
    got = problem(lite_api.client("admin").post("/api/jobs", json=body))
    assert got["field"].endswith(field), got
    assert got["code"] == code, got
    if params is not None:
        assert got["params"] == params, got


def test_body_nesting_runs_cursors_and_dates_carry_codes(lite_api: Api) -> None:
    admin = lite_api.client("admin")
    deep = problem(admin.post("/api/jobs", content=b"[" * 41 + b"]" * 41,
                              headers={"Content-Type": "application/json"}))  # fmt: skip
    assert (deep["code"], deep["params"]) == ("body_too_deep", {"depth": 41, "max": 40})
    lone = problem(admin.post("/api/jobs", content=b'{"id": "\\ud800"}',
                              headers={"Content-Type": "application/json"}))  # fmt: skip
    assert lone["code"] == "lone_surrogate"
    cursor = problem(admin.get("/api/runs", params={"cursor": "!!"}), 400)
    assert (cursor["field"], cursor["code"]) == ("cursor", "bad_cursor")
    early = problem(admin.get("/api/runs", params={"since": "0001-01-01T00:00:00+01:00"}), 400)
    assert (early["field"], early["code"]) == ("since", "outside_calendar")
    assert admin.post("/api/jobs", json=job_body("ran", parameters=PARAMS)).status_code == 201
    for run_body, field, code, params in (
        ({"params": {"kwargs": {"days": 31}}}, "params.kwargs.days", "above_maximum",
         {"value": 31, "max": 30}),
        ({"params": {"kwargs": {"days": 0}}}, "params.kwargs.days", "below_minimum",
         {"value": 0, "min": 1}),
        ({"params": {"kwargs": {"days": "x"}}}, "params.kwargs.days", "parameter_type",
         {"kind": "integer", "value": "'x'"}),
        ({"params": {"kwargs": {"weeks": 1}}}, "params.kwargs.weeks", "not_declared",
         {"declared": ["days"]}),
        ({"params": {"args": [1]}}, "params.args", "run_args_fixed", {}),
    ):  # fmt: skip
        got = problem(admin.post("/api/jobs/ran/run", json=run_body))
        assert (got["field"], got["code"], got["params"]) == (field, code, params), got


def test_password_rules_and_the_login_throttle_carry_codes(lite_api: Api) -> None:
    admin = lite_api.client("admin")
    common = problem(
        admin.post("/api/users", json={"username": "zoe", "password": "password1234",
                                       "role": "viewer"})
    )  # fmt: skip
    assert (common["field"], common["code"]) == ("password", "password_too_common")
    anonymous = lite_api.client()
    statuses = []
    for i in range(12):
        response = anonymous.post(
            "/api/auth/login", json={"username": "admin-user", "password": f"guess number {i}"}
        )
        statuses.append(response.status_code)
        if response.status_code == 429:
            body = problem(response, 429)
            assert body["code"] == "too_many_logins"
            assert body["params"]["seconds"] == int(response.headers["Retry-After"]) >= 1
            assert body["params"]["what"] in ("account", "address")
            break
    assert statuses[-1] == 429, statuses
