"""Write-behind of run outcomes, batched, retried until the database takes them.

Outcomes of many runs go in one transaction. A failed flush keeps its batch and tries again
with backoff, so an outcome is never dropped while the process lives (a crash is the reaper's
business). Retries of failed runs are recorded in the same transaction as the failure.

Starts are not written here: the dispatcher records them itself, before the runs' bodies
begin (a start must be durable first, see docs/engine.md).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from tickwork.clock import Clock, us_to_datetime
from tickwork.engine.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_SKIPPED,
    EventBus,
    JobExecutionEvent,
)
from tickwork.engine.hooks import RunEnded, RunHooks
from tickwork.engine.policies import retry_delay_s, should_retry
from tickwork.executors.base import RunOutcome
from tickwork.models import RunReason, RunStatus
from tickwork.store import Store
from tickwork.store.records import JobRecord
from tickwork.store.runs import NewRun

log = logging.getLogger("tickwork.writer")
T = TypeVar("T")

_EVENT_OF_STATUS = {
    RunStatus.SUCCEEDED: EVENT_JOB_EXECUTED,
    RunStatus.FAILED: EVENT_JOB_ERROR,
    RunStatus.TIMED_OUT: EVENT_JOB_ERROR,
    RunStatus.CANCELLED: EVENT_JOB_ERROR,
    RunStatus.SKIPPED: EVENT_JOB_SKIPPED,
}


@dataclass(slots=True)
class Ended:
    """A run of this node that ended, waiting to be written."""

    outcome: RunOutcome
    job: JobRecord
    scheduled_for: int
    attempt: int
    node_id: str  # the node that claimed the run (a fenced node's old identity stays)
    params: Mapping[str, Any] | None = None  # a manual run's parameters go to its retries
    triggered_by: str | None = None


class OutcomeWriter:
    def __init__(
        self,
        store: Store,
        node_id: str,
        clock: Clock,
        bus: EventBus,
        *,
        on_retry_recorded: Callable[[], None] = lambda: None,
        batch: int = 1000,
        live_log_s: float = 1.0,
        gather_s: float = 0.05,
    ) -> None:
        self.store = store
        self.node_id = node_id
        self.clock = clock
        self.bus = bus
        self.on_retry_recorded = on_retry_recorded
        self.batch = batch
        # After a write, wait this long for more outcomes unless a full batch is waiting:
        # at 1,000 runs/s that is a transaction per ~50 runs instead of one per run or two.
        self.gather_s = gather_s
        # Identities this node had before it was fenced: their runs may have been reaped as
        # lost meanwhile, so their outcomes take the careful path.
        self.fenced_ids: set[str] = set()
        self.hooks = RunHooks()  # called in the transaction that records the outcomes
        self._hurry = threading.Event()  # flush() and close() skip the gathering
        self._ended: deque[Ended] = deque()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._idle = threading.Condition()
        self._in_flight = 0
        self._rnd = random.Random()
        # Logs of running runs, stored about once a second so faces can follow them live.
        self.live_logs: Callable[[], list[tuple[int, str]]] = list
        self.live_log_s = live_log_s
        self._live_sent: dict[int, str] = {}
        self._live_due = 0.0
        self._thread = threading.Thread(target=self._loop, name="tickwork-writer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    # Called from executor threads: cheap, never blocks on the database.
    # Setting an Event takes its lock and notifies; a set one needs nothing. The loop clears
    # the event before it drains, so an item appended while it is set is always drained.
    def ended(self, item: Ended) -> None:
        self._ended.append(item)
        if not self._wake.is_set():
            self._wake.set()

    def pending(self) -> int:
        return len(self._ended) + self._in_flight

    def flush(self, timeout_s: float = 30.0) -> bool:
        """Wait until everything handed over so far is written (tests, shutdown)."""
        self._hurry.set()
        self._wake.set()
        with self._idle:
            return self._idle.wait_for(lambda: self.pending() == 0, timeout_s)

    def close(self, timeout_s: float = 30.0) -> None:
        self.flush(timeout_s)
        self._stop.set()
        self._hurry.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout_s)

    def _loop(self) -> None:
        delay = 0.05
        while True:
            self._wake.wait(self.live_log_s)
            self._wake.clear()
            self._write_live_logs()
            if self._stop.is_set() and not self._ended:
                return
            while self._ended:
                ended = _drain(self._ended, self.batch)
                self._in_flight = len(ended)
                try:
                    self._write(ended)
                    delay = 0.05
                except Exception:
                    log.exception("could not write %d run outcomes; retrying", len(ended))
                    self._ended.extendleft(reversed(ended))
                    self._in_flight = 0
                    self._stop.wait(delay)  # back off, but wake for shutdown
                    delay = min(delay * 2, 5.0)
                    if self._stop.is_set() and delay >= 5.0:
                        log.error("giving up on %d run outcomes at shutdown", len(ended))
                        return
                    continue
                self._in_flight = 0
                if len(self._ended) < self.batch:
                    with self._idle:
                        if self.pending() == 0:
                            self._idle.notify_all()
                    # Gather more before the next transaction (flush() cuts this short).
                    if self._hurry.wait(self.gather_s):
                        self._hurry.clear()
            with self._idle:
                self._idle.notify_all()

    def _write_live_logs(self) -> None:
        now = time.monotonic()
        if now < self._live_due:
            return
        self._live_due = now + self.live_log_s
        try:
            current = dict(self.live_logs())
            changed = [
                (rid, text) for rid, text in current.items() if self._live_sent.get(rid) != text
            ]
            if changed:
                with self.store.db.write() as conn:
                    self.store.runs.write_live_logs(conn, self.node_id, changed)
            self._live_sent = current
        except Exception as exc:  # a live log is a convenience; the final log is what counts
            log.warning("could not store live logs: %s", exc)

    def _write(self, ended: list[Ended]) -> None:
        now = self.clock.now_us()
        retries: list[NewRun] = []
        runs = self.store.runs
        with self.store.db.write() as conn:
            # Runs of an identity this node had before it was fenced may have been reaped as
            # lost (and their retries queued): their outcomes land, but start no new retry.
            careful = [e.outcome.run_id for e in ended if e.node_id in self.fenced_ids]
            were_lost = runs.lost_of(conn, careful) if careful else set()
            written = runs.finish(conn, [_row(e) for e in ended])
            for e in ended:
                o = e.outcome
                if o.run_id not in written or o.run_id in were_lost:
                    continue
                if should_retry(o.status, e.attempt, e.job.retries):
                    delay = retry_delay_s(
                        e.attempt, e.job.retry_backoff_s, e.job.retry_backoff_max_s, self._rnd
                    )
                    retries.append(retry_of(e, o.run_id, now, delay))
            if retries:
                runs.insert_many(conn, retries, now)
            late_successes = [
                e.outcome.run_id
                for e in ended
                if e.outcome.run_id in were_lost
                and e.outcome.run_id in written
                and e.outcome.status == RunStatus.SUCCEEDED
            ]
            if late_successes:
                runs.cancel_queued_retries(
                    conn,
                    late_successes,
                    now,
                    "cancelled: the attempt it retries succeeded after all "
                    "(its node had been declared dead but lived on)",
                )
            queued = False
            if self.hooks:
                retried_ids = {r.retry_of for r in retries}
                queued = self.hooks(
                    conn,
                    [
                        ended_record(e, final=e.outcome.run_id not in retried_ids | were_lost)
                        for e in ended
                        if e.outcome.run_id in written
                    ],
                )
        if were_lost & written:
            log.warning(
                "%d outcome(s) of runs reaped as lost while this node was fenced were recorded",
                len(were_lost & written),
            )
        if retries or queued:
            self.on_retry_recorded()
        retried = {r.retry_of for r in retries}
        for e in ended:
            if e.outcome.run_id in written:
                self._publish(e, final=e.outcome.run_id not in retried)

    def _publish(self, e: Ended, *, final: bool) -> None:
        code = _EVENT_OF_STATUS.get(e.outcome.status)
        if code is None or not self.bus.wants(code):
            return
        o = e.outcome
        self.bus.publish(
            JobExecutionEvent(
                code=code,
                job_id=e.job.id,
                run_id=o.run_id,
                scheduled_run_time=us_to_datetime(e.scheduled_for),
                status=o.status.value,
                retval=o.value,
                exception=o.exception,
                traceback=o.traceback,
                error=o.error,
                attempt=e.attempt,
                final=final,
            )
        )


def ended_record(e: Ended, *, final: bool) -> RunEnded:
    o = e.outcome
    duration = None if o.started_us is None else (o.finished_us - o.started_us) / 1e6
    return RunEnded(
        run_id=o.run_id,
        job_id=e.job.id,
        status=o.status.value,
        scheduled_for=e.scheduled_for,
        attempt=e.attempt,
        final=final,
        node_id=e.node_id,
        started_at=o.started_us,
        finished_at=o.finished_us,
        duration_s=duration,
        error=o.error,
    )


def retry_of(e: Ended, run_id: int, now: int, delay_s: float) -> NewRun:
    """The queued next attempt of an ended run (any node may claim it once due); a manual
    run's parameters and requester go with it."""
    return next_attempt(
        e.job.id, e.scheduled_for, e.attempt, run_id, now, delay_s, e.params, e.triggered_by
    )


def next_attempt(
    job_id: str,
    scheduled_for: int,
    attempt: int,
    run_id: int,
    now: int,
    delay_s: float,
    params: Mapping[str, Any] | None = None,
    triggered_by: str | None = None,
) -> NewRun:
    """The queued next attempt of a fire."""
    return NewRun(
        job_id=job_id,
        scheduled_for=scheduled_for,
        due_at=now + round(delay_s * 1e6),
        reason=RunReason.RETRY.value,
        status=RunStatus.SCHEDULED.value,
        attempt=attempt + 1,
        retry_of=run_id,
        params=None if params is None else dict(params),
        triggered_by=triggered_by,
    )


def _row(e: Ended) -> dict[str, object]:
    o = e.outcome
    duration = None if o.started_us is None else (o.finished_us - o.started_us) / 1e6
    return {
        "id": o.run_id,
        "node_id": e.node_id,
        "status": o.status.value,
        "started_at": o.started_us,
        "finished_at": o.finished_us,
        "duration_s": duration,
        "result": o.result,
        "error": o.error,
        "traceback": o.traceback,
        "log": o.log or None,
    }


def _drain(items: deque[T], limit: int) -> list[T]:
    out: list[T] = []
    while items and len(out) < limit:
        out.append(items.popleft())
    return out
