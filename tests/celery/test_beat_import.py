"""``tickwork import celery-beat``: seed 003's beat_schedule moves over in one command."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.celery.conftest import ROOT
from tickwork import Tickwork
from tickwork.cli import main
from tickwork.settings import Settings


def client(db: Path) -> Tickwork:
    return Tickwork(settings=Settings(database_url=f"sqlite:///{db}", timezone="UTC"))


def test_seed_003s_schedule_is_planned_then_imported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(ROOT))
    # jobs made by the CLI may only name allowed modules (the app's, here)
    monkeypatch.setenv("TICKWORK_ALLOWED_TARGETS", "tests.celery")
    db = tmp_path / "t.db"
    url = ["--database-url", f"sqlite:///{db}"]
    assert main(["import", "celery-beat", "tests.celery.beat_apps:dify", "--dry-run", *url]) == 0
    out = capsys.readouterr().out
    assert "would add job clean-expired-messages: schedule.clean_messages on queue dataset, " \
        "cron 0 2 * * * (Asia/Shanghai)" in out  # fmt: skip
    assert "queue-monitor: schedule.queue_monitor_task on queue monitor, cron */5 * * * *" in out
    assert "nothing changed" in out
    tw = client(db)
    assert tw.get_jobs() == []
    tw.close()

    assert main(["import", "celery-beat", "tests.celery.beat_apps:dify", *url]) == 0
    assert "imported 5 job(s); 0 refused" in capsys.readouterr().out
    tw = client(db)
    try:
        jobs = {j.id: j for j in tw.get_jobs()}
        assert set(jobs) == {
            "clean-expired-messages", "clean-embedding-cache", "queue-monitor",
            "check-upgradable-plugins", "clean-unused-datasets",
        }  # fmt: skip
        clean = jobs["clean-expired-messages"].record
        assert clean.target == {
            "task": "schedule.clean_messages", "app": "tests.celery.beat_apps:dify",
            "queue": "dataset", "args": [], "kwargs": {},
        }  # fmt: skip
        assert clean.target_kind == "celery"
        assert clean.trigger["kind"] == "cron"
        assert clean.timezone == "Asia/Shanghai"
        plugin = jobs["check-upgradable-plugins"].record
        assert plugin.target["queue"] == "plugin"
        assert plugin.target["options"] == {"priority": 5}
        unused = jobs["clean-unused-datasets"].record
        assert unused.trigger["kind"] == "interval"
        assert unused.target["args"] == [30]
        assert unused.target["kwargs"] == {"dry": False}
        assert "queue" not in unused.target  # the task is not registered here: the app routes it
        # the next fires are beat's: 02:00 Shanghai is 18:00 UTC the day before
        nxt = jobs["clean-expired-messages"].next_run_time
        assert nxt is not None
        assert (nxt.hour, nxt.minute) == (2, 0)
    finally:
        tw.close()


def test_what_cannot_move_is_refused_with_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(ROOT))
    # jobs made by the CLI may only name allowed modules (the app's, here)
    monkeypatch.setenv("TICKWORK_ALLOWED_TARGETS", "tests.celery")
    db = tmp_path / "t.db"
    url = ["--database-url", f"sqlite:///{db}"]
    argv = ["import", "celery-beat", "tests.celery.beat_apps:odd", "--skip-refused", *url]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert (
        "refused at-dawn: solar schedules (a sun event at a place) have no Tickwork trigger" in out
    )
    assert "refused first-monday: crontab(0 9 1-7 * mon) restricts both day fields" in out
    assert "imported 1 job(s); 2 refused" in out
    tw = client(db)
    try:
        (job,) = tw.get_jobs()
        assert job.id == "every-30s"
        assert job.record.trigger["kind"] == "interval"
    finally:
        tw.close()


def test_an_app_that_cannot_be_loaded_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = ["--database-url", f"sqlite:///{tmp_path / 't.db'}"]
    assert main(["import", "celery-beat", "no_such_module_xyz:app", *url]) == 2
    assert "app: 'no_such_module_xyz:app' cannot be loaded" in capsys.readouterr().err


def test_refused_entries_write_nothing_unless_skip_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # as every other importer: a refusal writes nothing, --skip-refused creates the others
    monkeypatch.syspath_prepend(str(ROOT))
    monkeypatch.setenv("TICKWORK_ALLOWED_TARGETS", "tests.celery")
    db = tmp_path / "t.db"
    url = ["--database-url", f"sqlite:///{db}"]
    assert main(["import", "celery-beat", "tests.celery.beat_apps:odd", *url]) == 1
    captured = capsys.readouterr()
    assert "refused at-dawn: solar schedules" in captured.out
    assert "nothing written: 2 refused, 1 convertible" in captured.err
    tw = client(db)
    try:
        assert tw.get_jobs() == []
    finally:
        tw.close()
    argv = ["import", "celery-beat", "tests.celery.beat_apps:odd", "--skip-refused", *url]
    assert main(argv) == 0
    assert "imported 1 job(s); 2 refused" in capsys.readouterr().out
    tw = client(db)
    try:
        assert [j.id for j in tw.get_jobs()] == ["every-30s"]
    finally:
        tw.close()


def test_existing_jobs_are_replaced_only_with_replace(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(ROOT))
    monkeypatch.setenv("TICKWORK_ALLOWED_TARGETS", "tests.celery")
    db = tmp_path / "t.db"
    url = ["--database-url", f"sqlite:///{db}"]
    assert main(["import", "celery-beat", "tests.celery.beat_apps:dify", *url]) == 0
    tw = client(db)
    try:
        tw.modify_job("queue-monitor", name="changed here", origin="cli")
    finally:
        tw.close()
    capsys.readouterr()
    assert main(["import", "celery-beat", "tests.celery.beat_apps:dify", *url]) == 2
    assert "5 job(s) already exist" in capsys.readouterr().err
    tw = client(db)
    try:
        job = tw.get_job("queue-monitor")
        assert job is not None
        assert job.name == "changed here"
    finally:
        tw.close()
    argv = ["import", "celery-beat", "tests.celery.beat_apps:dify", "--replace", *url]
    assert main(argv) == 0
    assert "imported 5 job(s); 0 refused" in capsys.readouterr().out
    tw = client(db)
    try:
        job = tw.get_job("queue-monitor")
        assert job is not None
        assert job.name == "queue-monitor"
    finally:
        tw.close()


def test_prefix_names_the_new_ids(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(ROOT))
    monkeypatch.setenv("TICKWORK_ALLOWED_TARGETS", "tests.celery")
    db = tmp_path / "t.db"
    url = ["--database-url", f"sqlite:///{db}"]
    argv = ["import", "celery-beat", "tests.celery.beat_apps:dify", "--prefix", "beat", *url]
    assert main(argv) == 0
    assert "will add job beat-queue-monitor:" in capsys.readouterr().out
    tw = client(db)
    try:
        ids = {j.id for j in tw.get_jobs()}
        assert "beat-queue-monitor" in ids
        assert len(ids) == 5
        assert all(i.startswith("beat-") for i in ids)
    finally:
        tw.close()
