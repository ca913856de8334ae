"""The scheduler as a whole: its nodes, pause and resume of every node, listeners, and the
life cycle of this process's node (start, shutdown, run_forever, the asyncio entry)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from typing import Self

from tickwork.engine.events import (
    EVENT_ALL,
    EVENT_SCHEDULER_PAUSED,
    EVENT_SCHEDULER_RESUMED,
    EVENT_SCHEDULER_SHUTDOWN,
    EVENT_SCHEDULER_STARTED,
    Listener,
    SchedulerEvent,
)
from tickwork.engine.node import SchedulerNode
from tickwork.errors import TickworkError
from tickwork.service.sync import SyncMixin
from tickwork.store.nodes import NodeRecord
from tickwork.store.settings_repo import SCHEDULER_PAUSED


class ControlMixin(SyncMixin):
    def nodes(self) -> list[NodeRecord]:
        with self.store.db.read() as conn:
            return self.store.nodes.all(conn)

    @property
    def running(self) -> bool:
        """True while this process runs a scheduler node (APScheduler's ``running``)."""
        return self.node is not None and self.node.started

    def is_paused(self) -> bool:
        with self.store.db.read() as conn:
            return bool(self.store.settings.get(conn, SCHEDULER_PAUSED, False))

    def pause(self, *, by: str | None = None) -> None:
        """Pause job processing on every node sharing the database (fires that fall due
        meanwhile follow each job's misfire policy on resume)."""
        with self.store.db.write() as conn:
            now = self.clock.now_us()
            self.store.settings.put(conn, SCHEDULER_PAUSED, True, now, by)
            self.audit.record(conn, at=now, actor=by or self.actor, action="scheduler.pause")
        self._publish(SchedulerEvent(EVENT_SCHEDULER_PAUSED))
        self._changed()

    def resume(self, *, by: str | None = None) -> None:
        with self.store.db.write() as conn:
            now = self.clock.now_us()
            self.store.settings.put(conn, SCHEDULER_PAUSED, False, now, by)
            self.audit.record(conn, at=now, actor=by or self.actor, action="scheduler.resume")
        self._publish(SchedulerEvent(EVENT_SCHEDULER_RESUMED))
        self._changed()

    def add_listener(self, callback: Listener, mask: int = EVENT_ALL) -> None:
        self.bus.add_listener(callback, mask)

    def remove_listener(self, callback: Listener) -> None:
        self.bus.remove_listener(callback)

    def announce(self, roles: str = "api") -> None:
        """Register this process in the node table with ``roles`` and keep its heartbeat,
        without scheduling anything (an API-only node); ``close()`` ends it."""
        from tickwork.engine.presence import Presence

        if self._presence is None:
            self._presence = Presence(self.store, self.clock, roles, self.node_options.heartbeat_s)
            self._presence.start()
        self._start_alert_worker()

    def start(self, paused: bool = False) -> None:
        """Sync declared jobs and job files, then run a scheduler node in background threads."""
        if self.node is not None:
            raise TickworkError("this Tickwork instance is already started")
        self.sync_declared()
        self._sync_builtin_jobs()
        if self.settings.job_files:
            self.sync_job_files(self.settings.job_files)
        if paused:
            self.pause()
        self._load_keys()  # the keys that open job secrets, before any run
        from tickwork.targets.prepare import Preparer, RunSettings

        preparer = Preparer(self.store, RunSettings.of(self.settings))
        node = SchedulerNode(
            self.store,
            self.clock,
            self.bus,
            self.node_options,
            preparer=preparer,
            hooks=self.run_hooks,
        )
        node.start()
        self.node = node
        self._start_alert_worker()
        self._stopped.clear()
        self._publish(SchedulerEvent(EVENT_SCHEDULER_STARTED))

    def shutdown(self, wait: bool = True, *, timeout_s: float | None = None) -> None:
        """Stop the node: running runs may finish (up to the node's bound when ``wait``),
        what is cut off is recorded as cancelled; unstarted claimed runs go back to the queue."""
        node, self.node = self.node, None
        if node is not None:
            node.stop(wait=wait, timeout_s=timeout_s)
            self._publish(SchedulerEvent(EVENT_SCHEDULER_SHUTDOWN))
        self._stop_alert_worker()  # after the node: the alerts of its last outcomes go out
        self.bus.close()
        self._stopped.set()

    def close(self) -> None:
        """Shut down if started and release database connections."""
        self.shutdown(wait=False)
        if self._presence is not None:
            self._presence.stop()
            self._presence = None
        self.store.close()

    def run_forever(self) -> None:
        """Start, and block until SIGINT/SIGTERM (or ``shutdown()`` from another thread)."""
        if self.node is None:
            self.start()
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                signal.signal(sig, lambda *_: self._stopped.set())
        try:
            self._stopped.wait()
        finally:
            self.shutdown(wait=True)

    async def run_async(self) -> None:
        """The asyncio entry point: start, run until cancelled, then shut down gracefully."""
        loop = asyncio.get_running_loop()
        starting = loop.run_in_executor(None, self.start)
        try:
            # shielded: a cancel while start() is still under way (its thread goes on) must
            # not skip the shutdown below, nor race it
            await asyncio.shield(starting)
            await asyncio.Event().wait()
        finally:
            with contextlib.suppress(BaseException):
                await starting
            await loop.run_in_executor(None, self.shutdown)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
