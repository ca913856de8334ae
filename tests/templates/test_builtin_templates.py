"""The built-ins in the template gallery: one template per built-in with bilingual labels for
every parameter, a job made from one equal to what ``tickwork builtins install`` makes, bad
values refused naming ``params.<name>`` with nothing written."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import pytest

from tests.api.conftest import Api
from tickwork.builtins.catalog import BUILTINS
from tickwork.builtins.install import install, plan
from tickwork.builtins.templates import SCALAR, cron_of
from tickwork.templates import registry

CJK = re.compile(r"[\u4e00-\u9fff]")


def test_every_builtin_has_a_template_in_the_maintenance_category() -> None:
    for name, item in BUILTINS.items():
        template = registry.builtin(name)
        assert template is not None, name
        assert template.builtin
        assert template.category == "maintenance"
        assert template.title == {"en": item.label.en, "zh-CN": item.label.zh}
        assert template.job["target"]["name"] == name
        declared = {p["name"]: p for p in template.parameters}
        scalars = {p.name for p in item.all_params() if p.type in SCALAR}
        lists = {p.name for p in item.all_params() if p.type not in SCALAR}
        expected = scalars | {"schedule"} | ({"connection"} if item.connection else set())
        assert set(declared) == expected, name
        assert all(f"target.{n}" in template.description["en"] for n in lists), name
        assert declared["schedule"]["default"] == cron_of(item.schedule)
        for p in item.all_params():
            if p.name in declared and p.default is not None:
                assert declared[p.name]["default"] == p.default, (name, p.name)


def test_every_parameter_has_english_and_chinese_label_and_help() -> None:
    for name in BUILTINS:
        template = registry.builtin(name)
        assert template is not None
        for p in template.parameters:
            for key in ("label", "help"):
                en, zh = p[key]["en"], p[key]["zh-CN"]
                assert en, (name, p["name"], key)
                assert en != zh, (name, p["name"], key)
                assert CJK.search(zh), (name, p["name"], key, zh)
        assert CJK.search(template.description["zh-CN"])


def test_destructive_switches_keep_their_safe_defaults() -> None:
    for name, item in BUILTINS.items():
        template = registry.builtin(name)
        assert template is not None
        declared = {p["name"]: p for p in template.parameters}
        for switch in item.destructive:
            assert declared[switch]["default"] is (switch == "dry_run"), (name, switch)


def test_interval_defaults_become_spread_cron() -> None:
    assert cron_of({"interval": {"minutes": 3}}) == "H/3 * * * *"
    assert cron_of({"interval": {"hours": 6}}) == "H H/6 * * *"
    assert cron_of({"cron": "0 2 * * *"}) == "0 2 * * *"
    with pytest.raises(ValueError, match="no cron form"):
        cron_of({"interval": {"minutes": 7}})


@pytest.mark.parametrize("values", [{}, {"threshold_s": 2, "max_statement_chars": 100}])
def test_job_from_the_template_equals_the_installed_one(
    lite_api: Api, tmp_path: Path, values: dict[str, Any]
) -> None:
    tw = lite_api.tw
    tw.add_connection("app_db", "database", {"url": f"sqlite:///{tmp_path / 'app.db'}"}, by="t")
    body = {"id": "from-gallery", "params": {"connection": "app_db", **values}}
    res = lite_api.client("admin").post("/api/templates/check_slow_queries/jobs", json=body)
    assert res.status_code == 201, res.text
    planned, _ = plan("postgres-maintenance", "app_db", id_prefix="installed-")
    slow = next(p for p in planned if p.target["name"] == "check_slow_queries")
    slow = dataclasses.replace(slow, target={**slow.target, **values})
    install(tw, [slow], replace=False, set_name="postgres-maintenance")
    made = tw.get_job("from-gallery")
    installed = tw.get_job("installed-check_slow_queries")
    assert made is not None
    assert installed is not None
    assert made.record.target == installed.record.target
    assert made.record.target["threshold_s"] == values.get("threshold_s", 5.0)
    assert made.record.target["connection"] == "app_db"
    assert made.record.timeout_s == installed.record.timeout_s
    assert res.json()["trigger"]["expr"] == "H/15 * * * *"
    link = lite_api.client("viewer").get("/api/jobs/from-gallery/template").json()
    assert link["template"] == "check_slow_queries"


@pytest.mark.parametrize(
    ("template", "params", "field", "code"),
    [
        ("check_slow_queries", {"threshold_s": 0}, "params.threshold_s", "below_minimum"),
        ("check_slow_queries", {"max_statement_chars": "x"}, "params.max_statement_chars",
         "parameter_type"),
        ("cleanup_old_data", {"table": "t; DROP TABLE x", "time_column": "c"}, "params.table",
         "bad_identifier"),
        ("cleanup_old_data", {"table": "events"}, "params.time_column", "required_parameter"),
        ("cleanup_old_data", {"table": "events", "time_column": "at", "dry_run": "no"},
         "params.dry_run", "parameter_type"),
        ("check_slow_queries", {"connection": "Bad Name"}, "params.connection",
         "bad_connection_name"),
        ("check_slow_queries", {"apply": True}, "params.apply", "not_template_parameter"),
    ],
)  # fmt: skip
def test_bad_values_are_refused_naming_the_parameter(
    lite_api: Api, tmp_path: Path, template: str, params: dict[str, Any], field: str, code: str
) -> None:
    tw = lite_api.tw
    tw.add_connection("app_db", "database", {"url": f"sqlite:///{tmp_path / 'app.db'}"}, by="t")
    body = {"id": "bad", "params": {"connection": "app_db", **params}}
    res = lite_api.client("admin").post(f"/api/templates/{template}/jobs", json=body)
    assert res.status_code in (400, 422), res.text
    problem = res.json()
    assert (problem["field"], problem["code"]) == (field, code), problem
    assert tw.get_job("bad") is None  # nothing half-written
    assert tw.job_template("bad") is None


def test_a_job_without_connection_from_the_log_files_template(lite_api: Api) -> None:
    body = {"id": "logs", "params": {"path": "/var/log/app"}}
    res = lite_api.client("admin").post("/api/templates/cleanup_log_files/jobs", json=body)
    assert res.status_code == 201, res.text
    target = res.json()["target"]
    assert "connection" not in target
    assert (target["path"], target["dry_run"]) == ("/var/log/app", True)
    assert target["pattern"] == "*.log*"
