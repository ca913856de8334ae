"""Issue 9, items 1 and 2: job targets are not a remote shell, and running a job does not
rewrite it.

An admin could create a job whose target was ``os:system`` (or ``subprocess:run``,
``builtins:eval``, ``importlib:import_module``) with any arguments; an operator's "run now"
could replace any job's ``args`` and merge any ``kwargs``, a secret one included. Targets
created through the API must now match the deployment's allowlist of module prefixes and never
name the standard library's process, eval and import entry points or a dunder attribute; a
manual run may only set the parameters the job declares, within their bounds."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import Api, job_body

# Refused whatever the allowlist says (the allowlist below even names their modules).
DENIED = [
    "os:system",
    "os.path:join",
    "posix:system",
    "subprocess:run",
    "subprocess:Popen",
    "builtins:eval",
    "builtins:exec",
    "builtins:compile",
    "builtins:__import__",
    "importlib:import_module",
    "shutil:rmtree",
    "pty:spawn",
    "ctypes:CDLL",
    "pickle:loads",
    "marshal:loads",
    "sys:exit",
    "runpy:run_path",
    "code:interact",
    "tests.api.tasks:noop.__globals__",
    "tests.api.tasks:__builtins__",
    "tests.api._private:f",
    "tests.api.tasks:_helper",
    "tickwork.targets.python:call",  # a trampoline to any other ref
]


def counts(api: Api) -> tuple[int, int]:
    return api.tw.job_counts()["total"], api.tw.audit.count()


def refused(response: Any, field: str = "target") -> dict[str, Any]:
    assert response.status_code == 422, response.text
    body: dict[str, Any] = response.json()
    assert body["field"] == field, body
    return body


@pytest.mark.parametrize("ref", DENIED)
def test_process_eval_import_and_dunder_targets_are_refused_whatever_the_list_says(
    lite_api: Api, ref: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    everything = "os,posix,subprocess,builtins,importlib,shutil,pty,ctypes,pickle,marshal,sys"
    allowed = (*everything.split(","), "runpy", "code", "tests", "tickwork")
    monkeypatch.setattr(
        lite_api.tw, "settings", lite_api.tw.settings.with_overrides(allowed_targets=allowed)
    )
    admin = lite_api.client("admin")
    before = counts(lite_api)
    body = job_body("shell", target={"ref": ref, "args": ["id > /tmp/pwned"]})
    problem = refused(admin.post("/api/jobs", json=body))
    assert ref.split(":", maxsplit=1)[0] in problem["detail"] or "private" in problem["detail"], (
        problem
    )
    # changing an existing job's target is refused the same way
    assert admin.post("/api/jobs", json=job_body("fine")).status_code == 201
    refused(admin.patch("/api/jobs/fine", json={"target": {"ref": ref}}))
    refused(admin.put("/api/jobs/fine", json=job_body("fine", target={"ref": ref})))
    assert counts(lite_api) == (before[0] + 1, before[1] + 1)
    job = lite_api.tw.get_job("fine")
    assert job is not None
    assert job.func_ref == "tests.api.tasks:noop"


def test_a_module_outside_the_allowlist_is_refused_naming_the_setting(lite_api: Api) -> None:
    admin = lite_api.client("admin")
    problem = refused(admin.post("/api/jobs", json=job_body("j", target={"ref": "json:dumps"})))
    assert "TICKWORK_ALLOWED_TARGETS" in problem["detail"]
    assert lite_api.tw.get_job("j") is None


def test_modules_of_jobs_declared_in_code_and_job_files_are_allowed_by_default(
    lite_api: Api, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no TICKWORK_ALLOWED_TARGETS, the modules the deployment itself schedules (code and
    job files) and Tickwork's built-ins are what the API may name."""
    monkeypatch.setattr(
        lite_api.tw, "settings", lite_api.tw.settings.with_overrides(allowed_targets=None)
    )
    jobs = tmp_path / "jobs.yaml"
    jobs.write_text(
        "jobs:\n  - id: from-file\n    target: tests.api.allowed_tasks:first\n"
        "    cron: '0 3 * * *'\n",
        encoding="utf-8",
    )
    lite_api.tw.check_targets = False
    lite_api.tw.sync_job_files([jobs])
    admin = lite_api.client("admin")
    ok = admin.post(
        "/api/jobs", json=job_body("same-module", target={"ref": "tests.api.allowed_tasks:second"})
    )
    assert ok.status_code == 201, ok.text
    refused(admin.post("/api/jobs", json=job_body("other", target={"ref": "tests.api.tasks:noop"})))


# -- item 2: run-time parameters ----------------------------------------------------------------
def parametrised(api: Api) -> None:
    body = job_body(
        "report",
        target={
            "ref": "tests.api.tasks:use_password",
            "kwargs": {"password": "Stored-Secret-91f", "out": "/tmp/report.txt"},
        },
        secret_keys=["password"],
        parameters=[
            {"name": "out", "type": "string", "max_length": 200, "help": "where to write"},
        ],
    )
    created = api.client("admin").post("/api/jobs", json=body)
    assert created.status_code == 201, created.text


def test_an_operator_cannot_replace_args_or_send_a_secret_elsewhere(lite_api: Api) -> None:
    parametrised(lite_api)
    operator = lite_api.client("operator")
    runs_before = len(lite_api.tw.get_runs("report"))
    # replacing positional args: refused
    response = operator.post("/api/jobs/report/run", json={"params": {"args": ["x"], "kwargs": {}}})
    refused(response, "params.args")
    # a secret kwarg is never overridable
    refused(
        operator.post("/api/jobs/report/run", json={"params": {"kwargs": {"password": "x"}}}),
        "params.kwargs.password",
    )
    # an undeclared kwarg: refused
    refused(
        operator.post("/api/jobs/report/run", json={"params": {"kwargs": {"mode": "x"}}}),
        "params.kwargs.mode",
    )
    # a declared one, of the wrong type or too long: refused, naming it
    refused(
        operator.post("/api/jobs/report/run", json={"params": {"kwargs": {"out": 5}}}),
        "params.kwargs.out",
    )
    refused(
        operator.post("/api/jobs/report/run", json={"params": {"kwargs": {"out": "x" * 201}}}),
        "params.kwargs.out",
    )
    assert len(lite_api.tw.get_runs("report")) == runs_before
    # a declared one within bounds: queued, and audited
    ok = operator.post("/api/jobs/report/run", json={"params": {"kwargs": {"out": "/tmp/o"}}})
    assert ok.status_code == 202, ok.text
    run = lite_api.tw.get_run(ok.json()["run_id"])
    assert run.params == {"kwargs": {"out": "/tmp/o"}}
    audit = lite_api.client("admin").get("/api/jobs/report/history").json()["items"][0]
    assert audit["action"] == "job.run"
    assert audit["detail"]["params"] == {"kwargs": {"out": "/tmp/o"}}


def test_a_job_without_declared_parameters_takes_none(lite_api: Api) -> None:
    assert lite_api.client("admin").post("/api/jobs", json=job_body("plain")).status_code == 201
    refused(
        lite_api.client("operator").post(
            "/api/jobs/plain/run", json={"params": {"kwargs": {"anything": 1}}}
        ),
        "params.kwargs.anything",
    )


def test_run_parameters_obey_the_body_limit(lite_api: Api) -> None:
    parametrised(lite_api)
    huge = {"params": {"kwargs": {"out": "x" * (1100 * 1024)}}}
    response = lite_api.client("operator").post("/api/jobs/report/run", json=huge)
    assert response.status_code == 413
    big_but_under = {"params": {"kwargs": {"out": "y" * (900 * 1024)}}}
    refused(
        lite_api.client("operator").post("/api/jobs/report/run", json=big_but_under),
        "params.kwargs.out",
    )


def test_parameters_are_part_of_the_job_definition(lite_api: Api) -> None:
    admin = lite_api.client("admin")
    body = job_body(
        "typed",
        target={"ref": "tests.api.tasks:noop"},
        parameters=[
            {"name": "count", "type": "integer", "default": 3, "minimum": 1, "maximum": 10},
            {"name": "ratio", "type": "number", "minimum": 0, "maximum": 1},
            {"name": "dry_run", "type": "boolean", "default": False},
            {"name": "mode", "type": "string", "choices": ["fast", "full"], "required": True},
        ],
    )
    created = admin.post("/api/jobs", json=body)
    assert created.status_code == 201, created.text
    assert [p["name"] for p in created.json()["parameters"]] == [
        "count",
        "ratio",
        "dry_run",
        "mode",
    ]
    operator = lite_api.client("operator")
    for kwargs, field in (
        ({"mode": "fast", "count": 11}, "params.kwargs.count"),
        ({"mode": "fast", "count": 2.5}, "params.kwargs.count"),
        ({"mode": "fast", "count": True}, "params.kwargs.count"),
        ({"mode": "fast", "ratio": 1e300}, "params.kwargs.ratio"),
        ({"mode": "fast", "dry_run": "yes"}, "params.kwargs.dry_run"),
        ({"mode": "slow"}, "params.kwargs.mode"),
        ({"count": 2}, "params.kwargs.mode"),  # required
    ):
        refused(operator.post("/api/jobs/typed/run", json={"params": {"kwargs": kwargs}}), field)
    ok = operator.post(
        "/api/jobs/typed/run", json={"params": {"kwargs": {"mode": "full", "ratio": 0.5}}}
    )
    assert ok.status_code == 202, ok.text
    # bad declarations are refused when the job is written
    for bad, field in (
        ([{"name": "not an identifier", "type": "string"}], "parameters"),
        ([{"name": "x", "type": "object"}], "parameters"),
        ([{"name": "x", "type": "integer", "minimum": 5, "maximum": 1}], "parameters"),
        ([{"name": "x", "type": "integer", "default": "a"}], "parameters"),
        ([{"name": "x", "type": "string"}, {"name": "x", "type": "string"}], "parameters"),
    ):
        response = admin.post("/api/jobs", json=job_body("bad", parameters=bad))
        assert response.status_code == 422, response.text
        assert response.json()["field"].startswith(field), response.json()
    secret_param = job_body(
        "bad",
        target={"ref": "tests.api.tasks:noop", "kwargs": {"token": "t0ken-value"}},
        secret_keys=["token"],
        parameters=[{"name": "token", "type": "string"}],
    )
    response = admin.post("/api/jobs", json=secret_param)
    assert response.status_code == 422, response.text
    assert response.json()["field"].startswith("parameters")
