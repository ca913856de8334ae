"""Runs of jobs with a Celery queue: at their instant the dispatcher hands them here instead of
to an executor of the node.

For a batch due at one moment: apply the concurrency policy (instances on Celery count,
whether waiting in the broker or running on a worker), record the hand-over in one statement
(the run stays ``scheduled``; ``queue`` and ``published_at`` say it went to Celery), then
publish one message per run whose task id is the run id. The hand-over is durable before
the message exists, so a worker never receives a run the database does not know went to
Celery; a publish that fails is tried again every second (the same task id: the worker's
guarded start runs it once however many copies arrive). If this node dies in between, the
reaper hands its still-``scheduled`` runs back to the queue and another node publishes them.

A message can also vanish after it was published: on Redis a worker takes a message (BRPOP)
and only then records it as unacknowledged, so a worker killed in between loses it. Every
scheduler node's watchman pass looks for handed-over runs that waited ``resend_after_s``
while a worker of their queue had a free slot, and publishes them again (at most once per
``resend_after_s`` each; a copy of a message that was not lost is dropped by the guarded
start).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from typing import TYPE_CHECKING

from tickwork.clock import us_to_datetime
from tickwork.engine.events import EVENT_JOB_SUBMITTED, JobExecutionEvent
from tickwork.engine.policies import Admission, admit
from tickwork.executors.celery_app import BROKER_ENV, Publisher
from tickwork.models import RunStatus
from tickwork.store import Store
from tickwork.store.celery_repo import CeleryRepo
from tickwork.store.records import JobRecord

if TYPE_CHECKING:
    from tickwork.engine.dispatcher import Dispatcher, Pending

log = logging.getLogger("tickwork.celery")
RETRY_PUBLISH_S = 1.0


class CeleryHandoff:
    def __init__(
        self,
        store: Store,
        publisher: Publisher | None,
        local_queues: frozenset[str],
        *,
        resend_after_s: float = 60.0,
    ) -> None:
        self.store = store
        self.repo = CeleryRepo(store.db)
        self.publisher = publisher
        self.local_queues = local_queues
        self._unpublished: list[tuple[int, str]] = []
        self._lock = threading.Lock()
        self._retry_at = 0.0
        self.resend_after_us = round(resend_after_s * 1e6)
        self.resent = 0  # runs published again since start (tests, logs)

    def remote(self, job: JobRecord) -> bool:
        """Whether ``job``'s runs go to Celery (a queue that is not one of this node's)."""
        return job.queue is not None and job.queue not in self.local_queues

    def dispatch(self, due: list[Pending], d: Dispatcher) -> None:
        """Admit, record the hand-over of, and publish these due runs of Celery jobs."""
        if self.publisher is None:
            for p in due:
                d.end_unstarted(
                    p,
                    RunStatus.FAILED,
                    f"queue {p.job.queue!r}: this scheduler node has no Celery broker (set "
                    f"{BROKER_ENV}) and does not run that queue itself (TICKWORK_LOCAL_QUEUES)",
                )
            return
        admitted = self._admit(due, d)
        if not admitted:
            return
        handed = self._record(admitted, d)
        items = [(p.run_id, str(p.job.queue)) for p in admitted if p.run_id in handed]
        for p in admitted:
            if p.run_id not in handed:
                log.warning(
                    "run %d of job %r was not handed to Celery: it is no longer this node's "
                    "claim (handed over or cancelled)",
                    p.run_id,
                    p.job.id,
                )
        self._publish(items)
        bus = d.writer.bus
        if bus.wants(EVENT_JOB_SUBMITTED):
            for p in admitted:
                if p.run_id in handed:
                    bus.publish(
                        JobExecutionEvent(
                            code=EVENT_JOB_SUBMITTED,
                            job_id=p.job.id,
                            run_id=p.run_id,
                            scheduled_run_time=us_to_datetime(p.scheduled_for),
                            status="submitted",
                            attempt=p.attempt,
                        )
                    )

    def retry_publishing(self) -> None:
        """Publish again what the broker refused before (called from the dispatch loop)."""
        with self._lock:
            if not self._unpublished or time.monotonic() < self._retry_at:
                return
            items, self._unpublished = self._unpublished, []
        self._publish(items)

    def resend_stranded(self, now: int) -> int:
        """Publish again the handed-over runs whose message was lost (see the module's
        docstring); returns how many. Called on the watchman's passes."""
        if self.publisher is None:
            return 0
        with self.store.db.write() as conn:
            items = self.repo.stranded(conn, now - self.resend_after_us, now)
        if items:
            log.warning(
                "publishing %d run(s) again: handed to Celery over %.0f s ago and not started "
                "while a worker of their queue had a free slot (a lost message): %s",
                len(items),
                self.resend_after_us / 1e6,
                ", ".join(str(rid) for rid, _ in items[:20]),
            )
            self.resent += len(items)
            self._publish(items)
        return len(items)

    def _admit(self, due: list[Pending], d: Dispatcher) -> list[Pending]:
        with self.store.db.read() as conn:
            counts = self.repo.in_flight(
                conn, {p.job.id for p in due}, exclude=[p.run_id for p in due]
            )
        batch: dict[str, int] = defaultdict(int)
        out: list[Pending] = []
        for p in due:
            job = p.job
            active = counts.get(job.id, 0) + batch[job.id] + d.local_instances(job.id)
            decision = admit(
                job.concurrency_policy, job.max_instances, active, p.reason, job.misfire_policy
            )
            if decision is Admission.SKIP:
                limit = 1 if job.concurrency_policy == "forbid" else job.max_instances
                d.end_unstarted(
                    p,
                    RunStatus.SKIPPED,
                    f"skipped: {active} instance(s) already running "
                    f"(concurrency={job.concurrency_policy}, max_instances={limit})",
                )
                continue
            if decision is Admission.WAIT:  # a catch-up behind a running instance: look again
                p.due_at = d.clock.now_us() + 1_000_000
                d.add([p])
                continue
            if decision is Admission.REPLACE:
                self._replace(job.id, p.run_id, d)
            batch[job.id] += 1
            out.append(p)
        return out

    def _replace(self, job_id: str, new_run_id: int, d: Dispatcher) -> None:
        """``replace``: cancel the job's other instances, here, on workers and in the broker."""
        reason = f"cancelled: replaced by run {new_run_id}"
        d.cancel_local_instances(job_id, reason)
        now = d.clock.now_us()
        with self.store.db.write() as conn:
            others = [r for r in self.store.runs.active_ids_of_job(conn, job_id) if r != new_run_id]
            for rid in others:
                self.store.runs.request_cancel(conn, rid, now, reason)
        for rid in others:
            self._revoke(rid)

    def _revoke(self, run_id: int) -> None:
        assert self.publisher is not None
        try:
            self.publisher.revoke(run_id)
        except Exception as exc:  # the worker still sees the cancel flag in the database
            log.warning("could not revoke run %d through Celery: %s", run_id, exc)

    def _record(self, admitted: list[Pending], d: Dispatcher) -> set[int]:
        """The durable hand-over, retried until the database answers (nothing is published
        unrecorded)."""
        groups: dict[tuple[str, str], list[int]] = defaultdict(list)
        for p in admitted:
            groups[(p.node_id, str(p.job.queue))].append(p.run_id)
        delay = 0.05
        while True:
            try:
                now = d.clock.now_us()
                handed: set[int] = set()
                with self.store.db.write(urgent=True) as conn:
                    for (node_id, queue), ids in groups.items():
                        handed |= self.repo.hand_over(conn, node_id, queue, ids, now)
                break
            except Exception as exc:
                if d.stopping:
                    handed = set()
                    break
                log.warning("could not record hand-overs to Celery, retrying: %s", exc)
                time.sleep(delay)
                delay = min(delay * 2, 2.0)
        for p in admitted:
            d.forget(p)  # from here on its instances are counted in the database
        return handed

    def _publish(self, items: list[tuple[int, str]]) -> None:
        assert self.publisher is not None
        try:
            self.publisher.publish(items)
        except Exception as exc:
            log.warning(
                "could not publish %d run(s) to Celery, trying again in %.0f s: %s",
                len(items),
                RETRY_PUBLISH_S,
                exc,
            )
            with self._lock:
                self._unpublished.extend(items)
                self._retry_at = time.monotonic() + RETRY_PUBLISH_S

    def pending_publish(self) -> int:
        with self._lock:
            return len(self._unpublished)

    def close(self) -> None:
        if self.publisher is not None:
            self.publisher.close()
