"""``tickwork import xxl-job`` and ``tickwork import ruoyi``: from the SQL dumps written for
the test, and from a MariaDB database the dumps were loaded into (the same jobs either way).
RuoYi's invoke targets are never evaluated: only module.func(literals) maps."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.importers.conftest import SAMPLES
from tickwork.cli import main
from tickwork.errors import InvalidInput
from tickwork.importers import quartz, ruoyi, sqldump
from tickwork.service import Tickwork
from tickwork.settings import Settings

XXL = str(SAMPLES / "xxl_job.sql")
RUOYI = str(SAMPLES / "ruoyi_sys_job.sql")
HANDLERS = ["--handler", "demoJobHandler=tests.importers.sample_jobs:demo_handler",
            "--handler", "syncOrders=tests.importers.sample_jobs:demo_handler"]  # fmt: skip


@pytest.fixture
def mariadb(server_database: Any) -> Iterator[str]:
    """The MariaDB test database with the two dumps loaded (tables dropped afterwards)."""
    url: str = server_database("mysql")
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        for dump in (XXL, RUOYI):
            text = Path(dump).read_text(encoding="utf-8")
            for statement in text.split(";\n"):
                lines = [ln for ln in statement.splitlines() if not ln.startswith("--")]
                if "".join(lines).strip():
                    conn.exec_driver_sql("\n".join(lines).replace("%", "%%"))
    try:
        yield url
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE IF EXISTS xxl_job_info, xxl_job_group, sys_job")
        engine.dispose()


def _stored(data_dir: Path) -> dict[str, Any]:
    tw = Tickwork(settings=Settings(data_dir=data_dir))
    try:
        return {j.id: (j.record, j.next_run_time) for j in tw.get_jobs()}
    finally:
        tw.close()


def test_quartz_day_numbers_are_shifted() -> None:
    assert quartz.to_tickwork("0 30 9 ? * 2-6") == "0 30 9 ? * 1-5"  # MON-FRI
    assert quartz.to_tickwork("0 0 3 ? * 1#2") == "0 0 3 ? * 0#2"  # second Sunday
    assert quartz.to_tickwork("0 0 3 ? * 6L") == "0 0 3 ? * 5L"  # last Friday
    assert quartz.to_tickwork("0 0 3 ? * 1,7") == "0 0 3 ? * 0,6"
    assert quartz.to_tickwork("0 0 3 ? * MON-FRI *") == "0 0 3 ? * MON-FRI *"
    assert quartz.to_tickwork("0 0 3 ? * 2/2") == "0 0 3 ? * 1/2"
    with pytest.raises(InvalidInput, match="out of range 1-7"):
        quartz.to_tickwork("0 0 3 ? * 0")
    with pytest.raises(InvalidInput, match="6 or 7 fields"):
        quartz.to_tickwork("0 3 * * *")


def test_invoke_targets_map_only_literal_calls() -> None:
    parse = ruoyi.parse_invoke_target
    assert parse("a.b.func('x', 2L, 0.5D, true, null, k=false)") == (
        "a.b:func", ["x", 2, 0.5, True, None], {"k": False}
    )  # fmt: skip
    assert parse("module_task.scheduler_test.job") == ("module_task.scheduler_test:job", [], {})
    for bad in ("os.system(input())", "a.b(c.d)", "a.b(**x)", "func()", "a.b('x'); c.d()"):
        with pytest.raises(InvalidInput) as refused:
            parse(bad)
        assert refused.value.field == "invoke_target"


def test_dump_reader_reads_mysqldump_literals() -> None:
    rows = sqldump.rows(XXL, "xxl_job_info")
    assert [r["id"] for r in rows] == [1, 2, 3, 4, 5, 6]
    assert rows[1]["executor_param"] == 'shop\'s "main" db'
    assert rows[3]["glue_source"] == '#!/bin/bash\necho "cleanup $1"\nexit 0'
    assert rows[0]["alarm_email"] == ""
    assert rows[1]["glue_source"] is None
    assert sqldump.rows(RUOYI, "sys_job")[0]["create_time"] is None  # sysdate()


def _check_xxl(data_dir: Path) -> None:
    jobs = _stored(data_dir)
    assert sorted(jobs) == ["xxl-1", "xxl-2", "xxl-3", "xxl-4"]
    first, _ = jobs["xxl-1"]
    assert first.paused  # trigger_status 0
    assert first.group == "xxl-job-executor-sample"
    assert first.trigger["expr"] == "0 0 0 * * ? *"
    orders, nxt = jobs["xxl-2"]
    assert orders.group == "orders"
    assert orders.target["ref"] == "tests.importers.sample_jobs:demo_handler"
    assert orders.target["args"] == ['shop\'s "main" db']
    assert (orders.retries, orders.timeout_s) == (3, 120.0)
    assert orders.concurrency_policy == "forbid"
    assert orders.misfire_policy == "run_once"
    assert nxt.weekday() < 5  # Quartz 2-6 is MON-FRI
    assert (nxt.hour, nxt.minute) == (9, 30)
    heartbeat, _ = jobs["xxl-3"]
    assert heartbeat.trigger_kind == "interval"
    assert heartbeat.concurrency_policy == "replace"
    shell, nxt = jobs["xxl-4"]
    assert shell.target_kind == "shell"
    assert shell.target["command"][:2] == ["/bin/sh", "-c"]
    assert nxt.weekday() == 6  # Quartz 1#2: the second Sunday
    assert 8 <= nxt.day <= 14


@pytest.mark.parametrize("where", ["dump", pytest.param("mariadb", marks=pytest.mark.mysql)])
def test_xxl_job(
    where: str, cli_env: Path, capsys: pytest.CaptureFixture[str], request: pytest.FixtureRequest
) -> None:
    source = XXL if where == "dump" else request.getfixturevalue("mariadb")
    assert main(["import", "xxl-job", source, "--dry-run"]) == 1
    err = capsys.readouterr().err
    assert "the Java handler 'demoJobHandler' has no Python function" in err
    assert "GLUE_GROOVY code runs inside xxl-job's executor" in err
    assert "schedule_type NONE" in err
    assert main(["import", "xxl-job", source, *HANDLERS, "--skip-refused"]) == 0
    out, err = capsys.readouterr()
    assert "imported 4 jobs: 4 added" in out
    assert "alarm_email ops@example.com" in err
    assert "child jobs 3 ran after it" in err
    _check_xxl(cli_env)


@pytest.mark.parametrize("where", ["dump", pytest.param("mariadb", marks=pytest.mark.mysql)])
def test_ruoyi(
    where: str, cli_env: Path, capsys: pytest.CaptureFixture[str], request: pytest.FixtureRequest
) -> None:
    source = RUOYI if where == "dump" else request.getfixturevalue("mariadb")
    assert main(["import", "ruoyi", source, "--skip-refused", "--dry-run"]) == 0
    out, err = capsys.readouterr()
    assert "would create ruoyi-3:" in out
    assert "2 jobs would be created, 3 refused (dry run)" in out
    assert (
        "refused: sys_job job_id=1 (系统默认（无参）): invoke_target: 'ryTask.ryNoParams': "
        "'ryTask' is no Python module; it reads like a Spring bean" in err
    )
    assert "refused: sys_job job_id=5 (危险): invoke_target:" in err
    assert "only literal arguments map" in err
    assert main(["import", "ruoyi", source, "--skip-refused"]) == 0
    jobs = _stored(cli_env)
    assert sorted(jobs) == ["ruoyi-3", "ruoyi-4"]
    clean, nxt = jobs["ruoyi-3"]
    assert clean.target == {"ref": "tests.importers.sample_jobs:clean_logs", "args": [90],
                            "kwargs": {"dry": True}}  # fmt: skip
    assert (clean.group, clean.misfire_policy, clean.concurrency_policy) == (
        "SYSTEM", "run_once", "forbid"
    )  # fmt: skip
    assert clean.description == "每周日清理"
    assert nxt.weekday() == 6  # Quartz 1 = Sunday
    orders, _ = jobs["ruoyi-4"]
    assert orders.target["args"] == ["erp", 500, 0.5, False, None]
    assert (orders.misfire_policy, orders.concurrency_policy) == ("run_all", "allow")
    assert orders.trigger["expr"] == "0 0/30 9-17 ? * 1-5"
    assert json.dumps(orders.target)  # plain values only
