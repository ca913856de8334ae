"""Templates through the API and the facade: the gallery, a job made from a template (values
checked against the schema, errors naming the field, nothing half-written, the template and
version remembered), administrators' templates with a secret parameter sealed like any job
secret, the rollout of a change with its preview, the log-cleanup job run on a node."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.api.conftest import Api
from tests.api.test_canary import dump_tables
from tests.api.test_hardening_secrets import run_to_end

TOKEN = "Tpl-Secret-Token-5d1c"


def _mine(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": {"en": "Password job", "zh-CN": "密码任务"},
        "parameters": [
            {"name": "password", "type": "string", "secret": True, "required": True,
             "help": {"en": "The password", "zh-CN": "密码"}},
            {"name": "out", "type": "string", "required": True},
            {"name": "hour", "type": "integer", "default": 2, "minimum": 0, "maximum": 23},
        ],
        "job": {
            "name": "Uses a password",
            "trigger": "0 ${hour} * * *",
            "timeout_s": 60,
            "target": {"kind": "python", "ref": "tests.api.tasks:use_password",
                       "kwargs": {"password": {"$param": "password"}, "out": "${out}"}},
        },
    }  # fmt: skip
    body.update(changes)
    return body


def test_gallery_lists_the_built_in_templates_with_their_schemas(lite_api: Api) -> None:
    viewer = lite_api.client("viewer")
    items = {t["name"]: t for t in viewer.get("/api/templates").json()["items"]}
    assert {"db-backup", "log-cleanup", "http-health"} <= set(items)
    backup = items["db-backup"]
    assert backup["builtin"] is True
    assert backup["version"] == 1
    conn = next(p for p in backup["parameters"] if p["name"] == "connection")
    assert conn["type"] == "connection"
    assert conn["required"] is True
    assert conn["help"]["zh-CN"]
    assert conn["label"]["en"] == "Database connection"
    assert viewer.get("/api/templates/http-health").json()["category"] == "monitoring"
    assert viewer.get("/api/templates/nope").status_code == 404


@pytest.mark.parametrize(
    ("params", "field", "code"),
    [
        ({"connection": "db"}, "params.directory", "required_parameter"),
        ({"connection": "db", "directory": "/b", "keep": "x"}, "params.keep", "parameter_type"),
        ({"connection": "db", "directory": "/b", "keep": 0}, "params.keep", "below_minimum"),
        ({"connection": "db", "directory": "/b", "nope": 1}, "params.nope",
         "not_template_parameter"),
        ({"connection": "Bad Name", "directory": "/b"}, "params.connection",
         "bad_connection_name"),
        ({"connection": "db", "directory": "relative"}, "params.directory", "not_absolute_path"),
        ({"connection": "missing", "directory": "/b"}, "target.connections",
         "unknown_connection"),
    ],
)  # fmt: skip
def test_values_are_checked_against_the_schema_naming_the_field(
    lite_api: Api, params: dict[str, Any], field: str, code: str
) -> None:
    lite_api.tw.add_connection("db", "database", {"url": "sqlite:////tmp/x.db"}, by="test")
    res = lite_api.client("admin").post(
        "/api/templates/db-backup/jobs", json={"id": "bk", "params": params}
    )
    assert res.status_code in (400, 422), res.text
    problem = res.json()
    assert (problem["field"], problem["code"]) == (field, code), problem
    assert lite_api.tw.get_job("bk") is None  # nothing half-written
    assert lite_api.tw.job_template("bk") is None


def test_shell_templates_are_for_admins_and_reads_for_viewers(lite_api: Api) -> None:
    body = {"id": "hc", "params": {"url": "https://example.com/health"}}
    assert (
        lite_api.client("operator").post("/api/templates/http-health/jobs", json=body).status_code
        == 403
    )
    assert lite_api.client("operator").put("/api/templates/mine", json=_mine()).status_code == 403
    res = lite_api.client("admin").post("/api/templates/http-health/jobs", json=body)
    assert res.status_code == 201, res.text
    job = res.json()
    assert job["target"]["url"] == "https://example.com/health"
    assert "expect_status" not in job["target"]  # the kind's default, 200-299, left out
    assert "connection" not in job["target"]  # an optional parameter left out
    assert job["trigger"]["expr"] == "H/5 * * * *"
    assert job["group"] == "health"
    link = lite_api.client("viewer").get("/api/jobs/hc/template").json()
    assert link == {"job_id": "hc", "template": "http-health", "version": 1,
                    "params": {"url": "https://example.com/health", "expect_status": "200-299",
                               "timeout_s": 10, "schedule": "H/5 * * * *", "retries": 1},
                    "outdated": False}  # fmt: skip


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"job": {"target": {"kind": "python", "ref": "tests.api.tasks:noop",
                             "kwargs": {"x": "${nope}"}}}},
         "job.target.kwargs.x", "unknown_placeholder"),
        ({"job": {"target": {"kind": "python", "ref": "tests.api.tasks:use_password",
                             "kwargs": {"password": "pw=${password}", "out": "${out}",
                                        "h": "${hour}"}}}},
         "job.target.kwargs.password", "secret_placement"),
        ({"parameters": [{"name": "x", "type": "date"}]}, "parameters[0].type", "not_one_of"),
        ({"name": "db-backup"}, "name", "builtin_template"),
    ],
)  # fmt: skip
def test_template_definitions_are_refused_naming_the_field(
    lite_api: Api, change: dict[str, Any], field: str, code: str
) -> None:
    name = change.get("name", "mine")
    res = lite_api.client("admin").put(f"/api/templates/{name}", json=_mine(**change))
    assert res.status_code in (400, 409, 422), res.text
    assert (res.json()["field"], res.json()["code"]) == (field, code), res.json()


def test_secret_parameter_is_sealed_and_a_rollout_previews_and_applies_changes(
    lite_api: Api, tmp_path: Path
) -> None:
    admin = lite_api.client("admin")
    out = tmp_path / "got.txt"
    saved = admin.put("/api/templates/mine", json=_mine())
    assert saved.status_code == 200, saved.text
    assert saved.json()["version"] == 1
    assert saved.json()["builtin"] is False
    body = {"id": "pw", "params": {"password": TOKEN, "out": str(out)}}
    made = admin.post("/api/templates/mine/jobs", json=body)
    assert made.status_code == 201, made.text
    assert made.json()["trigger"]["expr"] == "0 2 * * *"
    link = admin.get("/api/jobs/pw/template").json()
    assert link["params"]["password"] == "******"
    assert link["version"] == 1
    assert TOKEN not in str(dump_tables(lite_api))  # sealed at rest, like any job secret
    sealed_before = lite_api.tw.get_job("pw").record.target["kwargs"]["password"]

    # version 2: another schedule and timeout; the job keeps version 1 until a rollout
    v2 = _mine()
    v2["job"] = {**v2["job"], "trigger": "30 ${hour} * * *", "timeout_s": 120}
    assert admin.put("/api/templates/mine", json=v2).json()["version"] == 2
    preview = admin.get("/api/templates/mine/rollout").json()
    assert preview["version"] == 2
    (item,) = preview["items"]
    assert (item["job_id"], item["from_version"], item["to_version"]) == ("pw", 1, 2)
    changed = {c["field"]: c for c in item["changes"]}
    assert set(changed) == {"trigger", "timeout_s"}
    assert changed["trigger"]["before"]["expr"] == "0 2 * * *"
    assert changed["trigger"]["after"]["expr"] == "30 2 * * *"
    assert (changed["timeout_s"]["before"], changed["timeout_s"]["after"]) == (60, 120)
    assert lite_api.tw.get_job("pw").record.timeout_s == 60  # a preview writes nothing
    jobs = admin.get("/api/templates/mine/jobs").json()["items"]
    assert jobs[0]["outdated"] is True

    assert lite_api.client("operator").post("/api/templates/mine/rollout").status_code == 403
    applied = admin.post("/api/templates/mine/rollout", json={})
    assert applied.status_code == 200, applied.text
    record = lite_api.tw.get_job("pw").record
    assert (record.timeout_s, record.trigger["expr"]) == (120, "30 2 * * *")
    assert record.target["kwargs"]["password"] == sealed_before  # the secret kept, sealed
    assert admin.get("/api/jobs/pw/template").json()["version"] == 2
    assert admin.get("/api/templates/mine/rollout").json()["items"][0]["changes"] == []

    # the job still gets the real secret on a node
    lite_api.tw.start()
    try:
        run = run_to_end(lite_api, "pw")
    finally:
        lite_api.tw.shutdown(wait=True)
    assert run["status"] == "succeeded", run
    assert out.read_text() == TOKEN

    # version 3 needs a value the job does not have: the preview says so, nothing applies
    v3 = _mine()
    v3["parameters"] = [*v3["parameters"], {"name": "region", "type": "string",
                                            "required": True}]  # fmt: skip
    v3["job"] = {**v3["job"], "description": "in ${region}"}
    assert admin.put("/api/templates/mine", json=v3).json()["version"] == 3
    (item,) = admin.get("/api/templates/mine/rollout").json()["items"]
    assert item["error_field"] == "params.region"
    refused = admin.post("/api/templates/mine/rollout", json={"jobs": ["pw"]})
    assert refused.status_code in (400, 422)
    assert refused.json()["field"] == "jobs[pw].params.region"
    assert admin.get("/api/jobs/pw/template").json()["version"] == 2

    # in use: not removable; once the job is gone it is
    assert admin.delete("/api/templates/mine").status_code == 409
    assert admin.delete("/api/jobs/pw").status_code == 204
    assert admin.delete("/api/templates/mine").status_code == 204
    assert admin.delete("/api/templates/db-backup").status_code == 409


def test_log_cleanup_job_runs_dry_first_inside_its_root(
    lite_api: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "logs"
    (root / "app").mkdir(parents=True)
    old = root / "app" / "old.log"
    old.write_text("old")
    os.utime(old, (1_000_000_000, 1_000_000_000))  # 2001: old whatever today is
    monkeypatch.setenv("TICKWORK_CLEANUP_ROOTS", str(root))
    admin = lite_api.client("admin")
    outside = admin.post("/api/templates/log-cleanup/jobs", json={
        "id": "lc", "params": {"root": str(root), "directory": str(tmp_path)}})  # fmt: skip
    assert outside.json()["field"] == "params.directory"
    assert outside.json()["code"] == "outside_root"
    not_allowed = admin.post("/api/templates/log-cleanup/jobs", json={
        "id": "lc", "params": {"root": "/etc", "directory": "/etc/app"}})  # fmt: skip
    assert not_allowed.json()["field"] == "params.root"
    made = admin.post("/api/templates/log-cleanup/jobs", json={
        "id": "lc", "params": {"root": str(root), "directory": str(root / "app")}})  # fmt: skip
    assert made.status_code == 201, made.text
    lite_api.tw.start()
    try:
        run = run_to_end(lite_api, "lc")
        log = lite_api.client("viewer").get(f"/api/runs/{run['id']}/log").text
    finally:
        lite_api.tw.shutdown(wait=True)
    assert run["status"] == "succeeded", (run, log)
    assert f"would remove {old}" in log
    assert old.exists()  # the dry run removed nothing


def test_a_job_made_again_without_the_template_is_not_tied_to_it(lite_api: Api) -> None:
    admin = lite_api.client("admin")
    body = {"id": "again", "params": {"url": "https://example.com/"}}
    assert admin.post("/api/templates/http-health/jobs", json=body).status_code == 201
    assert admin.get("/api/templates/http-health").json()["jobs"] == 1
    assert admin.delete("/api/jobs/again").status_code == 204
    plain = {"id": "again", "target": {"kind": "http", "url": "https://example.com/"},
             "trigger": {"kind": "cron", "expr": "0 2 * * *"}}  # fmt: skip
    assert admin.post("/api/jobs", json=plain).status_code == 201
    assert admin.get("/api/jobs/again/template").status_code == 404
    assert admin.get("/api/templates/http-health").json()["jobs"] == 0
    assert admin.get("/api/templates/http-health/rollout").json()["items"] == []


def test_a_template_stored_before_max_length_was_bounded_still_loads(lite_api: Api) -> None:
    """Saving now refuses max_length outside 0-65536; one stored before still lists and
    opens, its length bounded by the kwargs limit it always had."""
    from tickwork.parameters import MAX_STRING
    from tickwork.store import templates_repo

    body = _mine(name="old-long")
    body["parameters"][1] = {"name": "out", "type": "string", "required": True,
                             "max_length": 10**9}  # fmt: skip
    admin = lite_api.client("admin")
    refused = admin.put("/api/templates/old-long", json=body)
    assert refused.status_code == 422
    assert refused.json()["field"] == "parameters[1].max_length"
    with lite_api.tw.store.db.write() as conn:  # as an older Tickwork stored it
        templates_repo.put_template(conn, "old-long", body, now=0, by=None)
    names = [t["name"] for t in admin.get("/api/templates").json()["items"]]
    assert "old-long" in names
    got = admin.get("/api/templates/old-long").json()
    assert got["parameters"][1]["max_length"] == MAX_STRING
