"""Holds claimed runs until their instant, applies the concurrency policy, records their start
durably, then starts them.

Runs are claimed a little ahead of time (the loop's lookahead), so that at the instant itself
little work remains: pop the timer heap, count the job's running instances, record the starts
of everything due at that moment in one transaction, submit. The start is written *before*
any body begins: a node that dies after it has a run that may have executed (``lost``); a node
that dies before it has only claims, which go back to the other nodes. A start the database
refuses (the run was handed back after this node was declared dead, or cancelled) is not run.

The count of instances on this node is exact; instances on other nodes come from the claim's
snapshot and are re-read from the database only when that snapshot was non-zero. A run is
started only when its executor has a free slot; until then it waits here, admitted (it
counts as an instance of its job) but not started (its node may still hand it over).
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from tickwork.clock import Clock, us_to_datetime
from tickwork.engine.celery_handoff import CeleryHandoff
from tickwork.engine.events import EVENT_JOB_SUBMITTED, JobExecutionEvent
from tickwork.engine.policies import Admission, admit
from tickwork.engine.requests import CannotRun, build_request
from tickwork.engine.writer import Ended, OutcomeWriter
from tickwork.executors.base import Executor, RunOutcome
from tickwork.models import RunStatus
from tickwork.store import Store
from tickwork.store.records import JobRecord
from tickwork.targets.prepare import Preparer, RunSettings

log = logging.getLogger("tickwork.dispatcher")


@dataclass(slots=True)
class Pending:
    """A run this node claimed and will start at ``due_at``."""

    run_id: int
    job: JobRecord
    scheduled_for: int
    due_at: int
    reason: str
    node_id: str  # the identity this node claimed it under
    attempt: int = 1
    params: Mapping[str, Any] | None = None
    triggered_by: str | None = None
    remote_active: int = 0  # instances of the job on other nodes when it was claimed


def _no_op(_run_id: int, _started_us: int) -> None:
    """Executors report the body's start; the start is already recorded."""


class Dispatcher:
    def __init__(
        self,
        store: Store,
        node_id: str,
        clock: Clock,
        executor_for: Callable[[str], Executor],
        writer: OutcomeWriter,
        preparer: Preparer | None = None,
        celery: CeleryHandoff | None = None,
    ) -> None:
        self.store = store
        # Runs of jobs with a Celery queue go there at their instant (docs/celery.md).
        self.celery = celery
        # Fills in what runs of other kinds than python need (connections, scripts).
        self.preparer = preparer or Preparer(store, RunSettings())
        self.node_id = node_id
        self.clock = clock
        self.executor_for = executor_for
        self.writer = writer
        self._heap: list[tuple[int, int, Pending]] = []
        self._seq = itertools.count()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._active: dict[str, set[int]] = defaultdict(set)  # job id -> admitted run ids
        self._running: dict[int, tuple[Pending, Executor]] = {}
        self._waiting: dict[str, deque[Pending]] = defaultdict(deque)  # for an instance to end
        # admitted, waiting for a slot of their executor (by executor name, in order)
        self._slot_wait: dict[str, deque[Pending]] = defaultdict(deque)
        self._slot_freed = False
        self._slot_tried = 0.0
        self._start_conn: Connection | None = None  # PostgreSQL/MySQL: start records
        self._thread = threading.Thread(target=self._loop, name="tickwork-dispatch", daemon=True)

    def start(self) -> None:
        self._thread.start()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def add(self, items: list[Pending]) -> None:
        if not items:
            return
        with self._lock:
            for p in items:
                heapq.heappush(self._heap, (p.due_at, next(self._seq), p))
        self._wake.set()

    def outstanding(self) -> int:
        """Claimed runs not finished yet (waiting for their time, a slot, or running)."""
        with self._lock:
            waiting = sum(map(len, self._waiting.values()))
            slots = sum(map(len, self._slot_wait.values()))
            return len(self._heap) + len(self._running) + waiting + slots

    def running_ids(self) -> list[int]:
        with self._lock:
            return list(self._running)

    def live_logs(self) -> list[tuple[int, str]]:
        """(run id, log so far) of the runs running here."""
        with self._lock:
            running = [(rid, executor) for rid, (_, executor) in self._running.items()]
        out = []
        for rid, executor in running:
            text = executor.partial_log(rid)
            if text:
                out.append((rid, text))
        return out

    def cancel(self, run_id: int, reason: str) -> bool:
        """Cancel a run of this node, whether it waits for its time or runs."""
        with self._lock:
            entry = self._running.get(run_id)
            pending = None if entry else self._take_unstarted(run_id)
        if entry is not None:
            return entry[1].cancel(run_id, reason)
        if pending is not None:
            self._end_unstarted(pending, RunStatus.CANCELLED, reason)
            return True
        return False

    def take_unstarted(self) -> list[Pending]:
        """Remove and return every claimed run that has not started (shutdown, fencing)."""
        with self._lock:
            items = [p for _, _, p in self._heap]
            self._heap.clear()
            for queue in self._waiting.values():
                items.extend(queue)
            self._waiting.clear()
            for queue in self._slot_wait.values():
                items.extend(queue)
            self._slot_wait.clear()
            for p in items:
                self._forget(p)
        return items

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(5)
        if self._start_conn is not None:  # closed even if the thread is stuck: no leak
            conn, self._start_conn = self._start_conn, None
            try:
                conn.close()
            except Exception as exc:  # the database dropped it (an outage): nothing to close
                log.debug("closing the start-record connection: %s", exc)

    # -- for the Celery hand-over (engine.celery_handoff) ---------------------------------------
    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def local_instances(self, job_id: str) -> int:
        with self._lock:
            return len(self._active.get(job_id, ()))

    def cancel_local_instances(self, job_id: str, reason: str) -> None:
        with self._lock:
            local = [self._running[r] for r in self._active[job_id] if r in self._running]
        for pending, executor in local:
            executor.cancel(pending.run_id, reason)

    def forget(self, p: Pending) -> None:
        with self._lock:
            self._forget(p)

    def end_unstarted(self, p: Pending, status: RunStatus, error: str) -> None:
        self._end_unstarted(p, status, error)

    # -- the dispatch thread ------------------------------------------------------------------
    def _loop(self) -> None:
        while not self._stop.is_set():
            now = self.clock.now_us()
            due: list[Pending] = []
            with self._lock:
                while self._heap and self._heap[0][0] <= now:
                    due.append(heapq.heappop(self._heap)[2])
                wait_s = (self._heap[0][0] - now) / 1e6 if self._heap else 1.0
                # Runs waiting for a slot: again when one frees up, and every 50 ms (a slot
                # may free up without a callback: a timed-out thread that finally returns).
                slots_wanted = any(self._slot_wait.values())
                retry_slots = slots_wanted and (
                    self._slot_freed or time.monotonic() - self._slot_tried > 0.05
                )
                self._slot_freed = False
            if self.celery is not None:
                self.celery.retry_publishing()
            if due or retry_slots:
                try:
                    self._dispatch(due)
                except Exception:
                    log.exception("could not dispatch %d runs", len(due))
                    for p in due:
                        if p.run_id not in self._running:
                            with self._lock:
                                self._forget(p)
                            self._end_unstarted(
                                p, RunStatus.FAILED, "dispatch failed (see node log)"
                            )
            else:
                if slots_wanted:  # slots free up in real time, whatever the clock says
                    self._wake.wait(0.05)
                else:
                    self.clock.wait(self._wake, min(wait_s, 1.0))
                self._wake.clear()

    def _dispatch(self, due: list[Pending]) -> None:
        """Admit what is due, record the starts of those with a free slot, start them."""
        self._slot_tried = time.monotonic()
        if self.celery is not None and due:
            remote = [p for p in due if p.job.queue is not None and self.celery.remote(p.job)]
            if remote:
                handed = {p.run_id for p in remote}
                due = [p for p in due if p.run_id not in handed]
                self.celery.dispatch(remote, self)
        admitted = [p for p in due if self._admit(p)]
        with self._lock:
            # Admitted runs queue per executor behind those already waiting for a slot.
            for p in admitted:
                self._slot_wait[p.job.executor].append(p)
            names = [name for name, queue in self._slot_wait.items() if queue]
        ready: list[tuple[Pending, Executor]] = []
        for name in names:
            executor = self.executor_for(name)
            free = executor.free_slots
            with self._lock:
                queue = self._slot_wait[name]
                while free > 0 and queue:
                    ready.append((queue.popleft(), executor))
                    free -= 1
        if not ready:
            return
        started = self._record_starts(ready)
        if self._stop.is_set() and not started:  # stopping: the shutdown hands them back
            with self._lock:
                for p, _ in reversed(ready):
                    self._slot_wait[p.job.executor].appendleft(p)
            return
        for p, executor in ready:
            if p.run_id in started:
                self._submit(p, executor)
            else:
                with self._lock:
                    self._forget(p)
                log.warning(
                    "run %d of job %r was not started: it is no longer this node's claim "
                    "(handed over or cancelled)",
                    p.run_id,
                    p.job.id,
                )

    def _admit(self, p: Pending) -> bool:
        """Apply the concurrency policy; True if ``p`` may start (it then counts as an
        instance of its job)."""
        job = p.job
        with self._lock:
            local = len(self._active[job.id])
        remote = p.remote_active
        if remote:
            with self.store.db.read() as conn:
                counts = self.store.runs.active_counts(conn, [job.id], exclude_node=p.node_id)
            remote = counts.get(job.id, 0)
        decision = admit(
            job.concurrency_policy, job.max_instances, local + remote, p.reason, job.misfire_policy
        )
        if decision is Admission.SKIP:
            limit = 1 if job.concurrency_policy == "forbid" else job.max_instances
            self._end_unstarted(
                p,
                RunStatus.SKIPPED,
                f"skipped: {local + remote} instance(s) already running "
                f"(concurrency={job.concurrency_policy}, max_instances={limit})",
            )
            return False
        if decision is Admission.WAIT:
            with self._lock:
                self._waiting[job.id].append(p)
            return False
        if decision is Admission.REPLACE:
            self._replace_running(job.id, p.run_id)
        with self._lock:
            self._active[job.id].add(p.run_id)
        return True

    def _record_starts(self, ready: list[tuple[Pending, Executor]]) -> set[int]:
        """The durable start of a batch of runs, retried until the database answers (no run
        starts unrecorded); returns the runs whose start was recorded."""
        by_node: dict[str, list[tuple[int, int]]] = defaultdict(list)
        now = self.clock.now_us()
        for p, _ in ready:
            by_node[p.node_id].append((p.run_id, now))
        delay = 0.05
        while True:
            try:
                started: set[int] = set()
                # One statement per identity (nearly always one).
                for node_id, items in by_node.items():
                    started |= self._start_statement(node_id, items)
                return started
            except Exception as exc:
                if self._stop.is_set():
                    return set()
                log.warning("could not record run starts, retrying in %.2f s: %s", delay, exc)
                self._stop.wait(delay)
                delay = min(delay * 2, 2.0)

    def _start_statement(self, node_id: str, items: list[tuple[int, int]]) -> set[int]:
        """On SQLite: the urgent write turn. On PostgreSQL/MySQL: one autocommitted UPDATE on a
        connection kept for this purpose (no pool checkout, no ping, one round trip)."""
        db = self.store.db
        if db.is_sqlite:
            with db.write(urgent=True) as conn:
                return self.store.runs.start(conn, node_id, items)
        if self._start_conn is None:
            self._start_conn = db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            return self.store.runs.start(self._start_conn, node_id, items)
        except Exception:
            conn, self._start_conn = self._start_conn, None
            try:
                conn.invalidate()
                conn.close()
            except Exception:  # the connection is gone with the database
                pass
            raise

    def _replace_running(self, job_id: str, new_run_id: int) -> None:
        with self._lock:
            local = [self._running[r] for r in self._active[job_id] if r in self._running]
        for pending, executor in local:
            executor.cancel(pending.run_id, f"cancelled: replaced by run {new_run_id}")
        with self.store.db.write() as conn:
            for rid in self.store.runs.active_ids_of_job(conn, job_id, exclude_node=self.node_id):
                self.store.runs.request_cancel(
                    conn, rid, self.clock.now_us(), f"cancelled: replaced by run {new_run_id}"
                )

    def _submit(self, p: Pending, executor: Executor) -> None:
        job = p.job
        try:
            request = build_request(
                p.run_id, job, p.scheduled_for, p.attempt, p.params, self.preparer
            )
        except CannotRun as exc:
            with self._lock:
                self._forget(p)
            self._end_unstarted(p, RunStatus.FAILED, str(exc))
            return
        with self._lock:
            self._running[p.run_id] = (p, executor)

        def done(outcome: RunOutcome) -> None:
            self._finished(p, outcome)

        try:
            executor.submit(request, _no_op, done)
        except Exception as exc:  # e.g. the executor is shutting down
            with self._lock:
                self._running.pop(p.run_id, None)
                self._forget(p)
            self._end_unstarted(p, RunStatus.CANCELLED, f"cancelled: not submitted ({exc})")
            return
        bus = self.writer.bus
        if bus.wants(EVENT_JOB_SUBMITTED):
            bus.publish(
                JobExecutionEvent(
                    code=EVENT_JOB_SUBMITTED,
                    job_id=job.id,
                    run_id=p.run_id,
                    scheduled_run_time=us_to_datetime(p.scheduled_for),
                    status="submitted",
                    attempt=p.attempt,
                )
            )

    def _finished(self, p: Pending, outcome: RunOutcome) -> None:
        self.writer.ended(self._ended(p, outcome))
        with self._lock:
            self._running.pop(p.run_id, None)
            self._forget(p)
            queue = self._waiting.get(p.job.id)
            nxt = queue.popleft() if queue else None
            if queue is not None and not queue:
                del self._waiting[p.job.id]
            if nxt is not None:
                heapq.heappush(self._heap, (0, next(self._seq), nxt))
            slot_freed = any(self._slot_wait.values())
        if nxt is not None or slot_freed:
            self._wake_for_slot()

    def _wake_for_slot(self) -> None:
        """A slot freed up: the runs waiting for one get another pass."""
        with self._lock:
            self._slot_freed = True
        self._wake.set()

    def _forget(self, p: Pending) -> None:
        """Drop ``p`` from its job's admitted instances (caller holds the lock)."""
        active = self._active.get(p.job.id)
        if active is not None:
            active.discard(p.run_id)
            if not active:
                del self._active[p.job.id]

    def _take_unstarted(self, run_id: int) -> Pending | None:
        for i, (_, _, p) in enumerate(self._heap):
            if p.run_id == run_id:
                self._heap.pop(i)
                heapq.heapify(self._heap)
                return p
        for queue in (*self._waiting.values(), *self._slot_wait.values()):
            for p in queue:
                if p.run_id == run_id:
                    queue.remove(p)
                    self._forget(p)
                    return p
        return None

    def _ended(self, p: Pending, outcome: RunOutcome) -> Ended:
        return Ended(
            outcome, p.job, p.scheduled_for, p.attempt, p.node_id, p.params, p.triggered_by
        )

    def _end_unstarted(self, p: Pending, status: RunStatus, error: str) -> None:
        outcome = RunOutcome(
            run_id=p.run_id,
            status=status,
            started_us=None,
            finished_us=self.clock.now_us(),
            error=error,
        )
        self.writer.ended(self._ended(p, outcome))
