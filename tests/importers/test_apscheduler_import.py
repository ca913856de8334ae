"""``tickwork import apscheduler``: an ``apscheduler_jobs`` table written by real APScheduler 3
on SQLite. Without --trust-pickles nothing is unpickled; with it, a child process unpickles and
every job comes back with the next fire time APScheduler itself computed."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine

from tests.importers import sample_jobs
from tickwork.cli import main
from tickwork.service import Tickwork
from tickwork.settings import Settings

AT = datetime(2026, 12, 7, 5, 10, tzinfo=UTC)  # a Monday; the clock stands still here


def _apscheduler_store(url: str) -> dict[str, datetime | None]:
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler

    scheduler = BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(url=url)}, timezone="Asia/Shanghai"
    )
    scheduler.start(paused=True)
    try:
        add = scheduler.add_job
        add(sample_jobs.report, "cron", day_of_week=0, hour=9, id="weekly_monday")  # 0 = MON
        add(sample_jobs.clean_logs, "cron", day_of_week="mon-fri", hour=3, minute=30,
            args=[7], kwargs={"dry": True}, id="weekday_cleanup", misfire_grace_time=120,
            coalesce=True, max_instances=2)  # fmt: skip
        add(sample_jobs.report, "interval", minutes=5, id="every_5_min")
        add(sample_jobs.report, "date", run_date=datetime(2027, 1, 1, 8, 0), id="new_year")
        add(sample_jobs.report, "cron", minute="*/20", id="held").pause()
        add(sample_jobs.demo_handler, "cron", hour=1, args=[Path("/tmp")], id="odd")
        return {job.id: job.next_run_time for job in scheduler.get_jobs()}
    finally:
        scheduler.shutdown(wait=False)


@pytest.mark.sqlite
def test_apscheduler_job_store(
    tmp_path: Path, cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'aps.db'}"
    with time_machine.travel(AT, tick=False):
        expected = _apscheduler_store(url)
        assert main(["import", "apscheduler", url, "--dry-run"]) == 1
        err = capsys.readouterr().err
        assert "refused: apscheduler_jobs id=weekly_monday: stored as a pickle" in err
        assert "give --trust-pickles" in err

        assert main(["import", "apscheduler", url, "--trust-pickles"]) == 1  # 'odd' refused
        err = capsys.readouterr().err
        assert "refused: apscheduler_jobs id=odd: TypeError:" in err
        assert "not JSON serializable" in err

        assert main(["import", "apscheduler", url, "--trust-pickles", "--skip-refused"]) == 0
        assert "imported 5 jobs: 5 added" in capsys.readouterr().out
        tw = Tickwork(settings=Settings(data_dir=cli_env))
        try:
            jobs = {j.id: j for j in tw.get_jobs()}
        finally:
            tw.close()
    assert set(jobs) == set(expected) - {"odd"}
    for job_id, job in jobs.items():
        assert job.next_run_time == expected[job_id], job_id  # APScheduler's own answer
    assert jobs["held"].paused
    assert expected["weekly_monday"].weekday() == 0  # type: ignore[union-attr]
    cleanup = jobs["weekday_cleanup"]
    assert cleanup.func_ref == "tests.importers.sample_jobs:clean_logs"
    assert (cleanup.args, cleanup.kwargs) == ((7,), {"dry": True})
    assert (cleanup.misfire_grace_time, cleanup.max_instances) == (120, 2)
    assert str(cleanup.trigger.tz) == "Asia/Shanghai"
