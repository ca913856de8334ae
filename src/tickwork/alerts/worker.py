"""The alert worker of a node: a thread that claims due deliveries and sends them, and runs
the periodic sweep (dead-man alerts, dedupe summaries) when it is this node's turn."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from tickwork.alerts import outbox
from tickwork.alerts.delivery import Sender
from tickwork.alerts.outbox import SendResult
from tickwork.alerts.repo import AlertRepo
from tickwork.alerts.sweep import sweep, take_turn
from tickwork.clock import Clock
from tickwork.store.database import Database

log = logging.getLogger("tickwork.alerts")


class AlertWorker:
    def __init__(
        self,
        db: Database,
        repo: AlertRepo,
        clock: Clock,
        node_id: Callable[[], str],
        sender: Callable[[], Sender],
        *,
        poll_s: float = 1.0,
        sweep_s: float = 15.0,
    ) -> None:
        self.db = db
        self.repo = repo
        self.clock = clock
        self.node_id = node_id
        self.sender = sender
        self.poll_s = poll_s
        self.sweep_s = sweep_s
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._swept_at = -1e18  # clock seconds of this node's last try at the sweep turn

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="tickwork-alerts", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 15.0) -> None:
        self._stop.set()
        self._wake.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout_s)

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def wake(self) -> None:
        self._wake.set()

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                now_s = self.clock.now_us() / 1e6
                # Only ask for the turn when it may be ours: each ask is a write transaction.
                if now_s - self._swept_at >= self.sweep_s or now_s < self._swept_at:
                    self._swept_at = now_s
                    if take_turn(self.db, self.clock.now_us(), self.sweep_s):
                        sweep(self.db, self.repo, self.clock.now_us())
                while not self._stop.is_set() and self.deliver_once():
                    pass
                failures = 0
            except Exception as exc:
                # A database outage fails every round: one line per failure, the traceback only
                # for the first, and a growing pause (up to 30 s). A traceback a second floods
                # the log, and where the log is a pipe nobody drains yet, a full pipe blocks
                # every thread that logs, the heartbeat's too (the node then looks dead).
                failures += 1
                if failures == 1:
                    log.exception("the alert worker failed a round; it carries on")
                else:
                    log.warning("the alert worker failed round %d in a row: %s", failures, exc)
            pause = self.poll_s if not failures else min(30.0, self.poll_s * 2 ** min(failures, 5))
            self._wake.wait(pause)
            self._wake.clear()

    def flush(self) -> int:
        """After ``stop()``: one last round, every claimed delivery sent."""
        return self.deliver_once(finishing=True)

    def deliver_once(self, limit: int = 20, *, finishing: bool = False) -> int:
        """Claim and send what is due; returns the number of sends tried."""
        node = self.node_id()
        if not outbox.anything_due(self.db, self.clock.now_us()):
            return 0  # a read, not a claim: no write transaction while nothing is due
        claimed = outbox.claim(self.db, self.repo, node, self.clock.now_us(), limit)
        sender = self.sender() if claimed else None
        for item in claimed:
            if self._stop.is_set() and not finishing and item is not claimed[0]:
                # Stopping: leave the rest to their lease (another node takes them over).
                break
            rule = str(item.alert.get("rule_id") or "")
            if item.channel is None:
                result = SendResult(False, error="the channel was removed")
            elif not item.channel.enabled:
                result = SendResult(False, error="the channel is switched off")
            else:
                assert sender is not None
                result = sender.send(
                    item.channel, item.alert, self.clock.now_us(), item.delivery_id
                )
            status = outbox.finish(self.db, item, node, result, self.clock.now_us(), rule)
            if not result.ok:
                log.warning(
                    "alert %s to channel %s: attempt %d failed (%s); now %s",
                    item.alert.get("id"),
                    item.channel.name if item.channel else "?",
                    item.attempts,
                    result.error or f"HTTP {result.status_code}",
                    status,
                )
        return len(claimed)
