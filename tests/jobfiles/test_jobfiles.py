"""Job files: every accepted format, declarative sync, and errors naming file, job and field."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tickwork import InvalidInput, Tickwork
from tickwork.errors import ReadOnlyJob

Make = Callable[..., Tickwork]

SEED_004 = """
module: tests.service.seed_tasks
default_tasks:
  - id: sync_accounts
    name: 账户同步
    function: sync_accounts
    trigger_type: cron
    trigger_params:
      hour: 1
      minute: 0
    enabled: true
    description: 每日同步所有数据库实例的账户信息
    category: sync
  - id: collect_database_sizes
    name: 容量同步
    function: check_db_health
    trigger_type: cron
    trigger_params: {hour: 3, minute: 0}
    enabled: false
    misfire_grace_time: 300
"""

SEED_002 = [
    {
        "task_id": "daily_cleanup",
        "task_name": "每日清理任务",
        "task_func": "tests.service.seed_tasks.daily_cleanup_task",
        "trigger_type": "cron",
        "trigger_args": {"hour": 2, "minute": 0},
        "enabled": True,
        "description": "清理过期数据和日志文件",
    },
    {
        "task_id": "health_check",
        "task_name": "健康检查任务",
        "task_func": "tests.service.seed_tasks.health_check_task",
        "trigger_type": "interval",
        "trigger_args": {"minutes": 30},
    },
]

NATIVE = """
jobs:
  - id: nightly
    target: tests.service.seed_tasks:daily_cleanup_task
    cron: "0 2 * * *"
    timezone: Asia/Shanghai
    group: maintenance
    tags: [db, nightly]
    retries: 2
    timeout_s: 600
  - id: every-ten
    target: tests.service.seed_tasks:check_db_health
    interval: {minutes: 10}
  - id: keyword-form
    target: tests.service.seed_tasks:sync_accounts
    trigger: {kind: cron, day_of_week: sun, hour: 3}
"""


def write(path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_seed_004_default_tasks(make_tw: Make, tmp_path: Path) -> None:
    tw = make_tw(timezone="Asia/Shanghai")
    counts = tw.sync_job_files([write(tmp_path / "scheduler_tasks.yaml", SEED_004)])
    assert next(iter(counts.values())) == {"created": 2, "updated": 0, "removed": 0, "unchanged": 0}
    sync = tw.get_job("sync_accounts")
    sizes = tw.get_job("collect_database_sizes")
    assert sync is not None
    assert sizes is not None
    assert (sync.name, sync.group, sync.func_ref) == (
        "账户同步",
        "sync",
        "tests.service.seed_tasks:sync_accounts",
    )
    assert sync.trigger.to_spec()["fields"] == {"hour": "1", "minute": "0"}
    assert sizes.paused  # enabled: false
    assert sizes.misfire_grace_time == 300
    assert sync.record.owner == "config"


def test_seed_002_task_config_json(make_tw: Make, tmp_path: Path) -> None:
    tw = make_tw()
    path = tmp_path / "tasks.json"
    path.write_text(json.dumps(SEED_002, ensure_ascii=False), encoding="utf-8")
    tw.sync_job_files([str(path)])
    cleanup = tw.get_job("daily_cleanup")
    health = tw.get_job("health_check")
    assert cleanup is not None
    assert health is not None
    assert cleanup.func_ref == "tests.service.seed_tasks:daily_cleanup_task"
    assert health.executor == "asyncio"  # a coroutine function
    assert health.trigger.to_spec()["minutes"] == 30


def test_flask_apscheduler_jobs_from_a_config_class(make_tw: Make) -> None:
    tw = make_tw()
    tw.sync_job_files(["tests.jobfiles.flask_config:Config.JOBS"])
    health = tw.get_job("db_health_check")
    assert health is not None
    assert (health.misfire_grace_time, health.trigger.to_spec()["minutes"]) == (30, 3)
    assert tw.get_job("analyze_tables") is not None


def test_native_format_and_declarative_sync(make_tw: Make, tmp_path: Path) -> None:
    tw = make_tw()
    source = write(tmp_path / "jobs.yaml", NATIVE)
    tw.add_job(
        "tests.service.seed_tasks:daily_cleanup_task", "@daily", id="made-elsewhere", owner="python"
    )
    tw.sync_job_files([source])
    nightly = tw.get_job("nightly")
    assert nightly is not None
    assert (nightly.group, nightly.tags, nightly.record.retries, nightly.record.timeout_s) == (
        "maintenance",
        ["db", "nightly"],
        2,
        600.0,
    )
    assert nightly.trigger.describe("zh").startswith("每天 02:00")
    # edit the file: one job changed, one removed, one unchanged
    edited = NATIVE.replace('cron: "0 2 * * *"', 'cron: "30 2 * * *"').split(
        "  - id: keyword-form"
    )[0]
    counts = tw.sync_job_files([write(tmp_path / "jobs.yaml", edited)])
    assert next(iter(counts.values())) == {"created": 0, "updated": 1, "removed": 1, "unchanged": 1}
    assert tw.get_job("keyword-form") is None
    assert tw.get_job("made-elsewhere") is not None  # never touched by the file


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "jobs:\n  - id: a\n    target: m:f\n    cron: '0 25 * * *'\n",
            "jobs.yaml: job 'a': trigger.hour: 25 is out of range 0-23",
        ),
        ("jobs:\n  - id: a\n    target: m:f\n", "jobs.yaml: job 'a': trigger: give exactly one of"),
        (
            "jobs:\n  - id: a\n    target: m:f\n    cron: '@daily'\n    colour: red\n",
            "jobs.yaml: job 'a': colour: unknown job option",
        ),
        (
            "jobs:\n  - target: m:f\n    cron: '@daily'\n",
            "jobs.yaml: job #1: id: every job in a file needs an id",
        ),
        ("jobs: [1]\n", "jobs.yaml: job #1: expected a mapping"),
        ("nothing: here\n", "jobs.yaml: expected a list of jobs under one of"),
        (
            "jobs:\n" + "  - id: a\n    target: m:f\n    cron: '@daily'\n" * 2,
            "jobs.yaml: job 'a': id: is defined twice",
        ),
        ("jobs: [\n", "jobs.yaml: not valid yaml"),
        (
            "default_tasks:\n  - id: x\n    function: sync_accounts\n",
            "jobs.yaml: job 'x': function: 'sync_accounts' names no module",
        ),
        (
            "jobs:\n  - id: a\n    target: m:f\n    cron: '@daily'\n    retries: -1\n",
            "jobs.yaml: job 'a': retries: -1 is out of range 0-100",
        ),
    ],
)
def test_errors_name_the_file_the_job_and_the_field(
    make_tw: Make, tmp_path: Path, text: str, message: str
) -> None:
    tw = make_tw(check_targets=False)
    good = write(tmp_path / "good.yaml", "jobs:\n  - id: ok\n    target: m:f\n    cron: '@daily'\n")
    with pytest.raises(InvalidInput) as info:
        tw.sync_job_files([good, write(tmp_path / "jobs.yaml", text)])
    assert str(info.value).startswith(message)
    assert tw.get_jobs() == []  # nothing half-written: not even the good file's job


def test_a_missing_file_is_an_error(make_tw: Make, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match=r"nope\.yaml: cannot read"):
        make_tw().sync_job_files([str(tmp_path / "nope.yaml")])


def test_job_files_given_to_tickwork_are_synced_at_start(make_tw: Make, tmp_path: Path) -> None:
    source = write(tmp_path / "jobs.yaml", NATIVE)
    tw = make_tw(job_files=[source])
    tw.start()
    assert {j.id for j in tw.get_jobs()} == {"nightly", "every-ten", "keyword-form"}


def test_jobs_of_a_file_are_changed_in_the_file_and_pausing_survives_syncs(
    make_tw: Make, tmp_path: Path
) -> None:
    tw = make_tw()
    source = write(tmp_path / "jobs.yaml", NATIVE)
    tw.sync_job_files([source])
    path = str(Path(source).resolve())
    for attempt in (
        lambda: tw.update_job("nightly", name="renamed", by="alice", origin="api"),
        lambda: tw.modify_job("nightly", name="renamed"),
        lambda: tw.reschedule_job("nightly", "cron", hour=5),
        lambda: tw.remove_job("nightly", by="alice", origin="api"),
        lambda: tw.add_job(
            "tests.service.seed_tasks:sync_accounts", "@daily", id="nightly",
            replace_existing=True, owner="cli",
        ),
    ):  # fmt: skip
        with pytest.raises(ReadOnlyJob, match=f"defined by the job file {path}: change it there"):
            attempt()
    assert tw.get_job("nightly").name == "daily_cleanup_task"  # type: ignore[union-attr]
    # pause and resume are operating state: allowed, and kept by the next sync
    tw.pause_job("nightly", by="alice")
    tw.sync_job_files([source])
    assert tw.get_job("nightly").record.paused  # type: ignore[union-attr]
    edited = NATIVE.replace("retries: 2", "retries: 3")
    tw.sync_job_files([write(tmp_path / "jobs.yaml", edited)])
    nightly = tw.get_job("nightly")
    assert nightly is not None
    assert (nightly.record.paused, nightly.record.retries, nightly.next_run_time) == (True, 3, None)
    tw.resume_job("nightly")
    tw.sync_job_files([source])
    assert not tw.get_job("nightly").record.paused  # type: ignore[union-attr]


def test_code_declared_jobs_are_changed_by_code_not_by_faces(make_tw: Make) -> None:
    tw = make_tw()
    tw.add_job("tests.service.seed_tasks:sync_accounts", "@daily", id="declared")
    tw.sync_declared()
    with pytest.raises(ReadOnlyJob, match="defined by code"):
        tw.update_job("declared", name="x", origin="api")
    with pytest.raises(ReadOnlyJob):
        tw.remove_job("declared", origin="cli")
    assert tw.modify_job("declared", name="changed by its code").name == "changed by its code"


KINDS = """
jobs:
  - id: backup
    target: {kind: shell, command: [pg_dump, -Fc, app], env: {PGHOST: db}}
    cron: "0 4 * * *"
    timeout_s: 3600
  - id: ping
    target: {kind: http, url: "https://example.com/health", expect_status: ["200-299"]}
    interval: {minutes: 5}
"""


def test_job_files_take_other_kinds_as_mappings(make_tw: Make, tmp_path: Path) -> None:
    tw = make_tw()
    tw.sync_job_files([write(tmp_path / "kinds.yaml", KINDS)])
    backup, ping = tw.get_job("backup"), tw.get_job("ping")
    assert backup is not None
    assert ping is not None
    assert (backup.kind, backup.record.target) == (
        "shell", {"command": ["pg_dump", "-Fc", "app"], "shell": False, "env": {"PGHOST": "db"}},
    )  # fmt: skip
    assert ping.kind == "http"
    assert ping.record.target["url"] == "https://example.com/health"
    # unchanged file: nothing to write
    counts = tw.sync_job_files([write(tmp_path / "kinds.yaml", KINDS)])
    assert next(iter(counts.values()))["unchanged"] == 2
    bad = KINDS.replace("command: [pg_dump, -Fc, app]", "command: 'pg_dump -Fc app'")
    with pytest.raises(InvalidInput) as info:
        tw.sync_job_files([write(tmp_path / "kinds.yaml", bad)])
    assert str(info.value).startswith("kinds.yaml: job 'backup': target.command: a command")


def test_native_entry_options_in_one_call() -> None:
    """A native entry's options become one JobSpec (a million-entry file): the aliases, the
    later of enabled and paused, and the first unknown key named."""
    from tickwork.jobfiles import entry_to_spec

    base = {"id": "a", "target": "pkg.mod:fn", "cron": "0 3 * * *"}
    spec = entry_to_spec({**base, "timeout": 5, "concurrency": "forbid", "enabled": False})
    assert (spec.timeout_s, spec.concurrency_policy, spec.paused) == (5, "forbid", True)
    assert entry_to_spec({**base, "enabled": False, "paused": False}).paused is False
    assert entry_to_spec({**base, "paused": False, "enabled": False}).paused is True
    stored = {"kind": "cron", "expr": "0 3 * * *", "tz": "UTC", "seed": "x"}
    spec = entry_to_spec({"id": "b", "target": {"kind": "shell", "command": "true"},
                          "trigger": stored, "group": "g"})  # fmt: skip
    assert (spec.trigger, spec.trigger_args, spec.group) == (stored, {}, "g")
    assert spec.trigger is not stored
    with pytest.raises(InvalidInput) as caught:
        entry_to_spec({**base, "colour": 1, "size": 2})
    assert caught.value.field == "colour"
