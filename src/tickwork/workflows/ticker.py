"""The part of a scheduler node that fires workflows' own triggers and ends workflow runs
whose deadline has passed. Each pass is one transaction; the rows it acts on are locked (others
skip them) and a fire is unique per workflow and instant, so any number of nodes may tick."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from tickwork.clock import Clock
from tickwork.store import Store
from tickwork.triggers import from_spec
from tickwork.workflows.progress import Progress

log = logging.getLogger("tickwork.workflows")
CATCH_UP_US = 60_000_000  # fires later than this are not caught up one by one


class WorkflowTicker:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        *,
        poll_s: float = 1.0,
        on_queued: Callable[[], None] = lambda: None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.poll_s = poll_s
        self.on_queued = on_queued  # wake the node's loop: step runs were queued
        self.progress = Progress(store)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="tickwork-workflows", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(10)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _loop(self) -> None:
        while not self._stop.is_set():
            wake_at = self.clock.now_us() + round(self.poll_s * 1e6)
            try:
                wake_at = self.tick()
            except Exception as exc:  # the database may be restarting: try again later
                log.warning("workflow ticker error: %s", exc)
            if self._stop.is_set():
                return
            # An instant, not a span: the clock may have moved since the pass began.
            wait_s = (wake_at - self.clock.now_us()) / 1e6
            if wait_s > 0:
                self.clock.wait(self._wake, wait_s)
            self._wake.clear()

    def tick(self) -> int:
        """One pass: fire due workflows, expire deadlines; returns when to look again."""
        now = self.clock.now_us()
        fired = 0
        with self.store.db.write() as conn:
            for wf in self.store.workflows.claim_due(conn, now):
                assert wf.next_fire_at is not None
                assert wf.trigger is not None
                try:
                    trigger = from_spec(wf.trigger)
                    nxt = trigger.next_fire_us(wf.next_fire_at)
                    if nxt is not None and nxt < now - CATCH_UP_US:
                        nxt = trigger.next_fire_us(now)  # a downtime: skip to the next fire
                except Exception:
                    log.exception("workflow %r has a trigger that no longer parses", wf.id)
                    nxt = None
                if not self.store.workflows.set_next_fire(conn, wf.id, wf.next_fire_at, nxt):
                    continue  # another node fired it meanwhile
                # A fire a little late (a busy or starting node) is made, each one; of those
                # missed over a downtime, only this one.
                wr_id = self.progress.start(
                    conn,
                    workflow_id=wf.id,
                    steps=wf.steps,
                    scheduled_for=wf.next_fire_at,
                    reason="schedule",
                    now=now,
                    deadline_s=wf.deadline_s,
                    by=None,
                )
                fired += wr_id is not None
            self.progress.expire(conn, now)
            next_due = self.store.workflows.next_due(conn)
        if fired:
            self.on_queued()
        poll_us = round(self.poll_s * 1e6)
        if next_due is None:
            return now + poll_us
        # A floor: a deadline another node holds locked is not worth spinning for.
        return max(now + 50_000, min(now + poll_us, next_due))
