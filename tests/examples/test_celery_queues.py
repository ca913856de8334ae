"""examples/celery-queues (seed 003) against this machine's PostgreSQL and RabbitMQ with one
real ``tickwork worker`` on the example's two queues: the message cleanup (builtin
cleanup_old_data with Dify's six child tables) runs on the worker and deletes only old rows,
the unused dataset cleanup keeps datasets in use, the queue monitor's finding raises the email
alert, and the seed's beat_schedule imports as five celery-kind jobs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.celery.conftest import wait_for
from tests.examples.conftest import EXAMPLES, load
from tickwork import Tickwork
from tickwork.cli import main as cli
from tickwork.store.celery_repo import CeleryRepo

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq]
TERMINAL = {"succeeded", "failed", "timed_out", "cancelled", "lost", "skipped", "missed"}


def run(tw: Tickwork, job_id: str) -> Any:
    run_id = tw.run_job(job_id)
    wait_for(lambda: tw.get_run(run_id).status in TERMINAL, 20, f"{job_id}'s run")
    record = tw.get_run(run_id)
    assert record.status == "succeeded", (record.error, record.log)
    return record


def workers(tw: Tickwork) -> list[Any]:
    with tw.store.db.read() as conn:
        return CeleryRepo(tw.store.db).workers(conn)


def test_celery_queues(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, example_database: Any, rabbitmq_url: str
) -> None:
    url = example_database("postgres").replace("postgresql://", "postgresql+psycopg://", 1)
    prefix = f"ex2_{uuid.uuid4().hex[:8]}_"
    env = {"APP_DATABASE_URL": url, "TICKWORK_CELERY_BROKER_URL": rabbitmq_url,
           "QUEUE_PREFIX": prefix, "TICKWORK_DATA_DIR": str(tmp_path / "data"),
           "TICKWORK_ELECTION_DIR": str(tmp_path / "host"),
           "QUEUE_MONITOR_THRESHOLD": "0",  # any backlog (even none) is a finding: the alert path
           "QUEUE_MONITOR_ALERT_EMAILS": "ops@example.com,dba@example.com"}  # fmt: skip
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    mod = load("celery-queues", "app")
    schedule = mod.schedule
    tw = Tickwork(url, timezone="Asia/Shanghai")
    mod.setup(tw)
    mod.setup(tw)  # idempotent: every start calls it
    worker = mod.start_worker({**os.environ, "PYTHONPATH": str(Path.cwd())})
    engine = sa.create_engine(url)
    try:
        jobs = {j.id: j for j in tw.get_jobs()}
        dataset, monitor = f"{prefix}dataset", f"{prefix}monitor"
        assert {k: j.record.queue for k, j in jobs.items()} == {
            "clean-expired-messages": dataset, "clean-embedding-cache": dataset,
            "clean-unused-datasets": dataset, "queue-monitor": monitor}  # fmt: skip

        now = datetime.now()
        old, new = now - timedelta(days=40), now - timedelta(days=1)
        with engine.begin() as conn:
            conn.execute(schedule.apps.insert().values(id=1, tenant_id="t1"))
            for i, at in enumerate([old] * 250 + [new] * 5, start=1):
                conn.execute(schedule.messages.insert().values(id=i, app_id=1, created_at=at))
                for child in schedule.MESSAGE_CHILDREN:
                    conn.execute(child.insert().values(message_id=i))
            conn.execute(schedule.datasets.insert(), [
                {"id": 1, "name": "unused", "created_at": old},
                {"id": 2, "name": "in use", "created_at": old},
                {"id": 3, "name": "new", "created_at": new}])  # fmt: skip
            conn.execute(
                schedule.documents.insert(),
                [{"dataset_id": 1, "updated_at": old}, {"dataset_id": 2, "updated_at": new}],
            )

        tw.start()
        wait_for(lambda: len(workers(tw)) == 1, 25, "the worker's registration")
        (w,) = workers(tw)
        assert sorted(w.queues) == [dataset, monitor]

        record = run(tw, "clean-expired-messages")
        assert (record.queue, record.node_id) == (dataset, w.node_id)
        metrics = json.loads(record.result or "{}")["metrics"]
        assert (metrics["rows_deleted"], metrics["child_rows_deleted"]) == (250, 1500)
        with engine.connect() as conn:
            assert (
                conn.execute(sa.select(sa.func.count()).select_from(schedule.messages)).scalar()
                == 5
            )
            for child in schedule.MESSAGE_CHILDREN:
                assert conn.execute(sa.select(sa.func.count()).select_from(child)).scalar() == 5

        assert json.loads(run(tw, "clean-unused-datasets").result or "") == {"datasets_removed": 1}
        with engine.connect() as conn:
            assert sorted(conn.execute(sa.select(schedule.datasets.c.id)).scalars()) == [2, 3]

        record = run(tw, "queue-monitor")
        assert record.queue == monitor
        result = json.loads(record.result or "")
        assert result["metrics"][f"queue.{dataset}"] == 0
        (alert,) = tw.alert_history(rule_id="queue-backlog")
        assert (alert["job_id"], alert["run_id"]) == ("queue-monitor", record.id)
        assert [d["channel"] for d in alert["deliveries"]] == ["ops-email"]
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(20)
        except subprocess.TimeoutExpired:
            worker.kill()
        tw.shutdown()
        tw.close()
        engine.dispose()
        schedule.engine().dispose()
        schedule.engine.cache_clear()


def test_beat_schedule_imports(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    monkeypatch.syspath_prepend(str(EXAMPLES / "celery-queues"))
    # jobs made by the CLI may name only allowed modules: the deployment names the app's
    monkeypatch.setenv("TICKWORK_ALLOWED_TARGETS", "ext_celery")
    monkeypatch.setenv("TICKWORK_DATA_DIR", str(tmp_path / "data"))
    store = f"sqlite:///{tmp_path / 'tw.db'}"
    code = cli(["import", "celery-beat", "ext_celery:celery_app", "--database-url", store])
    assert code == 0, capsys.readouterr()
    tw = Tickwork(store)
    try:
        jobs = {j.id: j.record for j in tw.get_jobs()}
        assert set(jobs) == {"clean-expired-messages", "clean-embedding-cache", "queue-monitor",
                             "check-upgradable-plugins", "clean-unused-datasets"}  # fmt: skip
        assert jobs["queue-monitor"].target["task"] == "schedule.queue_monitor_task"
        assert jobs["queue-monitor"].target.get("queue") == "monitor"
    finally:
        tw.close()
