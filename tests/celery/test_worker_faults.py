"""A worker killed mid-run, cancels and timeouts reaching the worker, and a long run on Redis
with a visibility timeout shorter than the run: real ``tickwork worker`` processes."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from tests.celery.conftest import Broker, Workers, scheduler, wait_for
from tests.celery.test_executor import ended, ledger, worker_ids
from tickwork import Tickwork
from tickwork.executors.celery_app import Publisher, make_app

pytestmark = pytest.mark.slow


def pid_of(tw: Tickwork, node_id: str) -> int:
    return next(n.pid for n in tw.nodes() if n.id == node_id)


def test_a_worker_killed_mid_run_is_noticed_its_run_ends_lost_and_is_retried_elsewhere(
    database_url: str, broker: Broker, workers: Workers, queue: str, tmp_path: Path
) -> None:
    book, marker = tmp_path / "ledger.log", tmp_path / "marker"
    procs = [workers.start(queue, concurrency=1) for _ in range(2)]
    tw = scheduler(database_url, broker)
    tw.start()
    try:
        wait_for(lambda: len(worker_ids(tw)) == 2, 30, "two workers")
        tw.add_job("tests.celery.tasks:hang_first_time", "date", id="hang", queue=queue,
                   retries=1, retry_backoff_s=0.1, retry_backoff_max_s=0.1,
                   kwargs={"marker": str(marker), "log": str(book), "key": "hang"})  # fmt: skip
        wait_for(marker.exists, 30, "the first attempt's body")
        (first,) = tw.get_runs(limit=10)
        assert first.status == "running"
        victim = first.node_id
        assert victim is not None
        os.kill(pid_of(tw, victim), signal.SIGKILL)
        killed = next(p for p in procs if p.pid == pid_of(tw, victim))
        killed.wait(10)
        wait_for(lambda: len(tw.get_runs(limit=10)) == 2, 60, "the retry")
        retry = next(r for r in tw.get_runs(limit=10) if r.attempt == 2)
        wait_for(lambda: ended(tw, retry.id), 60, "the retry's end")
        first, retry = tw.get_run(first.id), tw.get_run(retry.id)
        assert first.status == "lost"
        assert f"node {victim} stopped sending heartbeats" in (first.error or "")
        assert retry.status == "succeeded"
        assert retry.retry_of == first.id
        assert retry.node_id not in (None, victim)
        assert ledger(book)["hang"] == 2  # the lost attempt's body, then the retry's
    finally:
        tw.shutdown()
        tw.close()


def test_cancel_timeout_and_revoke_reach_the_worker(
    database_url: str, broker: Broker, workers: Workers, queue: str, tmp_path: Path
) -> None:
    book = tmp_path / "ledger.log"
    workers.start(queue, concurrency=3)
    tw = scheduler(database_url, broker)
    tw.start()
    publisher = Publisher(make_app(broker.url))
    try:
        for key, timeout in (("cancel", None), ("timeout", 1.0), ("revoke", None)):
            tw.add_job("tests.celery.tasks:sleep_marked", "date", id=key, queue=queue,
                       timeout_s=timeout, executor="process",
                       kwargs={"log": str(book), "key": key, "seconds": 120})  # fmt: skip
        wait_for(lambda: len(tw.get_runs(limit=10)) == 3, 30, "three runs")
        runs = {r.job_id: r.id for r in tw.get_runs(limit=10)}
        wait_for(lambda: ledger(book)["cancel:start"] == 1, 60, "the first body")
        wait_for(lambda: ledger(book)["revoke:start"] == 1, 60, "the third body")
        # the run page's live log: the worker stores a running run's log as it goes
        wait_for(
            lambda: "cancel is under way" in (tw.get_run(runs["cancel"]).log or ""),
            30,
            "the live log of a run on a worker",
        )
        assert tw.get_run(runs["cancel"]).status == "running"
        tw.cancel_run(runs["cancel"], by="tester")
        publisher.revoke(runs["revoke"])
        for rid in runs.values():
            wait_for(lambda rid=rid: ended(tw, rid), 60, f"run {rid}'s end")
        cancelled, timed_out, revoked = (
            tw.get_run(runs[k]) for k in ("cancel", "timeout", "revoke")
        )
        assert cancelled.status == "cancelled"
        assert timed_out.status == "timed_out"
        assert "timeout" in (timed_out.error or "")
        assert revoked.status == "cancelled"
        assert "revoked" in (revoked.error or "")
        assert {r.node_id for r in (cancelled, timed_out, revoked)} == worker_ids(tw)
        book_now = ledger(book)
        assert not any(key.endswith(":end") for key in book_now)  # all three were stopped
    finally:
        publisher.close()
        tw.shutdown()
        tw.close()


@pytest.mark.parametrize("broker", ["redis"], indirect=True)
def test_a_90_second_run_with_a_30_second_visibility_timeout_executes_once(
    database_url: str, broker: Broker, workers: Workers, queue: str, tmp_path: Path
) -> None:
    """kombu#337, celery#3270: with acks_late, Redis hands a message unacknowledged for longer
    than the visibility timeout to another worker. Tickwork's message is acknowledged once
    the run's start is recorded, and a second delivery could not start it anyway."""
    book = tmp_path / "ledger.log"
    for _ in range(2):  # a second worker would take a redelivered message at once
        workers.start(queue, concurrency=1, env={"TICKWORK_CELERY_VISIBILITY_TIMEOUT": "30"})
    tw = scheduler(database_url, broker)
    tw.start()
    try:
        tw.add_job("tests.celery.tasks:sleep_marked", "date", id="long", queue=queue,
                   kwargs={"log": str(book), "key": "long", "seconds": 90})  # fmt: skip
        wait_for(lambda: len(tw.get_runs(limit=10)) == 1, 30, "the run")
        (run,) = tw.get_runs(limit=10)
        wait_for(lambda: ended(tw, run.id), 150, "the run's end")
        assert tw.get_run(run.id).status == "succeeded"
        assert ledger(book) == {"long:start": 1, "long:end": 1}
        assert len(tw.get_runs(limit=10)) == 1
    finally:
        tw.shutdown()
        tw.close()
