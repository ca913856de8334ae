"""The celery kind: a task published by name to the user's own app and worker (a real
``celery worker`` of that app); with a result backend the run follows the task to its end."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.celery.conftest import ROOT, Broker, wait_for
from tests.celery.test_executor import TERMINAL
from tickwork import Tickwork
from tickwork.errors import InvalidInput
from tickwork.settings import Settings


@pytest.fixture
def user_worker(broker: Broker, redis_broker: Broker, queue: str, tmp_path: Path) -> Iterator[str]:
    """The user's own Celery worker (not Tickwork's) consuming ``queue`` on ``broker``, with
    results in Redis; the user's apps in this process publish to the same broker."""
    from tests.celery import user_app

    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "CELERYTEST_BROKER": broker.url,
        "CELERYTEST_BACKEND": redis_broker.url,
    }
    for app in (user_app.tracked_app, user_app.plain_app):
        app.conf.broker_url = broker.url
    log = open(tmp_path / "user-worker.log", "wb")  # noqa: SIM115 (closed below)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "tests.celery.user_app:tracked_app",
            "worker",
            "-Q",
            queue,
            "-P",
            "threads",
            "-c",
            "2",
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "INFO",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    yield queue
    # the user's apps publish through kombu's process-wide pools: close them here
    from kombu import pools

    from tests.celery import user_app
    from tickwork.executors.celery_app import close_app

    pools.reset()
    for app in (user_app.tracked_app, user_app.plain_app):
        client = getattr(app.backend, "client", None)  # the Redis result backend's
        if client is not None:
            client.close()
        app.amqp._producer_pool = None  # it held one of the pools just closed
        close_app(app)
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)
    log.close()


@pytest.mark.redis
def test_a_celery_task_by_name_is_published_and_followed_to_its_end(
    user_worker: str, tmp_path: Path
) -> None:
    queue = user_worker
    tw = Tickwork(settings=Settings(database_url=f"sqlite:///{tmp_path / 't.db'}", timezone="UTC"))
    tw.start()
    try:

        def target(task: str, app: str = "tracked_app", **extra: object) -> dict[str, object]:
            return {"kind": "celery", "task": task, "queue": queue,
                    "app": f"tests.celery.user_app:{app}", **extra}  # fmt: skip

        tw.add_job(target("schedule.clean_messages", kwargs={"days": 7}), "date", id="clean")
        tw.add_job(target("schedule.broken"), "date", id="broken")
        tw.add_job(target("schedule.clean_messages", app="plain_app"), "date", id="untracked")
        wait_for(lambda: len(tw.get_runs(limit=10)) == 3, 30, "three runs")
        wait_for(lambda: all(r.status in TERMINAL for r in tw.get_runs(limit=10)), 60, "their ends")
        runs = {r.job_id: tw.get_run(r.id) for r in tw.get_runs(limit=10)}
        clean, broken, untracked = runs["clean"], runs["broken"], runs["untracked"]
        assert clean.status == "succeeded", clean
        assert '"state": "SUCCESS"' in (clean.result or "")
        assert '"cleaned": 14' in (clean.result or "")
        assert broken.status == "failed"
        assert "FAILURE" in (broken.error or "")
        assert "the dataset is gone" in (broken.error or "")
        assert untracked.status == "succeeded"
        assert '"tracked": false' in (untracked.result or "")
        assert "outcome is not tracked: the app has no result backend" in (untracked.log or "")
    finally:
        tw.shutdown()
        tw.close()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"task": ""}, "target.task"),
        ({"app": "not a ref"}, "target.app"),
        ({"queue": "bad queue"}, "target.queue"),
        ({"args": {"a": 1}}, "target.args"),
        ({"options": {"link": "x"}}, "target.options.link"),
        ({"nope": 1}, "target.nope"),
    ],
)
def test_bad_celery_targets_are_refused_naming_the_field(
    change: dict[str, object], field: str, tmp_path: Path
) -> None:
    tw = Tickwork(settings=Settings(database_url=f"sqlite:///{tmp_path / 't.db'}", timezone="UTC"))
    try:
        spec = {"kind": "celery", "task": "schedule.clean_messages",
                "app": "tests.celery.user_app:tracked_app", **change}  # fmt: skip
        with pytest.raises(InvalidInput) as err:
            tw.add_job(spec, "date", id="bad")
        assert err.value.field == field
        assert tw.get_jobs() == []
    finally:
        tw.close()
