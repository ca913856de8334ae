"""A node that schedules nothing (an API-only process) still says it is there: it registers
in the node table with its roles and heartbeats, so the dashboard and ``GET /api/scheduler``
list every process of the deployment. It never reaps: that is the scheduler nodes' work."""

from __future__ import annotations

import logging

from tickwork.clock import Clock
from tickwork.engine.events import EventBus
from tickwork.engine.watchman import Watchman
from tickwork.store import Store
from tickwork.store.nodes import new_node_id

log = logging.getLogger("tickwork.presence")


class Presence:
    def __init__(self, store: Store, clock: Clock, roles: str, heartbeat_s: float) -> None:
        self.store = store
        self.clock = clock
        self.roles = roles
        self.node_id = new_node_id()
        self._watchman = Watchman(
            store, self.node_id, clock, EventBus(), heartbeat_s=heartbeat_s, reaps=False,
            on_fenced=self._reregister,
        )  # fmt: skip

    def start(self) -> None:
        with self.store.db.write() as conn:
            self.store.nodes.register(conn, self.node_id, self.roles, self.clock.now_us())
        self._watchman.start()

    def stop(self) -> None:
        self._watchman.stop()
        try:
            with self.store.db.write() as conn:
                self.store.nodes.stop(conn, self.node_id, self.clock.now_us(), "shutdown")
        except Exception as exc:  # the database may be gone; the heartbeat just stops
            log.warning("could not record the stop of node %s: %s", self.node_id, exc)

    def _reregister(self) -> None:
        # Declared dead (an outage longer than the bound): come back under a new id.
        self.node_id = self._watchman.node_id = new_node_id()
        with self.store.db.write() as conn:
            self.store.nodes.register(conn, self.node_id, self.roles, self.clock.now_us())
