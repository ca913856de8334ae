"""A Celery worker's Tickwork side: its node row (role ``worker``) and heartbeat, the guarded
start of each run it receives, its own executors (timeouts are theirs), the outcome writer
(the worker writes outcome, log and result into the run record itself), live logs, and
cancels (the run's cancel flag in the database, or a Celery revoke of its task id).

One process: Celery's thread pool receives messages; each thread waits for a free slot of
this worker, records the run's start, submits it to the worker's executor and returns (so
the message is acknowledged once the start is durable, see executors.celery_app). The body
runs on in the executor; at most ``concurrency`` runs at a time.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

from tickwork.clock import Clock
from tickwork.engine.events import EventBus
from tickwork.engine.requests import CannotRun, build_request
from tickwork.engine.watchman import Watchman
from tickwork.engine.writer import Ended, OutcomeWriter
from tickwork.executors import create_executor
from tickwork.executors.base import Executor, RunOutcome
from tickwork.models import RunStatus
from tickwork.store import Store
from tickwork.store.celery_repo import CeleryRepo
from tickwork.store.nodes import new_node_id
from tickwork.targets.prepare import Preparer

log = logging.getLogger("tickwork.worker")
ROLE = "worker"


def _no_op(_run_id: int, _started_us: int) -> None:
    """The start is recorded before the body is submitted."""


class WorkerRuntime:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        preparer: Preparer,
        *,
        queues: Sequence[str],
        concurrency: int,
        broker: str,
        heartbeat_s: float = 5.0,
        cancel_poll_s: float = 1.0,
        shutdown_wait_s: float = 30.0,
    ) -> None:
        self.store = store
        self.clock = clock
        self.preparer = preparer
        self.queues = list(queues)
        self.concurrency = concurrency
        self.broker = broker
        self.shutdown_wait_s = shutdown_wait_s
        self.cancel_poll_s = cancel_poll_s
        self.repo = CeleryRepo(store.db)
        self.node_id = new_node_id()
        self.bus = EventBus()
        self.writer = OutcomeWriter(store, self.node_id, clock, self.bus)
        self.writer.live_logs = self.live_logs
        self.watchman = Watchman(
            store,
            self.node_id,
            clock,
            self.bus,
            heartbeat_s=heartbeat_s,
            on_fenced=self._fenced,
            reaps=False,  # scheduler nodes reap; a worker only proves it is alive
        )
        self._slots = threading.BoundedSemaphore(concurrency)
        self._lock = threading.Lock()
        self._executors: dict[str, Executor] = {}
        self._running: dict[int, Executor] = {}
        self._stop = threading.Event()
        self._cancel_thread = threading.Thread(
            target=self._poll_cancels, name="tickwork-worker-cancels", daemon=True
        )
        # Whether a task id was revoked through Celery (the worker's revoked set; set by the
        # Celery glue, tickwork.worker.celery_worker).
        self.revoked: Callable[[str], bool] = lambda _task_id: False

    # -- life ---------------------------------------------------------------------------------
    def start(self) -> None:
        self._register()
        self.executor("thread")
        self.writer.start()
        self.watchman.start()
        self._cancel_thread.start()
        log.info(
            "worker %s started: queues %s, concurrency %d, database %s",
            self.node_id,
            ",".join(self.queues),
            self.concurrency,
            self.store.db.display_url,
        )

    def _register(self) -> None:
        with self.store.db.write() as conn:
            self.store.nodes.register(conn, self.node_id, ROLE, self.clock.now_us())
            self.repo.register_worker(
                conn, self.node_id, self.queues, self.concurrency, self.broker
            )

    def stop(self, wait: bool = True) -> None:
        """Let running runs finish (up to ``shutdown_wait_s``), record what was cut off, and
        mark the node stopped."""
        if self._stop.is_set():
            return
        self._stop.set()
        with self._lock:
            executors = list(self._executors.values())
        for executor in executors:
            executor.shutdown(self.shutdown_wait_s if wait else 0.0)
        self.writer.close()
        self.watchman.stop()
        try:
            with self.store.db.write() as conn:
                self.store.nodes.stop(conn, self.node_id, self.clock.now_us(), "shutdown")
        except Exception:
            log.exception("could not record the worker's stop")
        log.info("worker %s stopped", self.node_id)

    def executor(self, name: str) -> Executor:
        # A worker runs coroutines to completion on its threads (no separate event loop).
        name = "thread" if name == "asyncio" else name
        with self._lock:
            executor = self._executors.get(name)
            if executor is None:
                executor = create_executor(name, self.concurrency, self.clock)
                executor.start()
                self._executors[name] = executor
            return executor

    # -- one message --------------------------------------------------------------------------
    def execute(self, run_id: int) -> str:
        """Start run ``run_id`` here unless it already started or ended elsewhere; returns
        what happened (the Celery task's return value, for the worker's log)."""
        while not self._slots.acquire(timeout=1.0):
            if self._stop.is_set():
                raise RuntimeError("the worker is stopping")  # the message is redelivered
        try:
            return self._start(run_id)
        except BaseException:
            self._slots.release()
            raise

    def _start(self, run_id: int) -> str:
        now = self.clock.now_us()
        with self.store.db.write() as conn:
            started = self.repo.start(conn, run_id, self.node_id, now)
            record = self.store.runs.get(conn, run_id)
            job = self.store.jobs.get(conn, record.job_id) if record is not None else None
        if not started or record is None:
            self._slots.release()
            status = "unknown" if record is None else record.status
            log.info("run %d not started: it is %s (its message came again)", run_id, status)
            return f"not started: run {run_id} is {status}"
        if job is None:
            self._end(run_id, now, "its job was removed")
            return "failed: job removed"
        ended = Ended(
            RunOutcome(run_id=run_id, status=RunStatus.FAILED, started_us=now, finished_us=now),
            job,
            record.scheduled_for,
            record.attempt,
            self.node_id,
            record.params,
            record.triggered_by,
        )
        try:
            request = build_request(
                run_id, job, record.scheduled_for, record.attempt, record.params, self.preparer
            )
        except CannotRun as exc:
            ended.outcome.error = str(exc)
            ended.outcome.finished_us = self.clock.now_us()
            self._slots.release()
            self.writer.ended(ended)
            return "failed: cannot run"
        executor = self.executor(job.executor)

        def done(outcome: RunOutcome) -> None:
            with self._lock:
                self._running.pop(run_id, None)
            if outcome.started_us is None:
                outcome.started_us = now
            ended.outcome = outcome
            self.writer.ended(ended)
            self._slots.release()

        with self._lock:
            self._running[run_id] = executor
        try:
            executor.submit(request, _no_op, done)
        except Exception as exc:
            with self._lock:
                self._running.pop(run_id, None)
            ended.outcome.status = RunStatus.CANCELLED
            ended.outcome.error = f"cancelled: not submitted ({exc})"
            self._slots.release()
            self.writer.ended(ended)
            return "cancelled"
        return "started"

    def _end(self, run_id: int, started: int, error: str) -> None:
        """A failed run without a job record (the writer needs one for its retry policy)."""
        with self.store.db.write() as conn:
            self.store.runs.finish(
                conn,
                [
                    {
                        "id": run_id,
                        "node_id": self.node_id,
                        "status": RunStatus.FAILED.value,
                        "started_at": started,
                        "finished_at": self.clock.now_us(),
                        "duration_s": 0.0,
                        "result": None,
                        "error": error,
                        "traceback": None,
                        "log": None,
                    }
                ],
            )
        self._slots.release()

    # -- cancels, live logs -------------------------------------------------------------------
    def cancel(self, run_id: int, reason: str) -> bool:
        with self._lock:
            executor = self._running.get(run_id)
        return executor.cancel(run_id, reason) if executor is not None else False

    def running_ids(self) -> list[int]:
        with self._lock:
            return list(self._running)

    def live_logs(self) -> list[tuple[int, str]]:
        with self._lock:
            running = list(self._running.items())
        out = []
        for rid, executor in running:
            text = executor.partial_log(rid)
            if text:
                out.append((rid, text))
        return out

    def _poll_cancels(self) -> None:
        while not self._stop.wait(self.cancel_poll_s):
            running = self.running_ids()
            if not running:
                continue
            try:
                for rid in running:
                    if self.revoked(str(rid)):
                        self.cancel(rid, "cancelled: its Celery task was revoked")
                with self.store.db.read() as conn:
                    asked = self.store.runs.cancel_requests(conn, self.node_id)
                for rid, reason in asked:
                    self.cancel(rid, reason)
            except Exception as exc:
                log.warning("could not look for cancel requests: %s", exc)

    def _fenced(self) -> None:
        """Declared dead by a scheduler (no heartbeat reached the database for the bound):
        its running runs were recorded lost and retried. Running runs finish (their outcomes
        still land), and the worker carries on under a new identity."""
        old = self.node_id
        self.writer.fenced_ids.add(old)
        self.node_id = new_node_id()
        self.writer.node_id = self.watchman.node_id = self.node_id
        self.watchman.last_heartbeat_us = self.watchman.first_heartbeat_us = 0
        self._register()
        log.error("worker %s was declared dead; now %s", old, self.node_id)
