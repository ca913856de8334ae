"""Job kinds, named connections and scripts through the REST API (issue 17): each kind's
shape in and out, refusals naming the field, who may do what, run-time parameters that never
change a command, URL, statement or script, and connection secrets (canaries) that never come
back in any response."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import ALLOWED, KEY, Api, job_body
from tests.targets.local_http import LocalServer, local_server
from tickwork.api import ApiSettings, create_app
from tickwork.service import Tickwork
from tickwork.settings import Settings

CANARY = "canary-pa55-9f3e-secret"


@pytest.fixture
def kinds_api(tmp_path: Path, lite_template: tuple[Path, Api]) -> Iterator[Callable[..., Api]]:
    """An API over a copy of the template database, with the kinds' settings given."""
    template, made = lite_template
    apis: list[Api] = []

    def factory(**settings: Any) -> Api:
        copy = tmp_path / f"kinds-{len(apis)}.db"
        shutil.copyfile(template, copy)
        tw = Tickwork(
            settings=Settings(
                data_dir=tmp_path / "data",
                database_url=f"sqlite:///{copy}",
                timezone="UTC",
                allowed_targets=ALLOWED,
                **settings,
            ),
            check_targets=False,
        )
        api = Api(
            tw, create_app(tw, ApiSettings(secret_key=KEY), console=False), made.tokens, made.users
        )
        apis.append(api)
        return api

    yield factory
    for api in apis:
        api.tw.close()


@pytest.fixture
def api(kinds_api: Callable[..., Api]) -> Api:
    return kinds_api(ssrf_allow=("127.0.0.1/32",))


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with local_server() as s:
        yield s


def problem(response: Any, status: int = 422) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


SHELL = {"kind": "shell", "command": ["pg_dump", "-Fc", "app"], "env": {"PGHOST": "db"}}


def test_each_kind_in_and_out(api: Api, tmp_path: Path) -> None:
    admin = api.client("admin")
    api.tw.add_connection("wh", "database", {"url": f"sqlite:///{tmp_path / 'wh.db'}"})
    api.tw.push_script("nightly", "print('hi')\n", language="python")
    targets = {
        "sh": SHELL,
        "web": {"kind": "http", "method": "POST", "url": "https://example.com/hook",
                "json": {"a": 1}, "expect_status": [200, "300-399"]},
        "q": {"kind": "sql", "connection": "wh", "statement": "SELECT 1", "read_only": True},
        "scr": {"kind": "script", "language": "python", "script": "nightly"},
        "py": {"ref": "tests.api.tasks:noop"},
    }  # fmt: skip
    for job_id, target in targets.items():
        created = admin.post("/api/jobs", json=job_body(job_id, target=target))
        assert created.status_code == 201, created.text
    out = {j: admin.get(f"/api/jobs/{j}").json()["target"] for j in targets}
    assert out["sh"] == {
        "kind": "shell", "command": ["pg_dump", "-Fc", "app"], "shell": False,
        "env": {"PGHOST": "db"},
        "description": {"en": "$ pg_dump -Fc app", "zh": "$ pg_dump -Fc app"},
    }  # fmt: skip
    assert out["web"]["expect_status"] == ["200", "300-399"]
    assert out["web"]["description"]["en"] == "POST https://example.com/hook"
    assert out["q"] == {
        "kind": "sql", "connection": "wh", "statement": "SELECT 1", "read_only": True,
        "description": {"en": "wh: SELECT 1", "zh": "wh: SELECT 1"},
    }  # fmt: skip
    assert out["scr"]["description"] == {
        "en": "python script nightly (latest)",
        "zh": "python 脚本 nightly（最新版本）",
    }
    assert out["py"]["kind"] == "python"
    assert out["py"]["ref"] == "tests.api.tasks:noop"


def test_patch_changes_a_kinds_fields_or_the_whole_target(api: Api) -> None:
    admin = api.client("admin")
    assert admin.post("/api/jobs", json=job_body("sh", target=SHELL)).status_code == 201
    changed = admin.patch("/api/jobs/sh", json={"target": {"command": ["true"]}})
    assert changed.status_code == 200, changed.text
    assert changed.json()["target"]["command"] == ["true"]
    assert changed.json()["target"]["env"] == {"PGHOST": "db"}  # kept
    to_http = admin.patch(
        "/api/jobs/sh", json={"target": {"kind": "http", "url": "https://x.org/"}}
    )
    assert to_http.json()["target"]["kind"] == "http"
    assert "command" not in to_http.json()["target"]
    back = admin.patch("/api/jobs/sh", json={"target": {"ref": "tests.api.tasks:noop"}})
    assert back.status_code == 422  # a python target needs its kind named to replace http


BAD_TARGETS: list[tuple[dict[str, Any], str]] = [
    ({"kind": "shell", "command": "rm -rf /tmp/x"}, "target.command"),  # string needs shell
    ({"kind": "shell", "command": ["x"], "shell": True}, "target.shell"),
    ({"kind": "shell", "command": ["x"], "cwd": "relative"}, "target.cwd"),
    ({"kind": "shell", "command": ["x"], "env": {"TICKWORK_SECRET_KEY": "x"}}, "target.env."),
    ({"kind": "shell", "command": ["x"], "ok_exit_codes": [256]}, "target.ok_exit_codes"),
    ({"kind": "shell", "command": ["x"], "nope": 1}, "target.nope"),
    ({"kind": "http", "url": "file:///etc/passwd"}, "target.url"),
    ({"kind": "http", "url": "http://169.254.169.254/latest/meta-data/"}, "target.url"),
    ({"kind": "http", "url": "http://0x7f.2:8080/"}, "target.url"),  # 127.0.0.2
    ({"kind": "http", "url": "http://user:pw@example.com/"}, "target.url"),
    ({"kind": "http", "url": "https://x.org/", "method": "BREW"}, "target.method"),
    ({"kind": "http", "url": "https://x.org/", "expect_status": ["299-200"]},
     "target.expect_status"),
    ({"kind": "http", "url": "https://x.org/", "body": "x", "json": {}}, "target.body"),
    ({"kind": "http", "url": "/path", "connection": "missing"}, "target.connection"),
    ({"kind": "sql", "statement": "SELECT 1"}, "target.connection"),
    ({"kind": "sql", "connection": "missing", "statement": "SELECT 1"}, "target.connection"),
    ({"kind": "sql", "connection": "wh", "statement": ""}, "target.statement"),
    ({"kind": "sql", "connection": "wh", "statement": "x", "params": {"a b": 1}}, "target.params"),
    ({"kind": "script", "language": "ruby", "script": "s"}, "target.language"),
    ({"kind": "script", "language": "python", "script": "missing"}, "target.script"),
    ({"kind": "script", "language": "bash", "script": "nightly"}, "target.language"),
    ({"kind": "script", "language": "python", "script": "nightly", "version": 9}, "target.version"),
    ({"kind": "script", "language": "python", "script": "nightly", "limits": {"cpu_s": 0}},
     "target.limits.cpu_s"),
    ({"kind": "cobol"}, "target.kind"),
]  # fmt: skip


@pytest.mark.parametrize(("target", "field"), BAD_TARGETS)
def test_bad_targets_are_refused_naming_the_field_and_write_nothing(
    api: Api, tmp_path: Path, target: dict[str, Any], field: str
) -> None:
    api.tw.add_connection("wh", "database", {"url": f"sqlite:///{tmp_path / 'wh.db'}"})
    api.tw.push_script("nightly", "print('hi')\n", language="python")
    before = len(api.tw.get_jobs())
    body = problem(api.client("admin").post("/api/jobs", json=job_body("bad", target=target)))
    assert body["field"].startswith(field), body
    assert len(api.tw.get_jobs()) == before


def test_python_arguments_and_secret_kwargs_belong_to_python_jobs(api: Api) -> None:
    admin = api.client("admin")
    body = job_body("sh", target=SHELL, secret_keys=["x"])
    assert problem(admin.post("/api/jobs", json=body))["field"] == "secret_keys"


def test_switched_off_kinds_are_refused_at_creation(kinds_api: Callable[..., Api]) -> None:
    api = kinds_api(kinds_off=frozenset({"shell", "script"}))
    body = problem(api.client("admin").post("/api/jobs", json=job_body("sh", target=SHELL)))
    assert body["field"] == "target.kind"
    assert "TICKWORK_SHELL=off" in body["detail"]
    kinds = {k["kind"]: k for k in api.client("viewer").get("/api/kinds").json()}
    assert (kinds["shell"]["enabled"], kinds["script"]["enabled"], kinds["http"]["enabled"]) == (
        False, False, True,
    )  # fmt: skip
    assert kinds["shell"]["admin_only"]
    assert not kinds["sql"]["admin_only"]


def test_run_now_cannot_change_a_command_url_statement_or_script(api: Api, tmp_path: Path) -> None:
    """Issue 9's rule for every kind: a run takes declared parameters only, which become
    environment variables (shell, script), query values (http) or bound values (sql)."""
    admin, operator = api.client("admin"), api.client("operator")
    api.tw.add_connection("wh", "database", {"url": f"sqlite:///{tmp_path / 'wh.db'}"})
    jobs = {
        "sh": {**SHELL},
        "web": {"kind": "http", "url": "https://example.com/"},
        "q": {"kind": "sql", "connection": "wh", "statement": "SELECT :n"},
    }
    for job_id, target in jobs.items():
        body = job_body(job_id, target=target, parameters=[{"name": "n", "type": "integer"}])
        assert admin.post("/api/jobs", json=body).status_code == 201
    for job_id in jobs:
        for name in ("command", "url", "statement", "script", "env", "connection", "shell"):
            refused = operator.post(
                f"/api/jobs/{job_id}/run", json={"params": {"kwargs": {name: "id; rm -rf /"}}}
            )
            assert problem(refused)["field"] == f"params.kwargs.{name}"
        ok = operator.post(f"/api/jobs/{job_id}/run", json={"params": {"kwargs": {"n": 3}}})
        assert ok.status_code == 202, ok.text
    assert admin.get("/api/jobs/sh").json()["target"]["command"] == SHELL["command"]


def test_connections_never_show_their_secrets(api: Api, server: LocalServer) -> None:
    admin, viewer = api.client("admin"), api.client("viewer")
    created = admin.post(
        "/api/connections",
        json={"name": "pg", "kind": "database",
              "fields": {"url": f"postgresql://app:{CANARY}@db.internal:5432/app"}},
    )  # fmt: skip
    assert created.status_code == 201, created.text
    assert created.json()["fields"] == {
        "url": "postgresql+psycopg://app@db.internal:5432/app", "password": "******",
    }  # fmt: skip
    api_conn = admin.post(
        "/api/connections",
        json={"name": "hook", "kind": "http",
              "fields": {"base_url": server.url, "auth_value": f"Bearer {CANARY}"}},
    )  # fmt: skip
    assert api_conn.json()["fields"]["auth_value"] == "******"
    # a masked value sent back keeps the secret; "" clears it
    kept = admin.patch("/api/connections/hook", json={"fields": {"auth_value": "******"}})
    assert kept.status_code == 200
    assert api.tw.open_connection("hook").fields["auth_value"] == f"Bearer {CANARY}"
    assert (
        admin.post(
            "/api/jobs",
            json=job_body("uses-hook", target={"kind": "http", "url": "/ok", "connection": "hook"}),
        ).status_code
        == 201
    )
    assert admin.get("/api/connections/hook").json()["used_by"] == ["uses-hook"]
    assert problem(admin.delete("/api/connections/hook"), 409)["field"] == "name"
    tested = admin.post("/api/connections/hook/test")
    assert tested.json()["ok"] is True, tested.json()
    assert server.seen[-1].headers["Authorization"] == f"Bearer {CANARY}"
    # nowhere in what any role can read
    for client in (admin, viewer):
        for path in ("/api/connections", "/api/connections/pg", "/api/connections/hook",
                     "/api/audit", "/api/jobs", "/api/jobs/uses-hook"):  # fmt: skip
            response = client.get(path)
            assert CANARY not in response.text, path
    assert CANARY not in tested.text


def test_only_admins_change_connections_operators_use_them(api: Api) -> None:
    body = {"name": "r", "kind": "redis", "fields": {"url": "redis://127.0.0.1:6379/0"}}
    for role in ("viewer", "operator"):
        assert api.client(role).post("/api/connections", json=body).status_code == 403
    assert api.client("admin").post("/api/connections", json=body).status_code == 201
    assert api.client("operator").get("/api/connections/r").status_code == 200
    assert api.client("operator").post("/api/connections/r/test").status_code == 403


def test_connection_tests(api: Api, server: LocalServer, tmp_path: Path, redis_url: str) -> None:
    admin = api.client("admin")
    import sqlite3

    sqlite3.connect(tmp_path / "ok.db").close()
    fields = {
        "db": ("database", {"url": f"sqlite:///{tmp_path / 'ok.db'}"}),
        "nodb": ("database", {"url": f"sqlite:///{tmp_path / 'missing.db'}"}),
        "cache": ("redis", {"url": redis_url}),
        "web": ("http", {"base_url": f"{server.url}/ok"}),
        "meta": ("http", {"base_url": "http://169.254.169.254/"}),
    }
    for name, (kind, f) in fields.items():
        response = admin.post("/api/connections", json={"name": name, "kind": kind, "fields": f})
        assert response.status_code == 201, response.text
    results = {n: admin.post(f"/api/connections/{n}/test").json() for n in fields}
    assert [results[n]["ok"] for n in ("db", "cache", "web")] == [True, True, True], results
    assert not results["nodb"]["ok"]
    assert "SSRF" in results["meta"]["message"]
    assert "link-local" in results["meta"]["message"]


def test_a_name_resolving_to_loopback_is_refused_without_an_allowlist(
    kinds_api: Callable[..., Api], server: LocalServer
) -> None:
    api = kinds_api()  # nothing allowed beyond public addresses
    admin = api.client("admin")
    fields = {"base_url": f"http://localhost:{server.port}/ok"}
    admin.post("/api/connections", json={"name": "lh", "kind": "http", "fields": fields})
    result = admin.post("/api/connections/lh/test").json()
    assert not result["ok"]
    assert "SSRF" in result["message"]
    assert "loopback" in result["message"]
    sent = admin.post("/api/targets/http/test", json={"target": {"url": fields["base_url"]}})
    assert sent.json()["ok"] is False
    assert "SSRF" in sent.json()["error"]
    assert server.seen == []


def test_scripts_with_versions_diff_and_rollback(api: Api) -> None:
    admin, viewer = api.client("admin"), api.client("viewer")
    created = admin.post(
        "/api/scripts",
        json={"name": "etl", "language": "python", "code": "print(1)\n", "message": "first"},
    )
    assert created.status_code == 201, created.text
    assert created.json()["latest"]["version"] == 1
    assert (
        problem(
            admin.post("/api/scripts", json={"name": "etl", "language": "python", "code": "x"}), 409
        )["field"]
        == "name"
    )
    v2 = admin.post("/api/scripts/etl/versions", json={"code": "print(2)\n", "message": "second"})
    assert v2.status_code == 201
    assert v2.json()["version"] == 2
    same = admin.post("/api/scripts/etl/versions", json={"code": "print(2)\n"})
    assert same.json()["version"] == 2  # unchanged code: no new version
    history = viewer.get("/api/scripts/etl/versions").json()["items"]
    assert [(v["version"], v["message"], v["code"]) for v in history] == [
        (2, "second", None), (1, "first", None),
    ]  # fmt: skip
    assert history[0]["author"] == "admin-user"
    diff = viewer.get("/api/scripts/etl/diff", params={"from": 1, "to": 2}).json()["diff"]
    assert "-print(1)" in diff
    assert "+print(2)" in diff
    rolled = admin.post("/api/scripts/etl/rollback", json={"version": 1})
    assert rolled.json()["version"] == 3
    assert rolled.json()["code"] == "print(1)\n"
    assert rolled.json()["message"] == "roll back to version 1"
    assert viewer.get("/api/scripts/etl/versions/2").json()["code"] == "print(2)\n"
    assert (
        admin.post(
            "/api/jobs",
            json=job_body(
                "runs-etl", target={"kind": "script", "language": "python", "script": "etl"}
            ),
        ).status_code
        == 201
    )
    assert problem(admin.delete("/api/scripts/etl"), 409)["field"] == "name"
    for role in ("viewer", "operator"):
        assert (
            api.client(role)
            .post("/api/scripts/etl/versions", json={"code": "print(666)"})
            .status_code
            == 403
        )
    assert (
        problem(
            admin.post("/api/scripts", json={"name": "Bad Name", "language": "python", "code": "x"})
        )["field"]
        == "name"
    )


def test_the_http_test_request(api: Api, server: LocalServer) -> None:
    admin = api.client("admin")
    ok = admin.post("/api/targets/http/test", json={"target": {"url": f"{server.url}/ok"}})
    assert ok.json()["ok"] is True
    assert ok.json()["result"]["status"] == 200
    down = admin.post(
        "/api/targets/http/test", json={"target": {"url": f"{server.url}/status/500"}}
    )
    assert down.json()["ok"] is False
    assert "HTTP 500" in down.json()["error"]
    seen = len(server.seen)
    refused = admin.post(
        "/api/targets/http/test", json={"target": {"url": "http://2852039166/latest/"}}
    )
    assert refused.json()["ok"] is False
    assert "link-local" in refused.json()["error"]
    assert "SSRF" in refused.json()["error"]
    assert len(server.seen) == seen


def test_settings_are_shown_read_only(api: Api) -> None:
    settings = api.client("admin").get("/api/settings").json()
    assert settings["ssrf_allow"] == ["127.0.0.1/32"]
    assert settings["kinds_off"] == []
    assert settings["scripts_sandbox"] == "auto"
    assert api.client("operator").get("/api/settings").status_code == 403


def _unused(client: TestClient) -> None:  # pragma: no cover - keeps the import used in typing
    del client
