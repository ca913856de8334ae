"""Scheduler and API nodes: registration, heartbeats, and finding the ones that died."""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass

from sqlalchemy import Connection, insert, select, update

from tickwork import __version__
from tickwork.errors import TickworkError
from tickwork.store.database import Database
from tickwork.store.tables import node


class Fenced(TickworkError):
    """This node was declared dead by another one: it must not claim under that identity."""

    def __init__(self, node_id: str) -> None:
        super().__init__(f"node {node_id} was declared dead (fenced)")
        self.node_id = node_id


@dataclass(frozen=True, slots=True)
class NodeRecord:
    id: str
    host: str
    pid: int
    roles: str
    version: str
    started_at: int
    heartbeat_at: int
    stopped_at: int | None
    stop_reason: str | None


def new_node_id() -> str:
    return f"{socket.gethostname()[:40]}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


class NodeRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    def register(self, conn: Connection, node_id: str, roles: str, now: int) -> None:
        conn.execute(
            insert(node),
            [
                {
                    "id": node_id,
                    "host": socket.gethostname()[:255],
                    "pid": os.getpid(),
                    "roles": roles,
                    "version": __version__,
                    "started_at": now,
                    "heartbeat_at": now,
                    "stopped_at": None,
                    "stop_reason": None,
                }
            ],
        )

    def heartbeat(self, conn: Connection, node_id: str, now: int) -> bool:
        """Refresh this node's heartbeat; False if the node was declared dead meanwhile."""
        result = conn.execute(
            update(node)
            .where(node.c.id == node_id, node.c.stopped_at.is_(None))
            .values(heartbeat_at=now)
        )
        return result.rowcount == 1

    def assert_live(self, conn: Connection, node_id: str) -> None:
        """Raise ``Fenced`` unless ``node_id`` is a live node. Read with a shared row lock
        where the dialect has one: a reaper declaring the node dead waits for the caller's
        transaction (whose claims it then settles) or the caller sees the verdict; claims made
        under a dead identity can never slip between the two."""
        query = select(node.c.stopped_at).where(node.c.id == node_id)
        if self.db.skip_locked:
            query = query.with_for_update(read=True)
        row = conn.execute(query).first()
        if row is None or row[0] is not None:
            raise Fenced(node_id)

    def stop(self, conn: Connection, node_id: str, now: int, reason: str) -> None:
        conn.execute(
            update(node)
            .where(node.c.id == node_id, node.c.stopped_at.is_(None))
            .values(stopped_at=now, stop_reason=reason)
        )

    def claim_dead(
        self, conn: Connection, older_than: int, now: int, *, reaper: str | None = None
    ) -> list[str]:
        """Mark live-looking nodes whose heartbeat is older than ``older_than`` as stopped
        and return their ids; only one reaper gets each dead node, and never itself (a
        reaper that runs is alive, whatever its last heartbeat says)."""
        query = select(node.c.id).where(
            node.c.stopped_at.is_(None), node.c.heartbeat_at < older_than
        )
        if reaper is not None:
            query = query.where(node.c.id != reaper)
        if self.db.skip_locked:
            query = query.with_for_update(skip_locked=True)
        dead = list(conn.execute(query).scalars())
        if dead:
            conn.execute(
                update(node)
                .where(node.c.id.in_(dead), node.c.stopped_at.is_(None))
                .values(stopped_at=now, stop_reason="no heartbeat: declared dead")
            )
        return dead

    def stop_other_schedulers(self, conn: Connection, me: str, now: int, reason: str) -> list[str]:
        """Mark every other live scheduler node stopped (SQLite: this node holds the file's
        scheduler lock, so any other scheduler node recorded as live is a dead process)."""
        query = select(node.c.id, node.c.roles).where(node.c.stopped_at.is_(None), node.c.id != me)
        gone = [nid for nid, roles in conn.execute(query).all() if "scheduler" in roles.split(",")]
        if gone:
            conn.execute(
                update(node)
                .where(node.c.id.in_(gone), node.c.stopped_at.is_(None))
                .values(stopped_at=now, stop_reason=reason)
            )
        return gone

    def all(
        self, conn: Connection, *, include_stopped_since: int | None = None
    ) -> list[NodeRecord]:
        query = select(node).order_by(node.c.started_at)
        if include_stopped_since is None:
            query = query.where(node.c.stopped_at.is_(None))
        else:
            query = query.where(
                node.c.stopped_at.is_(None) | (node.c.stopped_at >= include_stopped_since)
            )
        return [NodeRecord(**dict(r)) for r in conn.execute(query).mappings()]
