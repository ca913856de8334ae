"""A scheduler node: the loop, the dispatcher, the writer, executors and the watchman,
started and stopped together. ``tickwork serve`` runs one; so does ``Tickwork.start()``."""

from __future__ import annotations

import gc
import logging
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field

from tickwork.clock import Clock
from tickwork.engine.celery_handoff import CeleryHandoff
from tickwork.engine.dispatcher import Dispatcher
from tickwork.engine.events import EventBus
from tickwork.engine.hooks import RunHooks
from tickwork.engine.loop import SchedulerLoop
from tickwork.engine.single_node_lock import SingleNodeLock
from tickwork.engine.watchman import Watchman
from tickwork.engine.writer import OutcomeWriter
from tickwork.executors import create_executor
from tickwork.executors.base import Executor
from tickwork.executors.celery_app import (
    Publisher,
    broker_from_env,
    local_queues_from_env,
    make_app,
    resend_after_from_env,
)
from tickwork.store import Store
from tickwork.store.nodes import new_node_id
from tickwork.store.wal_checkpoint import WalCheckpointer
from tickwork.targets.prepare import Preparer

log = logging.getLogger("tickwork.node")


@dataclass(frozen=True, slots=True)
class NodeOptions:
    """Tuning of a scheduler node; the defaults suit most deployments."""

    workers: Mapping[str, int] = field(
        default_factory=lambda: {"thread": 20, "process": 4, "asyncio": 100}
    )
    lookahead_s: float = 1.0  # claim fires this far ahead, start them on time from memory
    poll_s: float = 1.0  # upper bound of a sleep: how soon other nodes' changes are seen
    heartbeat_s: float = 5.0
    dead_after_s: float = 20.0  # a node silent this long is dead; its runs end lost
    # Jobs per claim transaction (None: 500 on PostgreSQL/MySQL, 64 on SQLite). On SQLite a
    # claim holds the only write lock, which the start of a due run waits for: short claims
    # keep starts on time (a claim of 500 held it for 6-80 ms; of 64, about 1 ms).
    batch: int | None = None
    max_outstanding: int = 20_000  # claimed, unfinished runs held in memory at most
    shutdown_wait_s: float = 30.0  # how long shutdown(wait=True) lets running runs finish
    # The interpreter's GIL switch interval while a node runs (process-wide, only ever
    # lowered). A thread that must start a run on time waits for the GIL up to this long
    # whenever another thread (a claim, the writer, a job) is busy in Python; 1 ms keeps fires
    # on time. None leaves the host application's setting alone (embedded use); `tickwork
    # serve`, whose process is Tickwork's own, uses 1 ms.
    switch_interval_s: float | None = None
    # Move everything alive at start into the collector's permanent generation
    # (gc.collect() then gc.freeze()), so full collections scan only what the node creates
    # afterwards: a 50 ms full collection over the application's start-up objects is a 50 ms
    # late fire. Process-wide, so off for embedded use; `tickwork serve` turns it on.
    gc_freeze: bool = False
    roles: str = "scheduler"  # what the node table says this process is ("scheduler,api")
    # Celery (docs/celery.md): the broker runs of jobs with a queue are published to
    # (TICKWORK_CELERY_BROKER_URL), and the queues this node runs itself instead
    # (TICKWORK_LOCAL_QUEUES, comma-separated).
    celery_broker: str | None = field(default_factory=broker_from_env)
    local_queues: frozenset[str] = field(default_factory=local_queues_from_env)
    # a handed-over run that waited this long for a worker with a free slot is published
    # again (TICKWORK_CELERY_RESEND_AFTER; docs/celery.md, "Lost messages")
    celery_resend_after_s: float = field(default_factory=resend_after_from_env)


class SchedulerNode:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        bus: EventBus,
        options: NodeOptions,
        preparer: Preparer | None = None,
        hooks: RunHooks | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.bus = bus
        self.options = options
        self.node_id = new_node_id()
        self._executors: dict[str, Executor] = {}
        self._executors_lock = threading.Lock()
        self._lock = (
            SingleNodeLock(store.db.sqlite_path) if store.db.sqlite_path is not None else None
        )
        self.writer = OutcomeWriter(
            store,
            self.node_id,
            clock,
            bus,
            on_retry_recorded=self._wake_loop,
            # On SQLite an outcome batch holds the write lock that due starts wait for.
            batch=250 if store.db.is_sqlite else 1000,
        )
        broker = options.celery_broker
        self.celery = CeleryHandoff(
            store,
            Publisher(make_app(broker)) if broker else None,
            options.local_queues,
            resend_after_s=options.celery_resend_after_s,
        )
        self.dispatcher = Dispatcher(
            store, self.node_id, clock, self.executor, self.writer, preparer, self.celery
        )
        self.writer.live_logs = self.dispatcher.live_logs
        self._fence_lock = threading.Lock()
        self.loop = SchedulerLoop(
            store,
            self.node_id,
            clock,
            self.dispatcher,
            bus,
            lookahead_s=options.lookahead_s,
            poll_s=options.poll_s,
            batch=options.batch or (64 if store.db.is_sqlite else 500),
            max_outstanding=options.max_outstanding,
        )
        self.loop.on_fenced = self._fenced
        self.watchman = Watchman(
            store,
            self.node_id,
            clock,
            bus,
            heartbeat_s=options.heartbeat_s,
            dead_after_s=options.dead_after_s,
            on_fenced=self._fenced,
            on_retry_recorded=self._wake_loop,
            on_pass=self.celery.resend_stranded,
        )
        # SQLite: the WAL is checkpointed off the write turn that due starts wait for.
        self.checkpointer = WalCheckpointer(store.db)
        # Subscribers (alerts, workflows) called in the transactions that record runs' ends.
        self.hooks = hooks if hooks is not None else RunHooks()
        self.writer.hooks = self.loop.hooks = self.watchman.hooks = self.hooks
        self.started = False

    def executor(self, name: str) -> Executor:
        """The executor called ``name``, started on first use."""
        with self._executors_lock:
            executor = self._executors.get(name)
            if executor is None:
                workers = self.options.workers.get(name, 10)
                executor = create_executor(name, workers, self.clock)
                executor.start()
                self._executors[name] = executor
            return executor

    def start(self) -> None:
        if self._lock is not None:
            self._lock.acquire()
        try:
            with self.store.db.write() as conn:
                now = self.clock.now_us()
                self.store.nodes.register(conn, self.node_id, self.options.roles, now)
                if self._lock is not None:
                    # SQLite: this process holds the file's scheduler lock, so a scheduler
                    # node still recorded as live is a previous process that died.
                    self.store.nodes.stop_other_schedulers(
                        conn, self.node_id, now, "replaced: a new scheduler started on this file"
                    )
                in_use = self.store.jobs.executors_in_use(conn)
            # Settle what earlier nodes left (a previous process's runs) before claiming.
            self.watchman.reap()
            # Start the executors scheduled jobs use now, not at their first fire: a process
            # pool takes a moment to start, and that moment would make the fire late.
            for name in {"thread", *in_use}:
                try:
                    self.executor(name)
                except Exception:
                    log.exception("could not start the %s executor", name)
            self._tighten_switch_interval()
            if self.options.gc_freeze:
                gc.collect()
                gc.freeze()
            self.checkpointer.start()
            self.writer.start()
            self.dispatcher.start()
            self.loop.start()
            self.watchman.start()
            self.started = True
            log.info("scheduler node %s started on %s", self.node_id, self.store.db.display_url)
        except BaseException:
            self.checkpointer.stop()
            if self._lock is not None:
                self._lock.release()
            raise

    def wake(self) -> None:
        self.loop.wake()

    def _tighten_switch_interval(self) -> None:
        wanted = self.options.switch_interval_s
        if wanted is not None and sys.getswitchinterval() > wanted:
            sys.setswitchinterval(wanted)  # process-wide; never loosened by a node

    def _wake_loop(self) -> None:
        self.loop.wake()

    def stop(self, wait: bool = True, timeout_s: float | None = None) -> None:
        """Stop claiming, hand never-started runs back to the queue, let running runs finish
        for up to the bound, then cancel and record what was cut off."""
        if not self.started:
            return
        self.started = False
        bound = self.options.shutdown_wait_s if timeout_s is None else timeout_s
        self.loop.stop()
        unstarted = self.dispatcher.take_unstarted()
        try:
            with self.store.db.write() as conn:
                for owner in {p.node_id for p in unstarted}:
                    ids = [p.run_id for p in unstarted if p.node_id == owner]
                    self.store.runs.release(conn, owner, ids)
        except Exception:
            log.exception("could not hand %d unstarted runs back to the queue", len(unstarted))
        with self._executors_lock:
            executors = list(self._executors.values())
        for executor in executors:
            executor.shutdown(bound if wait else 0.0)
        self.dispatcher.stop()
        self.celery.close()
        self.writer.close()
        self.watchman.stop()
        try:
            with self.store.db.write() as conn:
                self.store.nodes.stop(conn, self.node_id, self.clock.now_us(), "shutdown")
        except Exception:
            log.exception("could not record the node's stop")
        self.checkpointer.stop()
        if self._lock is not None:
            self._lock.release()
        log.info("scheduler node %s stopped", self.node_id)

    def _fenced(self) -> None:
        """Declared dead by a peer (it could not see this node's heartbeats): its running runs
        were recorded lost and retried, its unstarted claims handed to other nodes. Drop the
        claims (their starts would be refused anyway), let running runs finish (their
        outcomes still land on their records) and carry on under a new identity."""
        with self._fence_lock:
            old = self.node_id
            with self.store.db.read() as conn:
                record = next((n for n in self.store.nodes.all(conn) if n.id == old), None)
            if record is not None:
                return  # another thread already took a new identity (or a false alarm)
            dropped = self.dispatcher.take_unstarted()
            self.writer.fenced_ids.add(old)
            self.node_id = new_node_id()
            for part in (self.writer, self.dispatcher, self.loop, self.watchman):
                part.node_id = self.node_id
            self.watchman.last_heartbeat_us = self.watchman.first_heartbeat_us = 0
            with self.store.db.write() as conn:
                self.store.nodes.register(
                    conn, self.node_id, self.options.roles, self.clock.now_us()
                )
        log.error(
            "node %s fenced: dropped %d unstarted runs; now node %s",
            old,
            len(dropped),
            self.node_id,
        )

    def thread_health(self) -> dict[str, bool]:
        """Whether each thread of the node is alive: the loop (claims), the dispatcher
        (starts), the writer (outcomes), the watchman (heartbeats, reaping) and every started
        executor's control threads (timeouts, cancels). /readyz reports a dead one."""
        health = {
            "loop": self.loop.alive,
            "dispatcher": self.dispatcher.alive,
            "writer": self.writer.alive,
            "watchman": self.watchman.alive,
        }
        if self.store.db.is_sqlite:
            health["checkpointer"] = self.checkpointer.alive
        with self._executors_lock:
            executors = dict(self._executors)
        for name, executor in sorted(executors.items()):
            for part, alive in executor.health().items():
                health[f"{name} executor {part}"] = alive
        return health
