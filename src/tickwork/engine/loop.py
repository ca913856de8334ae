"""The scheduling loop: claim what is due soon, hand it to the dispatcher, sleep until the
next due instant or a change, and poll at a bounded interval for other nodes' changes."""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Callable

from sqlalchemy import Connection

from tickwork.clock import Clock, us_to_datetime
from tickwork.engine.dispatcher import Dispatcher, Pending
from tickwork.engine.events import EVENT_JOB_MISSED, EventBus, JobExecutionEvent
from tickwork.engine.hooks import RunEnded, RunHooks
from tickwork.engine.planning import plan_fires, plan_handover
from tickwork.engine.trigger_cache import trigger_of
from tickwork.engine.writer import Ended
from tickwork.executors.base import RunOutcome
from tickwork.models import RunStatus
from tickwork.store import Store
from tickwork.store.claims import ClaimedRun, Due, Plan, RecordCache, claim_due_jobs
from tickwork.store.nodes import Fenced
from tickwork.store.records import JobRecord, RunRecord
from tickwork.store.runs import NewRun
from tickwork.store.settings_repo import SCHEDULER_PAUSED

log = logging.getLogger("tickwork.loop")


class SchedulerLoop:
    def __init__(
        self,
        store: Store,
        node_id: str,
        clock: Clock,
        dispatcher: Dispatcher,
        bus: EventBus,
        *,
        lookahead_s: float = 1.0,
        poll_s: float = 1.0,
        batch: int = 500,
        max_outstanding: int = 20_000,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> None:
        self.store = store
        self.node_id = node_id
        self.clock = clock
        self.dispatcher = dispatcher
        self.bus = bus
        self.lookahead_us = round(lookahead_s * 1e6)
        self.poll_s = poll_s
        self.batch = batch
        self.max_outstanding = max_outstanding
        self._records = RecordCache()  # recently claimed jobs: recurring claims read less
        self.on_error = on_error
        self.on_fenced: Callable[[], None] | None = None
        self.hooks = RunHooks()  # called in the claim's transaction for missed fires
        self.paused = False
        self.ticks = 0  # loop iterations, for tests and the readiness probe
        self.last_tick_us = 0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tickwork-loop", daemon=True)
        # Claims check that this node is still live, in their own transaction (a node declared
        # dead must not claim under that identity). SQLite runs one node: nothing to check.
        self._check_live: Callable[[Connection], None] | None = (
            None if store.db.is_sqlite else lambda conn: store.nodes.assert_live(conn, self.node_id)
        )

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        """Something changed (a job added, a run queued): look again now."""
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(30)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        backoff = 0.1
        while not self._stop.is_set():
            try:
                wait_s = self.tick()
                backoff = 0.1
            except Fenced:
                log.error("node %s is fenced: it takes a new identity", self.node_id)
                if self.on_fenced is not None:
                    self.on_fenced()
                wait_s = self.poll_s
            except Exception as exc:
                # One error never kills the loop (the database may be restarting).
                log.warning("scheduling loop error, retrying in %.1f s: %s", backoff, exc)
                if self.on_error is not None:
                    self.on_error(exc)
                wait_s, backoff = backoff, min(backoff * 2, 5.0)
            if wait_s > 0 and not self._stop.is_set():
                self.clock.wait(self._wake, wait_s)
                self._wake.clear()

    def tick(self) -> float:
        """One pass; returns how long to sleep before the next one."""
        now = self.clock.now_us()
        self.ticks += 1
        self.last_tick_us = now
        store = self.store
        with store.db.read() as conn:
            self.paused = bool(store.settings.get(conn, SCHEDULER_PAUSED, False))
            running = self.dispatcher.running_ids()
            cancels = store.runs.cancel_requests(conn, self.node_id) if running else []
        for run_id, reason in cancels:
            self.dispatcher.cancel(run_id, reason)
        if self.paused:
            return self.poll_s

        horizon = now + self.lookahead_us
        full = False
        if self.dispatcher.outstanding() < self.max_outstanding:
            claimed_jobs, claimed = claim_due_jobs(
                store.db,
                store.runs,
                now=now,
                horizon=horizon,
                limit=self.batch,
                plan=lambda jobs: self._plan(jobs, now, horizon),
                cache=self._records,
                check=self._check_live,
                recorded=self._recorded if self.hooks else None,
            )
            self._hand_over(claimed)
            full = claimed_jobs == self.batch
            with store.db.read() as conn:
                next_job = store.jobs.next_due_at(conn)
                next_queued = store.runs.next_queued_due(conn)
            if next_queued is not None and next_queued <= horizon:
                full = self._claim_queued(now, horizon) or full
                with store.db.read() as conn:
                    next_queued = store.runs.next_queued_due(conn)
        else:
            return min(self.poll_s, 0.05)  # the dispatcher is saturated: check back soon
        if full:
            return 0.0
        candidates = [t for t in (next_job, next_queued) if t is not None]
        if not candidates:
            return self.poll_s
        # Wake when the earliest unclaimed fire is half a lookahead away, so claims batch up.
        wake_at = min(candidates) - self.lookahead_us // 2
        return max(0.0, min(self.poll_s, (wake_at - self.clock.now_us()) / 1e6))

    def _recorded(self, conn: Connection, claimed: list[ClaimedRun]) -> None:
        missed = [c for c in claimed if c.new.status == RunStatus.MISSED]
        if missed:
            self.hooks(
                conn,
                [
                    RunEnded(
                        run_id=c.run_id,
                        job_id=c.job.id,
                        status=RunStatus.MISSED.value,
                        scheduled_for=c.new.scheduled_for,
                        attempt=1,
                        final=True,
                        reason=c.new.reason,
                        finished_at=c.new.finished_at,
                        error=c.new.error,
                        fires=c.new.fires,
                    )
                    for c in missed
                ],
            )

    def _plan(self, due: list[Due], now: int, horizon: int) -> Plan:
        runs: list[NewRun] = []
        next_fire: dict[str, int | None] = {}
        for job, _, first in due:
            try:
                trigger = trigger_of(job.trigger)
            except Exception:
                log.exception("job %r has a trigger that no longer parses; parking it", job.id)
                next_fire[job.id] = None
                continue
            planned = plan_fires(
                job, trigger, now=now, horizon=horizon, node_id=self.node_id, first=first
            )
            runs.extend(planned.runs)
            next_fire[job.id] = planned.next_fire_at
            if planned.missed:
                log.warning(
                    "job %r missed %d fire(s) while no node ran it (recorded in one run record)",
                    job.id,
                    planned.missed,
                )
        return Plan(runs, next_fire)

    def _hand_over(self, claimed: list[ClaimedRun]) -> None:
        if not claimed:
            return
        remote: dict[str, int] = {}
        if not self.store.db.is_sqlite:  # SQLite runs a single scheduler node
            with self.store.db.read() as conn:
                remote = self.store.runs.active_counts(
                    conn, {c.job.id for c in claimed}, exclude_node=self.node_id
                )
        pending: list[Pending] = []
        for c in claimed:
            if c.new.status == RunStatus.SCHEDULED:
                pending.append(
                    Pending(
                        run_id=c.run_id,
                        job=c.job,
                        scheduled_for=c.new.scheduled_for,
                        due_at=c.new.due_at,
                        reason=c.new.reason,
                        node_id=self.node_id,
                        attempt=c.new.attempt,
                        remote_active=remote.get(c.job.id, 0),
                    )
                )
            elif c.new.status == RunStatus.MISSED and self.bus.wants(EVENT_JOB_MISSED):
                self.bus.publish(
                    JobExecutionEvent(
                        code=EVENT_JOB_MISSED,
                        job_id=c.job.id,
                        run_id=c.run_id,
                        scheduled_run_time=us_to_datetime(c.new.scheduled_for),
                        status=c.new.status,
                        error=c.new.error,
                        fires=c.new.fires,
                    )
                )
        self.dispatcher.add(pending)

    def _claim_queued(self, now: int, horizon: int) -> bool:
        """Claim queued runs (manual runs, retries, and fires handed back by a dead node);
        late handed-back fires follow their job's misfire policy."""
        store = self.store
        node_id = self.node_id
        with store.db.write() as conn:
            if self._check_live is not None:
                self._check_live(conn)
            queued = store.runs.claim_queued(conn, node_id, horizon, self.batch)
            jobs = {
                j.id: j
                for j in (store.jobs.get(conn, jid) for jid in {r.job_id for r in queued})
                if j
            }
            remote = (
                store.runs.active_counts(conn, jobs, exclude_node=node_id)
                if jobs and not store.db.is_sqlite
                else {}
            )
        by_job: dict[str, list[RunRecord]] = defaultdict(list)
        for r in queued:
            by_job[r.job_id].append(r)
        pending: list[Pending] = []
        for job_id, runs in by_job.items():
            job = jobs.get(job_id)
            if job is None:
                for r in runs:
                    gone = "cancelled: the job was removed"
                    self._end(r, _removed_job(job_id), node_id, RunStatus.CANCELLED, now, gone)
                continue
            fate = plan_handover(job, [(r.id, r.due_at, r.reason) for r in runs], now)
            to_run = set(fate.run)
            for run_id, why in fate.missed:
                r = next(r for r in runs if r.id == run_id)
                self._end(r, job, node_id, RunStatus.MISSED, now, why)
            pending.extend(
                Pending(
                    run_id=r.id,
                    job=job,
                    scheduled_for=r.scheduled_for,
                    due_at=r.due_at,
                    reason=r.reason,
                    node_id=node_id,
                    attempt=r.attempt,
                    params=r.params,
                    triggered_by=r.triggered_by,
                    remote_active=remote.get(job.id, 0),
                )
                for r in runs
                if r.id in to_run
            )
        self.dispatcher.add(pending)
        return len(queued) == self.batch

    def _end(
        self, r: RunRecord, job: JobRecord, node_id: str, status: RunStatus, now: int, why: str
    ) -> None:
        outcome = RunOutcome(
            run_id=r.id, status=status, started_us=None, finished_us=now, error=why
        )
        self.dispatcher.writer.ended(
            Ended(outcome, job, r.scheduled_for, r.attempt, node_id, r.params, r.triggered_by)
        )


def _removed_job(job_id: str) -> JobRecord:
    return JobRecord(
        id=job_id,
        name=job_id,
        target_kind="python",
        target={},
        trigger_kind="",
        trigger={},
        timezone="UTC",
    )
