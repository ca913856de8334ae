"""``tickwork export``: yaml and json job files that re-import to the same jobs (export, wipe,
import, compare every field), ``--group``, and RuoYi-FastAPI's task configuration
(``save_config``'s shape), whose APScheduler keywords keep each schedule."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import time_machine
import yaml

from tickwork.cli import main
from tickwork.exporting import cron_keywords
from tickwork.jobspec import JobSpec
from tickwork.service import Tickwork
from tickwork.settings import Settings

AT = datetime(2027, 3, 1, 0, 0, 1, tzinfo=UTC)
# Who wrote a job and when is not part of its definition: an imported job is the importer's.
NOT_COMPARED = {"owner", "owner_ref", "version", "created_at", "created_by", "updated_at",
                "updated_by"}  # fmt: skip


def _specs() -> list[JobSpec]:
    ref = "tests.importers.sample_jobs:clean_logs"
    return [
        JobSpec(target=ref, trigger="30 2 * * 1-5", id="nightly", name="夜间清理",
                description="weekday nights", group="maintenance", tags=["db", "nightly"],
                args=[14], kwargs={"dry": True}, timezone="Asia/Shanghai", retries=3,
                retry_backoff_s=5, timeout_s=600, misfire_policy="skip",
                concurrency_policy="forbid", misfire_grace_s=300),
        JobSpec(target="tests.importers.sample_jobs:report", trigger="cron",
                trigger_args={"day_of_week": 0, "hour": 9}, id="weekly", group="maintenance"),
        JobSpec(target="tests.importers.sample_jobs:report", trigger="interval",
                trigger_args={"seconds": 90, "start_date": "2027-02-01T00:00:00+00:00"},
                id="poll", group="ops", paused=True, max_instances=3),
        JobSpec(target="tests.importers.sample_jobs:report", trigger="date",
                trigger_args={"run_date": "2027-06-01T08:00:00+08:00"}, id="once", group="ops"),
        JobSpec(target={"kind": "shell", "command": ["echo", "hi"], "env": {"A": "1"}},
                trigger="0 */6 * * *", id="shell", group="ops", executor="process"),
    ]  # fmt: skip


def _records(data_dir: Path) -> dict[str, dict[str, Any]]:
    tw = Tickwork(settings=Settings(data_dir=data_dir))
    try:
        return {
            j.id: {k: v for k, v in asdict(j.record).items() if k not in NOT_COMPARED}
            for j in tw.get_jobs()
        }
    finally:
        tw.close()


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_round_trip(
    fmt: str, cli_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with time_machine.travel(AT, tick=False):
        tw = Tickwork(settings=Settings(data_dir=cli_env))
        try:
            tw.add_jobs(_specs())
        finally:
            tw.close()
        before = _records(cli_env)
        out = tmp_path / f"jobs.{fmt}"
        assert main(["export", "--format", fmt, "-o", str(out)]) == 0
        data = yaml.safe_load(out.read_text()) if fmt == "yaml" else json.loads(out.read_text())
        assert [e["id"] for e in data["jobs"]] == sorted(before)
        tw = Tickwork(settings=Settings(data_dir=cli_env))
        try:
            tw.remove_all_jobs()
            assert tw.get_jobs() == []
        finally:
            tw.close()
        assert main(["jobs", "import", str(out)]) == 0
        after = _records(cli_env)
    assert after == before  # every field of every job
    capsys.readouterr()

    assert main(["export", "--format", "json", "--group", "ops"]) == 0
    only_ops = json.loads(capsys.readouterr().out)
    assert sorted(e["id"] for e in only_ops["jobs"]) == ["once", "poll", "shell"]


def test_fastapi_task_configuration(
    cli_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with time_machine.travel(AT, tick=False):
        tw = Tickwork(settings=Settings(data_dir=cli_env))
        try:
            tw.add_jobs(_specs()[1:])
            expected = {j.id: j.next_run_time for j in tw.get_jobs()}
        finally:
            tw.close()
        out = tmp_path / "tasks.json"
        assert main(["export", "--format", "fastapi-json", "-o", str(out)]) == 1
        err = capsys.readouterr().err
        assert "refused: shell: target: a shell job has no task_func" in err
        assert not out.exists()  # nothing half-written
        assert main(["export", "--format", "fastapi-json", "-o", str(out), "--skip-refused"]) == 0
        tasks = json.loads(out.read_text())
        weekly = next(t for t in tasks if t["task_id"] == "weekly")
        weekly_tz = weekly["trigger_args"]["timezone"]  # the server's zone (the job has none)
        assert weekly == {
            "task_id": "weekly", "task_name": "report",
            "task_func": "tests.importers.sample_jobs.report", "trigger_type": "cron",
            "trigger_args": {"day_of_week": "0", "hour": "9", "timezone": weekly_tz},
            "enabled": True, "description": "",
        }  # fmt: skip
        assert next(t for t in tasks if t["task_id"] == "poll")["enabled"] is False
        tw = Tickwork(settings=Settings(data_dir=cli_env))
        try:
            tw.remove_all_jobs()
        finally:
            tw.close()
        assert main(["jobs", "import", str(out)]) == 0  # the shape Tickwork reads back
        tw = Tickwork(settings=Settings(data_dir=cli_env))
        try:
            back = {j.id: j.next_run_time for j in tw.get_jobs()}
        finally:
            tw.close()
    assert back == {k: v for k, v in expected.items() if k != "shell"}


def test_cron_keywords_keep_meaning_or_refuse() -> None:
    assert cron_keywords("30 2 * * 1-5") == {"minute": "30", "hour": "2",
                                             "day_of_week": "mon-fri", "second": "0"}  # fmt: skip
    assert cron_keywords("0 9 * * 0,6")["day_of_week"] == "sun,sat"  # cron 0 = Sunday
    assert cron_keywords("0 0 9 * * MON")["day_of_week"] == "mon"
    assert cron_keywords("@daily") == {"minute": "0", "hour": "0", "second": "0"}
    for expr, why in (
        ("0 0 1 * 1", "both day fields"),
        ("0 0 * * */2", "steps through days"),
        ("0 0 L * *", "extension"),
        ("0 0 * * 5#2", "extension"),
        ("0 0 * * 0-2", "wraps past Sunday"),
    ):
        with pytest.raises(ValueError, match=why):
            cron_keywords(expr)
