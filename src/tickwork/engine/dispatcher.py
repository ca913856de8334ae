"""Holds claimed runs until their instant, applies the concurrency policy, starts them.

Runs are claimed a little ahead of time (the loop's lookahead), so that at the instant itself
only in-memory work remains: pop the timer heap, count the job's running instances, submit.
The count of instances on this node is exact; instances on other nodes come from the claim's
snapshot and are re-read from the database only when that snapshot was non-zero.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
from collections import defaultdict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tickwork.clock import Clock, us_to_datetime
from tickwork.connections.job_secrets import VaultError, open_kwargs
from tickwork.engine.events import EVENT_JOB_SUBMITTED, JobExecutionEvent
from tickwork.engine.policies import Admission, admit
from tickwork.engine.writer import Ended, OutcomeWriter
from tickwork.executors.base import Executor, RunOutcome, RunRequest
from tickwork.models import RunStatus
from tickwork.store import Store
from tickwork.store.records import JobRecord

log = logging.getLogger("tickwork.dispatcher")


@dataclass(slots=True)
class Pending:
    """A run this node claimed and will start at ``due_at``."""

    run_id: int
    job: JobRecord
    scheduled_for: int
    due_at: int
    reason: str
    attempt: int = 1
    params: Mapping[str, Any] | None = None
    remote_active: int = 0  # instances of the job on other nodes when it was claimed


class Dispatcher:
    def __init__(
        self,
        store: Store,
        node_id: str,
        clock: Clock,
        executor_for: Callable[[str], Executor],
        writer: OutcomeWriter,
    ) -> None:
        self.store = store
        self.node_id = node_id
        self.clock = clock
        self.executor_for = executor_for
        self.writer = writer
        self._heap: list[tuple[int, int, Pending]] = []
        self._seq = itertools.count()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._active: dict[str, set[int]] = defaultdict(set)  # job id -> running run ids
        self._running: dict[int, tuple[Pending, Executor]] = {}
        self._waiting: dict[str, deque[Pending]] = defaultdict(deque)
        self._thread = threading.Thread(target=self._loop, name="tickwork-dispatch", daemon=True)

    def start(self) -> None:
        self._thread.start()

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
            return len(self._heap) + len(self._running) + sum(map(len, self._waiting.values()))

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
        return items

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(5)

    # -- the dispatch thread ------------------------------------------------------------------
    def _loop(self) -> None:
        while not self._stop.is_set():
            now = self.clock.now_us()
            due: list[Pending] = []
            with self._lock:
                while self._heap and self._heap[0][0] <= now:
                    due.append(heapq.heappop(self._heap)[2])
                wait_s = (self._heap[0][0] - now) / 1e6 if self._heap else 1.0
            for p in due:
                try:
                    self._dispatch(p, now)
                except Exception:
                    log.exception("could not dispatch run %d of job %r", p.run_id, p.job.id)
                    self._end_unstarted(p, RunStatus.FAILED, "dispatch failed (see node log)")
            if not due:
                self.clock.wait(self._wake, min(wait_s, 1.0))
                self._wake.clear()

    def _dispatch(self, p: Pending, now: int) -> None:
        job = p.job
        with self._lock:
            local = len(self._active[job.id])
        remote = p.remote_active
        if remote:
            with self.store.db.read() as conn:
                counts = self.store.runs.active_counts(conn, [job.id], exclude_node=self.node_id)
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
            return
        if decision is Admission.WAIT:
            with self._lock:
                self._waiting[job.id].append(p)
            return
        if decision is Admission.REPLACE:
            self._replace_running(job.id, p.run_id)
        self._submit(p)

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

    def _submit(self, p: Pending) -> None:
        job = p.job
        target = job.target
        args = target.get("args") or []
        kwargs = target.get("kwargs") or {}
        if p.params:
            args = p.params.get("args", args)
            kwargs = {**kwargs, **(p.params.get("kwargs") or {})}
        secrets: tuple[str, ...] = ()
        if job.secret_keys:  # sealed at rest; opened here, for this run only
            try:
                kwargs, secrets = open_kwargs(job.id, job.secret_keys, kwargs)
            except VaultError as exc:
                self._end_unstarted(p, RunStatus.FAILED, f"secrets: {exc}")
                return
        request = RunRequest(
            run_id=p.run_id,
            job_id=job.id,
            target=target["ref"],
            args=args,
            kwargs=kwargs,
            scheduled_for_us=p.scheduled_for,
            attempt=p.attempt,
            timeout_s=job.timeout_s,
            secrets=secrets,
        )
        executor = self.executor_for(job.executor)
        with self._lock:
            self._active[job.id].add(p.run_id)
            self._running[p.run_id] = (p, executor)

        def done(outcome: RunOutcome) -> None:
            self._finished(p, outcome)

        executor.submit(request, self.writer.started, done)
        bus = self.writer.bus
        if bus.wants(EVENT_JOB_SUBMITTED):
            bus.publish(
                JobExecutionEvent(
                    code=EVENT_JOB_SUBMITTED,
                    job_id=job.id,
                    run_id=p.run_id,
                    scheduled_run_time=us_to_datetime(p.scheduled_for),
                    status="submitted",
                )
            )

    def _finished(self, p: Pending, outcome: RunOutcome) -> None:
        self.writer.ended(Ended(outcome, p.job, p.scheduled_for, p.attempt))
        with self._lock:
            self._running.pop(p.run_id, None)
            active = self._active[p.job.id]
            active.discard(p.run_id)
            if not active:
                del self._active[p.job.id]
            queue = self._waiting.get(p.job.id)
            nxt = queue.popleft() if queue else None
            if queue is not None and not queue:
                del self._waiting[p.job.id]
            if nxt is not None:
                heapq.heappush(self._heap, (0, next(self._seq), nxt))
        if nxt is not None:
            self._wake.set()

    def _take_unstarted(self, run_id: int) -> Pending | None:
        for i, (_, _, p) in enumerate(self._heap):
            if p.run_id == run_id:
                self._heap.pop(i)
                heapq.heapify(self._heap)
                return p
        for queue in self._waiting.values():
            for p in queue:
                if p.run_id == run_id:
                    queue.remove(p)
                    return p
        return None

    def _end_unstarted(self, p: Pending, status: RunStatus, error: str) -> None:
        outcome = RunOutcome(
            run_id=p.run_id,
            status=status,
            started_us=None,
            finished_us=self.clock.now_us(),
            error=error,
        )
        self.writer.ended(Ended(outcome, p.job, p.scheduled_for, p.attempt))
