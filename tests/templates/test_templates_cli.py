"""``tickwork templates list|show`` and ``tickwork jobs add ID --template NAME --param k=v``;
the registration function other parts use for their built-in templates."""

from __future__ import annotations

from pathlib import Path

import pytest

from tickwork.cli import main
from tickwork.errors import InvalidInput
from tickwork.service import Tickwork
from tickwork.templates import registry
from tickwork.templates.schema import check_schema, check_values


def test_cli_lists_shows_and_adds_from_a_template(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = ["--database-url", f"sqlite:///{tmp_path / 'cli.db'}", "--data-dir", str(tmp_path)]
    assert main(["templates", "list", *db]) == 0
    out = capsys.readouterr().out
    assert "db-backup" in out
    assert "log-cleanup" in out
    assert "http-health" in out
    assert main(["templates", "show", "http-health", "--lang", "zh-CN", *db]) == 0
    assert "HTTP 健康检查" in capsys.readouterr().out
    params = ["--param", "url=https://example.com/up", "--param", "retries=3",
              "--param", "timeout_s=2.5"]  # fmt: skip
    assert main(["jobs", "add", "up", "--template", "http-health", *params, *db]) == 0
    assert "added up from template http-health (version 1)" in capsys.readouterr().out
    tw = Tickwork(f"sqlite:///{tmp_path / 'cli.db'}", check_targets=False)
    try:
        job = tw.get_job("up")
        assert job is not None
        assert job.record.owner == "cli"
        assert job.record.retries == 3
        assert job.record.target["timeout_s"] == 2.5
        link = tw.job_template("up")
        assert link is not None
        assert link.template_name == "http-health"
    finally:
        tw.close()
    assert main(["jobs", "add", "bad", "--template", "http-health",
                 "--param", "retries=many", "--param", "url=https://e.com", *db]) == 2  # fmt: skip
    assert "params.retries" in capsys.readouterr().err
    assert main(["jobs", "add", "x", "--template", "http-health", "--cron", "* * * * *",
                 *db]) == 2  # fmt: skip
    assert main(["jobs", "add", "y", *db]) == 2  # a plain job still needs a schedule


def test_cli_saves_and_removes_an_administrators_template(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = ["--database-url", f"sqlite:///{tmp_path / 'cli.db'}", "--data-dir", str(tmp_path)]
    path = tmp_path / "tpl.yaml"
    path.write_text(
        "name: nightly\n"
        "title: {en: Nightly, zh-CN: 每晚}\n"
        "parameters: [{name: hour, type: integer, default: 2, minimum: 0, maximum: 23}]\n"
        "job: {trigger: '0 ${hour} * * *', target: {kind: python, ref: 'tests.api.tasks:noop'}}\n",
        encoding="utf-8",
    )
    assert main(["templates", "save", str(path), *db]) == 0
    assert "saved template nightly (version 1)" in capsys.readouterr().out
    assert main(["jobs", "add", "n1", "--template", "nightly", "--param", "hour=25", *db]) == 2
    assert "params.hour" in capsys.readouterr().err
    path.write_text(path.read_text().replace("default: 2", "default: 4"), encoding="utf-8")
    assert main(["templates", "save", str(path), *db]) == 0
    assert "version 2" in capsys.readouterr().out
    assert main(["templates", "remove", "nightly", *db]) == 0
    assert main(["templates", "show", "nightly", *db]) == 1  # not found


def test_register_adds_a_built_in_template() -> None:
    name = "templates-test-vacuum"
    registry.register(
        {
            "name": name,
            "title": {"en": "Vacuum", "zh-CN": "清理"},
            "parameters": [{"name": "table", "type": "string", "required": True}],
            "job": {"trigger": "H 5 * * *",
                    "target": {"kind": "python", "ref": "tickwork.builtins.x:vacuum",
                               "kwargs": {"table": "${table}"}}},
        },
        version=3,
    )  # fmt: skip
    try:
        found = registry.builtin(name)
        assert found is not None
        assert found.builtin
        assert found.version == 3
        assert name in [t.name for t in registry.builtins()]
        with pytest.raises(ValueError, match="registered already"):
            registry.register(found)
    finally:
        registry._registered.pop(name, None)
    with pytest.raises(InvalidInput) as bad:
        registry.register({"name": "x-y", "parameters": [], "job": {"target": "a:b",
                                                                   "when": 1}})  # fmt: skip
    assert bad.value.field == "job.when"


@pytest.mark.parametrize(
    ("decl", "field"),
    [
        ([{"name": "1x", "type": "string"}], "parameters[0].name"),
        ([{"name": "a", "type": "string"}, {"name": "a", "type": "string"}], "parameters[1].name"),
        ([{"name": "a", "type": "integer", "secret": True}], "parameters[0].secret"),
        ([{"name": "a", "type": "string", "secret": True, "default": "x"}],
         "parameters[0].default"),
        ([{"name": "a", "type": "integer", "default": 5, "maximum": 3}],
         "parameters[0].default"),
        ([{"name": "a", "type": "string", "help": {"fr": "x"}}], "parameters[0].help"),
        ([{"name": "a", "type": "string", "colour": "red"}], "parameters[0].colour"),
    ],
)  # fmt: skip
def test_schema_errors_name_the_field(decl: list[dict[str, object]], field: str) -> None:
    with pytest.raises(InvalidInput) as bad:
        check_schema(decl)
    assert bad.value.field == field


def test_values_default_and_required() -> None:
    schema = check_schema([
        {"name": "n", "type": "integer", "default": 3},
        {"name": "s", "type": "string", "required": True, "choices": ["a", "b"]},
        {"name": "o", "type": "boolean"},
    ])  # fmt: skip
    assert check_values(schema, {"s": "a"}) == {"n": 3, "s": "a"}
    with pytest.raises(InvalidInput) as bad:
        check_values(schema, {"s": "c"})
    assert (bad.value.field, bad.value.code) == ("params.s", "not_one_of")
    with pytest.raises(InvalidInput) as bad:
        check_values(schema, {"n": True, "s": "a"})
    assert (bad.value.field, bad.value.code) == ("params.n", "parameter_type")
