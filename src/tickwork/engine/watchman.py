"""Heartbeats of this node, and the reaper of nodes that are gone.

A node silent for ``dead_after_s`` is declared dead, but never for a silence that overlaps
the reaper's own: after a database outage every node reconnects at its own moment, and the
first one back must not take the others' silence for death (Quartz's rule: another node
fails only after ``its last check-in + max(interval, now - my own last check-in)``).

The runs of a dead node, and the runs a stopped node left unfinished (it could not record
their outcomes), are settled: a run whose start was recorded ends ``lost`` and follows the
retry policy; a claimed run that never started goes back to the queue, for any node. Every
node reaps; row locks make each death reaped once.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable

from sqlalchemy import Connection

from tickwork.clock import Clock, us_to_datetime
from tickwork.engine.events import EVENT_JOB_LOST, EventBus, JobExecutionEvent
from tickwork.engine.hooks import RunEnded, RunHooks
from tickwork.engine.policies import retry_delay_s, should_retry
from tickwork.engine.writer import next_attempt
from tickwork.models import RunStatus
from tickwork.store import Store
from tickwork.store.records import RunRecord
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
        reaps: bool = True,
        on_pass: Callable[[int], object] | None = None,
    ) -> None:
        self.store = store
        self.node_id = node_id
        self.clock = clock
        self.bus = bus
        self.heartbeat_us = round(heartbeat_s * 1e6)
        self.heartbeat_s = heartbeat_s
        self.dead_after_us = round(dead_after_s * 1e6)
        self.on_fenced = on_fenced
        self.on_retry_recorded = on_retry_recorded
        self.reaps = reaps  # API-only nodes beat but leave reaping to scheduler nodes
        self.on_pass = on_pass  # a scheduler node's other sweep (lost Celery messages)
        self.last_heartbeat_us = 0
        self.first_heartbeat_us = 0  # when this identity began to watch the others
        self.passes = 0  # heartbeat/reaper passes done (tests wait on it)
        self.hooks = RunHooks()  # called in the transaction that records lost runs
        self.own_silence_us = 0  # between this node's last two heartbeats that reached the db
        self._rnd = random.Random()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tickwork-watchman", daemon=True)

    def start(self) -> None:
        self._thread.start()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(10)

    def _run(self) -> None:
        while not self._stop.is_set():
            began = self.clock.now_us()
            try:
                self.beat()
                if self.reaps:
                    self.reap()
                    if self.on_pass is not None:
                        self.on_pass(self.clock.now_us())
            except Exception as exc:
                log.warning("heartbeat/reaper pass failed: %s", exc)
            self.passes += 1
            # A fixed cadence from the start of each pass (a slow pass does not stretch it).
            left_s = (began + self.heartbeat_us - self.clock.now_us()) / 1e6
            if left_s > 0:
                self.clock.wait(self._stop, left_s)

    def beat(self) -> None:
        now = self.clock.now_us()
        with self.store.db.write() as conn:
            alive = self.store.nodes.heartbeat(conn, self.node_id, now)
        if alive:
            if self.last_heartbeat_us:
                self.own_silence_us = now - self.last_heartbeat_us
            else:
                self.first_heartbeat_us = now
            self.last_heartbeat_us = now
        else:
            log.error("node %s was declared dead by another node; fencing it", self.node_id)
            self.on_fenced()

    def dead_before(self, now: int) -> int | None:
        """Nodes whose last heartbeat is older than this are dead (None: none can be judged
        yet). A silence of this node's own (it could not reach the database either) extends
        the bound by as much, and a node judges others only after watching them for the
        whole bound itself: a silence it did not witness is no evidence."""
        own_gap = max(0, self.own_silence_us - self.heartbeat_us)
        bound = self.dead_after_us + own_gap
        if not self.first_heartbeat_us or now - self.first_heartbeat_us <= bound:
            return None
        return now - bound

    def reap(self) -> int:
        """Declare silent nodes dead and settle the runs of nodes that are gone; returns the
        number of runs that ended lost."""
        now = self.clock.now_us()
        with self.store.db.write() as conn:
            before = self.dead_before(now)
            dead = (
                []
                if before is None
                else self.store.nodes.claim_dead(conn, before, now, reaper=self.node_id)
            )
            stopped = {
                n: why
                for n, why in self.store.runs.stopped_nodes_with_runs(conn).items()
                if n not in dead
            }
            gone = [*dead, *stopped]
            if not gone:
                return 0
            lost, released = self.store.runs.reap(
                conn, dead, now, f"lost: node {', '.join(dead)} stopped sending heartbeats"
            )
            for node_id, why in stopped.items():
                more_lost, more_released = self.store.runs.reap(
                    conn, [node_id], now, f"lost: node {node_id} {why} with the run unfinished"
                )
                lost += more_lost
                released += more_released
            retries = self._retries(conn, lost, now)
            self.store.runs.insert_many(conn, retries, now)
            queued = False
            if self.hooks and lost:
                retried = {r.retry_of for r in retries}
                queued = self.hooks(
                    conn,
                    [
                        RunEnded(
                            run_id=r.id,
                            job_id=r.job_id,
                            status=RunStatus.LOST.value,
                            scheduled_for=r.scheduled_for,
                            attempt=r.attempt,
                            final=r.id not in retried,
                            reason=r.reason,
                            node_id=r.node_id,
                            started_at=r.started_at,
                            finished_at=now,
                            error=f"lost: node {r.node_id} is gone",
                            retry_of=r.retry_of,
                        )
                        for r in lost
                    ],
                )
        if lost or released or dead:
            log.warning(
                "reaped node(s) %s: %d run(s) lost, %d retried, %d unstarted handed back",
                ", ".join(gone),
                len(lost),
                len(retries),
                released,
            )
        if retries or released or queued:
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
                        attempt=r.attempt,
                        final=r.id not in {n.retry_of for n in retries},
                    )
                )
        return len(lost)

    def _retries(self, conn: Connection, lost: list[RunRecord], now: int) -> list[NewRun]:
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
                retries.append(
                    next_attempt(
                        job.id,
                        r.scheduled_for,
                        r.attempt,
                        r.id,
                        now,
                        delay,
                        r.params,
                        r.triggered_by,
                    )
                )
        return retries
