"""Built-ins as ordinary jobs: seed 000's set installed with one command, runs through a real
scheduler node (thread and process executors) storing the report in the run record, the kind
in job files, and bad specs refused before anything is written."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.engine.conftest import wait_for
from tickwork import Tickwork
from tickwork.builtins.catalog import SEED_SET
from tickwork.cli import main
from tickwork.clock import FakeClock
from tickwork.engine.node import NodeOptions
from tickwork.errors import InvalidInput
from tickwork.settings import Settings
from tickwork.store.records import RunRecord

T0 = 1_767_607_200_000_000


@pytest.fixture
def store(tmp_path: Path) -> dict[str, str]:
    return {"database_url": f"sqlite:///{tmp_path / 'tw.db'}", "data_dir": str(tmp_path / "d")}


@pytest.fixture
def tw(store: dict[str, str], tmp_path: Path) -> Iterator[Tickwork]:
    settings = Settings(data_dir=Path(store["data_dir"]), database_url=store["database_url"],
                        timezone="UTC")  # fmt: skip
    node = NodeOptions(workers={"thread": 2, "process": 1, "asyncio": 1}, shutdown_wait_s=5)
    t = Tickwork(settings=settings, clock=FakeClock(T0), node_options=node)
    yield t
    t.close()


def run_now(tw: Tickwork, job_id: str) -> RunRecord:
    assert isinstance(tw.clock, FakeClock)
    tw.clock.advance(1)
    run_id = tw.run_job(job_id, by="test")
    done: list[RunRecord] = []

    def ended() -> bool:
        run = tw.get_run(run_id)
        if run.status in ("scheduled", "running"):
            return False
        done.append(run)
        return True

    wait_for(ended, timeout=60, what=f"run {run_id} of {job_id}")
    return done[0]


@pytest.mark.postgres
def test_install_the_set_with_one_command_and_run_it(
    tw: Tickwork, store: dict[str, str], mnt_databases: Callable[[str], str], redis_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    tw.add_connection("app_db", "database", {"url": mnt_databases("postgres")})
    tw.add_connection("cache", "redis", {"url": redis_url})
    args = ["builtins", "install", "postgres-maintenance", "--connection", "app_db",
            "--redis", "cache", "--database-url", store["database_url"],
            "--data-dir", store["data_dir"]]  # fmt: skip
    assert main(args) == 0
    assert "10 job(s) added" in capsys.readouterr().out
    jobs = {j.id: j for j in tw.get_jobs()}
    assert set(jobs) == set(SEED_SET)
    assert jobs["cleanup_old_data"].next_run_time is None  # paused until given its table
    assert jobs["vacuum_redis_cache"].record.target["dry_run"] is True
    again = main(args)  # the ids exist: refused, nothing changed
    assert again != 0
    assert len(tw.get_jobs()) == 10

    tw.add_job({"kind": "builtin", "name": "db_health_check", "connection": "app_db"},
               "@daily", id="health-in-a-process", executor="process")  # fmt: skip
    tw.start()
    for job_id in ("check_slow_queries", "monitor_connection_pool", "health-in-a-process",
                   "vacuum_redis_cache"):  # fmt: skip
        run = run_now(tw, job_id)
        assert run.status == "succeeded", (job_id, run.error)
        result = json.loads(run.result or "")
        assert set(result) >= {"metrics", "findings"}, result
        assert isinstance(result["findings"], list)
    slow = json.loads(run_now(tw, "check_slow_queries").result or "")
    assert slow["metrics"]["slow_queries"] == 0


def test_a_failed_builtin_keeps_its_report(tw: Tickwork) -> None:
    tw.add_connection("down", "database", {"url": "postgresql://nobody@127.0.0.1:1/x"})
    tw.add_job({"kind": "builtin", "name": "db_health_check", "connection": "down"},
               "@daily", id="down")  # fmt: skip
    tw.start()
    run = run_now(tw, "down")
    assert run.status == "failed"
    assert "cannot reach the server" in (run.error or "")
    result = json.loads(run.result or "")
    assert result["findings"][0]["severity"] == "critical"


def test_job_files_take_the_kind(tw: Tickwork, tmp_path: Path) -> None:
    tw.add_connection("app_db", "database", {"url": f"sqlite:///{tmp_path / 'app.db'}"})
    path = tmp_path / "jobs.yaml"
    path.write_text(
        "jobs:\n"
        "  - id: slow\n"
        "    cron: '*/15 * * * *'\n"
        "    target: {kind: builtin, name: check_slow_queries, connection: app_db,"
        " threshold_s: 5}\n"
    )
    tw.sync_job_files([path])
    job = tw.get_job("slow")
    assert job is not None
    assert job.record.target["threshold_s"] == 5.0
    assert job.record.target["max_statement_chars"] == 300  # defaults filled in


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"name": "nope"}, "target.name"),
        ({"name": "check_slow_queries"}, "target.connection"),
        ({"name": "check_slow_queries", "connection": "a", "threshold": 5}, "target.threshold"),
        ({"name": "check_slow_queries", "connection": "a", "threshold_s": -1},
         "target.threshold_s"),
        ({"name": "cleanup_old_data", "connection": "a", "time_column": "t"}, "target.table"),
        ({"name": "cleanup_old_data", "connection": "a", "table": "x`y", "time_column": "t"},
         "target.table"),
        ({"name": "cleanup_old_data", "connection": "a", "table": "t", "time_column": "t",
          "children": [{"table": "c", "column": "p; --"}]}, "target.children[0].column"),
        ({"name": "cleanup_connection_pool", "connection": "a", "terminate": "yes"},
         "target.terminate"),
        ({"name": "cleanup_log_files", "connection": "a", "path": "/x"}, "target.connection"),
    ],
)  # fmt: skip
def test_bad_specs_are_refused_naming_the_field(spec: dict[str, Any], field: str) -> None:
    from tickwork.targets import kinds

    with pytest.raises(InvalidInput) as caught:
        kinds.get("builtin").validate(spec)
    assert caught.value.field == field
