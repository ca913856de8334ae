"""Messages that vanish between Tickwork and a worker: the run still runs, once.

A message lost after its publish (on Redis a worker killed between taking a message and
recording it as unacknowledged loses it; a purged queue on any broker) is published again by
a scheduler node once a worker of its queue has a free slot and the run waited
``resend_after``. And on Redis, a worker killed while it held kombu's restore lock must not
strand the messages a dead worker had received but not started: kombu sweeps unacknowledged
messages back to their queue under one lock per broker database; a holder killed inside a
sweep leaves the lock set until it expires (kombu's default: 300 s), and no worker restores
anything until then. The HA drill on Redis met both: a run stayed ``scheduled`` for good.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import redis

from tests.celery.conftest import ROOT, Broker, Workers, scheduler, wait_for
from tests.celery.test_executor import ended, ledger
from tickwork.executors.celery_app import make_app

pytestmark = pytest.mark.slow

# A stand-in for a worker killed mid-sweep: it takes one message without acknowledging it
# (as a worker's prefetch does), takes the restore lock the way kombu's sweep does, says so,
# and waits to be SIGKILLed, so neither is ever released.
DEAD_WORKER = textwrap.dedent(
    """
    import sys, time
    from kombu.transport.redis import Mutex
    from tickwork.executors.celery_app import make_app

    broker, queue = sys.argv[1], sys.argv[2]
    app = make_app(broker)
    with app.connection_for_read() as conn:
        channel = conn.default_channel
        deadline = time.monotonic() + 60
        message = None
        while message is None and time.monotonic() < deadline:
            message = channel.basic_get(queue, no_ack=False)
            time.sleep(0.05)
        assert message is not None, "no message came"
        client = channel.client
        held = Mutex(client, channel.unacked_mutex_key, channel.unacked_mutex_expire)
        held.__enter__()  # kept referenced: collecting it would release the lock
        print("holding", flush=True)
        time.sleep(600)
    """
)


def test_a_message_lost_after_its_publish_is_published_again_and_runs_once(
    database_url: str, broker: Broker, workers: Workers, queue: str, tmp_path: Path
) -> None:
    book = tmp_path / "ledger.log"
    tw = scheduler(database_url, broker, celery_resend_after_s=2.0)
    tw.start()
    try:
        tw.add_job("tests.celery.tasks:mark_and_print", "date", id="lost", queue=queue,
                   kwargs={"log": str(book), "key": "lost"})  # fmt: skip
        wait_for(lambda: len(tw.get_runs(limit=10)) == 1, 30, "the run")
        (run,) = tw.get_runs(limit=10)
        wait_for(lambda: tw.get_run(run.id).published_at is not None, 30, "the hand-over")
        with make_app(broker.url).connection_for_write() as conn:
            channel = conn.default_channel
            wait_for(lambda: channel.queue_purge(queue) == 1, 30, "the message to purge")
        workers.start(queue, concurrency=2)
        wait_for(lambda: ended(tw, run.id), 90, "the run of the lost message")
        assert tw.get_run(run.id).status == "succeeded"
        assert ledger(book)["lost"] == 1
        assert tw.node is not None
        assert tw.node.celery.resent >= 1
    finally:
        tw.shutdown()
        tw.close()


@pytest.mark.redis
@pytest.mark.parametrize("broker", ["redis"], indirect=True)
def test_a_worker_killed_inside_the_restore_sweep_does_not_strand_messages(
    database_url: str, broker: Broker, workers: Workers, queue: str, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    book = tmp_path / "ledger.log"
    visibility = {"TICKWORK_CELERY_VISIBILITY_TIMEOUT": "5"}
    monkeypatch.setenv("TICKWORK_CELERY_VISIBILITY_TIMEOUT", "5")
    dead = subprocess.Popen(
        [sys.executable, "-c", DEAD_WORKER, broker.url, queue],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    tw = scheduler(database_url, broker)
    tw.start()
    try:
        tw.add_job("tests.celery.tasks:mark_and_print", "date", id="stranded", queue=queue,
                   kwargs={"log": str(book), "key": "stranded"})  # fmt: skip
        assert dead.stdout is not None
        assert dead.stdout.readline().strip() == "holding"
        dead.send_signal(signal.SIGKILL)
        dead.wait(10)
        # the lock stays behind, as a SIGKILL inside the sweep leaves it
        assert redis.Redis.from_url(broker.url).exists("unacked_mutex")
        killed_at = time.monotonic()
        workers.start(queue, concurrency=2, env=visibility)
        (run,) = tw.get_runs(limit=10)
        # the bound: the lock's expiry, the visibility timeout, a sweep interval, and a margin
        # for a loaded machine; kombu's default lock (300 s) is far beyond it
        wait_for(lambda: ended(tw, run.id), 90, "the stranded message's run")
        assert tw.get_run(run.id).status == "succeeded"
        assert ledger(book)["stranded"] == 1
        print(f"restored and run {time.monotonic() - killed_at:.1f} s after the kill")
    finally:
        if dead.poll() is None:
            dead.kill()
            dead.wait(10)
        if dead.stdout is not None:
            dead.stdout.close()
        tw.shutdown()
        tw.close()
