"""The Flask extension in one process: Flask-APScheduler's configuration keys and methods,
the refusals, jobs inside the app context, and the ``flask tickwork`` commands."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.integrations import ledger
from tests.integrations.gunicorn import wait_for
from tickwork.errors import InvalidInput
from tickwork.integrations.flask import APScheduler
from tickwork.targets.python import current_call_context

pytestmark = pytest.mark.sqlite


def make_app(tmp_path: Path, **config: Any) -> tuple[Flask, APScheduler]:
    app = Flask("seed_app")
    app.config.update(
        TICKWORK_DATABASE_URL=f"sqlite:///{tmp_path / 'tw.db'}",
        TICKWORK_DATA_DIR=str(tmp_path),
        **config,
    )
    scheduler = APScheduler()
    scheduler.init_app(app)
    return app, scheduler


JOBS = [
    {
        "id": "db_health_check",
        "func": "tests.integrations.ledger:tick",
        "trigger": "interval",
        "minutes": 3,
        "misfire_grace_time": 30,
    },
    {
        "id": "weekly",
        "func": "tests.integrations.ledger:tick",
        "trigger": "cron",
        "day_of_week": 0,  # APScheduler's numbering: Monday
        "hour": 9,
    },
]


def test_seed_000_calls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TICKWORK_ELECTION_DIR", str(tmp_path / "host"))
    monkeypatch.setenv("TICKWORK_TEST_LEDGER", str(tmp_path / "ledger"))
    app, scheduler = make_app(
        tmp_path, JOBS=JOBS, SCHEDULER_TIMEZONE="Asia/Shanghai", SCHEDULER_API_ENABLED=True
    )
    try:
        scheduler.start()
        assert scheduler.running
        assert scheduler.state == 1
        assert sorted(j.id for j in scheduler.get_jobs()) == ["db_health_check", "weekly"]
        weekly = scheduler.get_job("weekly")
        assert weekly is not None
        assert weekly.trigger.describe("en").lower().startswith("at 09:00")
        assert weekly.next_run_time is not None
        assert weekly.next_run_time.weekday() == 0  # Monday, as APScheduler reads 0
        assert scheduler.get_job("db_health_check").misfire_grace_time == 30  # type: ignore[union-attr]
        assert scheduler.pause_job("db_health_check").paused
        assert not scheduler.resume_job("db_health_check").paused
        added = scheduler.add_job("later", "tests.integrations.ledger:tick", trigger="date",
                                  run_date="2099-01-01 00:00:00")  # fmt: skip
        assert added.id == "later"
        scheduler.remove_job("later")
        assert scheduler.get_job("later") is None
        run_id = scheduler.run_job("db_health_check")
        book = str(tmp_path / "ledger")
        wait_for("the manual run", lambda: len(ledger.read(book)) == 1)
        assert ledger.read(book)[0]["app_context"] is True  # ran inside app.app_context()
        assert ledger.read(book)[0]["pid"] == os.getpid()
        wait_for(
            "the run's record",
            lambda: scheduler.tickwork.get_run(run_id).status == "succeeded",  # type: ignore[union-attr]
        )
        with app.test_client() as client:  # the REST routes need a Tickwork token
            assert client.get("/scheduler/jobs").status_code == 401
            response = client.get("/scheduler/jobs", headers={"Authorization": "Bearer nope"})
            assert response.status_code == 401
            assert response.json["code"] == "token_invalid"  # type: ignore[index]
        runner = app.test_cli_runner()
        listed = runner.invoke(args=["tickwork", "jobs"])
        assert listed.exit_code == 0, listed.output
        assert "db_health_check\tactive" in listed.output
        paused = runner.invoke(args=["tickwork", "pause", "weekly"])
        assert paused.output.strip() == "paused weekly"
        assert scheduler.get_job("weekly").paused  # type: ignore[union-attr]
        runs = runner.invoke(args=["tickwork", "runs", "db_health_check"])
        assert f"{run_id}\tsucceeded" in runs.output
    finally:
        scheduler.shutdown()
        scheduler.tickwork.close()
    assert current_call_context() is None  # a later app's jobs do not run in this one's context


def test_a_second_app_on_the_host_stands_by(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two extensions on one database in one host: the second stands by (no SQLite refusal)."""
    monkeypatch.setenv("TICKWORK_ELECTION_DIR", str(tmp_path / "host"))
    _, first = make_app(tmp_path)
    _, second = make_app(tmp_path)
    try:
        first.start()
        second.start()
        assert first.running
        assert not second.running
        assert second.state == 0
    finally:
        second.shutdown()
        first.shutdown()
        first.tickwork.close()
        second.tickwork.close()


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"SCHEDULER_JOBSTORE": {}}, "SCHEDULER_JOBSTORE"),  # a typo of SCHEDULER_JOBSTORES
        ({"SCHEDULER_AUTH": object()}, "SCHEDULER_AUTH"),
        ({"SCHEDULER_JOBSTORES": {"default": {"type": "memory"}}}, "jobstores.default"),
        ({"JOBS": [{"func": "tests.integrations.ledger:tick"}]}, "JOBS[0].id"),
        ({"JOBS": ["tick"]}, "JOBS[0]"),
        ({"SCHEDULER_ALLOWED_HOSTS": "web1"}, "SCHEDULER_ALLOWED_HOSTS"),
    ],
)
def test_refused_configuration_names_the_key(
    tmp_path: Path, config: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        make_app(tmp_path, **config)
    assert refused.value.field == field


def test_stands_by_while_another_scheduler_holds_the_sqlite_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`tickwork serve` already runs the scheduler on the app's SQLite file: the app's workers
    stand by instead of failing to start, and take over when it stops."""
    from tickwork.service import Tickwork
    from tickwork.settings import Settings

    monkeypatch.setenv("TICKWORK_ELECTION_DIR", str(tmp_path / "host"))
    monkeypatch.setenv("TICKWORK_ELECTION_RETRY_S", "0.1")
    outside = Tickwork(
        settings=Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'tw.db'}")
    )
    outside.start()
    _, scheduler = make_app(tmp_path)
    try:
        scheduler.start()  # no SchedulerAlreadyRunning out of the app's start-up
        assert not scheduler.running
        outside.shutdown()
        wait_for("the app's worker to take over", lambda: scheduler.running)
    finally:
        scheduler.shutdown()
        scheduler.tickwork.close()
        outside.close()


def test_allowed_hosts_keep_the_scheduler_off_other_hosts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TICKWORK_ELECTION_DIR", str(tmp_path / "host"))
    _, elsewhere = make_app(tmp_path, SCHEDULER_ALLOWED_HOSTS=["scheduler-host-only"])
    _, here = make_app(tmp_path, SCHEDULER_ALLOWED_HOSTS=[socket.gethostname()])
    try:
        elsewhere.start()
        assert not elsewhere.running  # Flask-APScheduler's rule: not this host
        here.start()
        assert here.running
    finally:
        for scheduler in (here, elsewhere):
            scheduler.shutdown()
            scheduler.tickwork.close()
