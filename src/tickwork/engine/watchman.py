"""Heartbeats of this node, and the reaper of dead ones: their unfinished runs end ``lost``
and follow the retry policy. Every node reaps; the node row lock makes each death reaped once."""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable

from tickwork.clock import Clock, us_to_datetime
from tickwork.engine.events import EVENT_JOB_LOST, EventBus, JobExecutionEvent
from tickwork.engine.policies import retry_delay_s, should_retry
from tickwork.engine.writer import retry_of
from tickwork.models import RunStatus
from tickwork.store import Store
from tickwork.store.runs import NewRun

log = logging.getLogger("tickwork.watchman")


class Watchman:
    def __init__(
        self,
        store: Store,
        node_id: str,
        clock: Clock,
        bus: EventBus,
        *,
        heartbeat_s: float = 5.0,
        dead_after_s: float = 20.0,
        on_fenced: Callable[[], None] = lambda: None,
        on_retry_recorded: Callable[[], None] = lambda: None,
    ) -> None:
        self.store = store
        self.node_id = node_id
        self.clock = clock
        self.bus = bus
        self.heartbeat_s = heartbeat_s
        self.dead_after_us = round(dead_after_s * 1e6)
        self.on_fenced = on_fenced
        self.on_retry_recorded = on_retry_recorded
        self.last_heartbeat_us = 0
        self._rnd = random.Random()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tickwork-watchman", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.beat()
                self.reap()
            except Exception as exc:
                log.warning("heartbeat/reaper pass failed: %s", exc)
            self.clock.wait(self._stop, self.heartbeat_s)

    def beat(self) -> None:
        now = self.clock.now_us()
        with self.store.db.write() as conn:
            alive = self.store.nodes.heartbeat(conn, self.node_id, now)
        if alive:
            self.last_heartbeat_us = now
        else:
            log.error("node %s was declared dead by another node; fencing it", self.node_id)
            self.on_fenced()

    def reap(self) -> int:
        """Declare nodes without a recent heartbeat dead and end their runs lost."""
        now = self.clock.now_us()
        with self.store.db.write() as conn:
            dead = self.store.nodes.claim_dead(
                conn, now - self.dead_after_us, now, reaper=self.node_id
            )
            if not dead:
                return 0
            lost = self.store.runs.mark_lost(
                conn, dead, now, f"lost: node {', '.join(dead)} stopped sending heartbeats"
            )
            jobs = {
                j.id: j
                for j in (self.store.jobs.get(conn, jid) for jid in {r.job_id for r in lost})
                if j is not None
            }
            retries: list[NewRun] = []
            for r in lost:
                job = jobs.get(r.job_id)
                if job and should_retry(RunStatus.LOST, r.attempt, job.retries):
                    delay = retry_delay_s(
                        r.attempt, job.retry_backoff_s, job.retry_backoff_max_s, self._rnd
                    )
                    retries.append(retry_of(job.id, r.scheduled_for, r.attempt, r.id, now, delay))
            self.store.runs.insert_many(conn, retries, now)
        log.warning(
            "reaped dead node(s) %s: %d run(s) lost, %d retried", dead, len(lost), len(retries)
        )
        if retries:
            self.on_retry_recorded()
        if self.bus.wants(EVENT_JOB_LOST):
            for r in lost:
                self.bus.publish(
                    JobExecutionEvent(
                        code=EVENT_JOB_LOST,
                        job_id=r.job_id,
                        run_id=r.id,
                        scheduled_run_time=us_to_datetime(r.scheduled_for),
                        status=RunStatus.LOST.value,
                        error="node died",
                    )
                )
        return len(lost)
