"""Runs of jobs with a Celery queue, executed by real ``tickwork worker`` processes on RabbitMQ
and on Redis: the worker records outcome, log and result itself; a run whose message arrives
twice starts once; cancel and timeout reach the worker."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from tests.celery.conftest import Broker, Workers, scheduler, wait_for
from tickwork import Tickwork
from tickwork.executors.celery_app import Publisher, make_app
from tickwork.store.celery_repo import CeleryRepo

TERMINAL = {"succeeded", "failed", "timed_out", "cancelled", "lost", "skipped", "missed"}


def ledger(path: Path) -> Counter[str]:
    if not path.exists():
        return Counter()
    return Counter(line.split()[0] for line in path.read_text().splitlines())


def ended(tw: Tickwork, run_id: int) -> bool:
    return tw.get_run(run_id).status in TERMINAL


def worker_ids(tw: Tickwork) -> set[str]:
    with tw.store.db.read() as conn:
        return {w.node_id for w in CeleryRepo(tw.store.db).workers(conn)}


def test_a_queued_job_runs_on_a_worker_which_records_outcome_log_and_result(
    database_url: str, broker: Broker, workers: Workers, queue: str, tmp_path: Path
) -> None:
    book = tmp_path / "ledger.log"
    workers.start(queue)
    tw = scheduler(database_url, broker)
    tw.start()
    try:
        wait_for(lambda: len(worker_ids(tw)) == 1, 30, "the worker's registration")
        tw.add_job("tests.celery.tasks:mark_and_print", "date", id="py", queue=queue,
                   kwargs={"log": str(book), "key": "py"})  # fmt: skip
        tw.add_job({"kind": "shell", "command": ["sh", "-c", "echo shell-out; exit 3"]},
                   "date", id="sh", queue=queue)  # fmt: skip
        wait_for(lambda: len(tw.get_runs(limit=10)) == 2, 30, "two runs")
        runs = {r.job_id: r for r in tw.get_runs(limit=10)}
        wait_for(lambda: all(ended(tw, r.id) for r in runs.values()), 60, "both runs' ends")
        py, sh = tw.get_run(runs["py"].id), tw.get_run(runs["sh"].id)
        (worker,) = worker_ids(tw)
        assert py.status == "succeeded", py
        assert py.node_id == worker
        assert py.queue == queue
        assert py.published_at is not None
        assert json.loads(py.result or "")["key"] == "py"
        assert "hello from py" in (py.log or "")
        assert py.started_at is not None
        assert py.finished_at is not None
        assert sh.status == "failed"
        assert sh.node_id == worker
        assert "shell-out" in (sh.log or "") or "shell-out" in (sh.result or "")
        assert ledger(book) == Counter({"py": 1})
        with tw.store.db.read() as conn:
            (w,) = CeleryRepo(tw.store.db).workers(conn)
        assert w.queues == [queue]
        assert w.concurrency == 2
        assert w.running == []
        assert any(n.roles == "worker" and n.id == worker for n in tw.nodes())
    finally:
        tw.shutdown()
        tw.close()


def test_a_run_whose_message_arrives_again_is_not_started_again(
    database_url: str, broker: Broker, workers: Workers, queue: str, tmp_path: Path
) -> None:
    """A retried publish or a broker's redelivery: the worker's start is a conditional UPDATE,
    so a run that is running or ended is never started a second time."""
    book = tmp_path / "ledger.log"
    workers.start(queue, concurrency=1)
    tw = scheduler(database_url, broker)
    tw.start()
    publisher = Publisher(make_app(broker.url))
    try:
        tw.add_job("tests.celery.tasks:mark", "date", id="once", queue=queue,
                   kwargs={"log": str(book), "key": "once"})  # fmt: skip
        wait_for(lambda: len(tw.get_runs(limit=10)) == 1, 30, "the run")
        (first,) = tw.get_runs(limit=10)
        wait_for(lambda: ended(tw, first.id), 60, "the run's end")
        before = tw.get_run(first.id)
        publisher.publish([(first.id, queue)] * 3)  # three more copies of its message
        # A later run on the same single-threaded worker and FIFO queue: when it has ended,
        # the copies ahead of it were consumed.
        tw.add_job("tests.celery.tasks:mark", "date", id="after", queue=queue,
                   kwargs={"log": str(book), "key": "after"})  # fmt: skip
        wait_for(lambda: len(tw.get_runs(limit=10)) == 2, 30, "the second run")
        after = next(r for r in tw.get_runs(limit=10) if r.job_id == "after")
        wait_for(lambda: ended(tw, after.id), 60, "the second run's end")
        assert ledger(book) == Counter({"once": 1, "after": 1})
        assert tw.get_run(first.id) == before  # untouched by the copies
        assert workers.log(0).count(f"run {first.id} not started: it is succeeded") == 3
    finally:
        publisher.close()
        tw.shutdown()
        tw.close()
