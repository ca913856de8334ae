"""The outbox: alerts and their deliveries are written in the caller's transaction (the one
that records the run outcome), and nodes claim deliveries like runs: rows locked with SKIP
LOCKED where the dialect has it (SQLite's write transaction is exclusive already), a lease
that another node takes over if the claimer dies, and every attempt recorded.

Per rule and job one state row is locked by whoever records an event of the pair, so every
node agrees on the dedupe window: the first event of a window is sent, the next ones are
counted, and the periodic sweep sends one summary ("and 12 more") when the window ends."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, func, insert, or_, select, update
from sqlalchemy.dialects import mysql, postgresql, sqlite

from tickwork.alerts import counters
from tickwork.alerts.model import FAILURE_KINDS
from tickwork.alerts.repo import AlertRepo, ChannelRecord
from tickwork.alerts.rules import Fire, quiet_until
from tickwork.store.database import Database
from tickwork.store.tables_alerts import (
    alert,
    alert_attempt,
    alert_delivery,
    alert_state,
)

ANY_JOB = "*"
LEASE_S = 120  # a claimed send that is not recorded within this is taken over
MAX_ATTEMPTS = 8
# Per-channel-kind limits shared by every node: (window seconds, sends). DingTalk and WeCom
# robots take 20 a minute; Feishu 100 a minute and 5 a second; Slack about one a second.
RATE_LIMITS: dict[str, tuple[tuple[int, int], ...]] = {
    "dingtalk": ((60, 20),),
    "wecom": ((60, 20),),
    "feishu": ((60, 100), (1, 5)),
    "slack": ((60, 60),),
}


def backoff_s(attempts: int) -> int:
    """Seconds before the next try after ``attempts`` failed ones: 30 s doubling to 1 h."""
    return int(min(3600, 30 * 2 ** max(0, attempts - 1)))


def _insert_ignore(db: Database, table: Any) -> Any:
    if db.is_postgres:
        return postgresql.insert(table).on_conflict_do_nothing()
    if db.is_sqlite:
        return sqlite.insert(table).on_conflict_do_nothing()
    return mysql.insert(table).prefix_with("IGNORE")


def lock_state(db: Database, conn: Connection, rule_id: str, job_id: str) -> dict[str, Any]:
    """The state row of (rule, job), created if missing, locked until the transaction ends."""
    conn.execute(
        _insert_ignore(db, alert_state).values(
            rule_id=rule_id, job_id=job_id, window_until=0, suppressed=0, alerting=False
        )
    )
    row = (
        conn.execute(
            select(alert_state)
            .where(alert_state.c.rule_id == rule_id, alert_state.c.job_id == job_id)
            .with_for_update()
        )
        .mappings()
        .one()
    )
    return dict(row)


def _set_state(conn: Connection, rule_id: str, job_id: str, **values: Any) -> None:
    conn.execute(
        update(alert_state)
        .where(alert_state.c.rule_id == rule_id, alert_state.c.job_id == job_id)
        .values(**values)
    )


@dataclass(frozen=True, slots=True)
class Recorded:
    alert_id: int
    status: str  # queued, deduplicated
    deliveries: int


def record_fires(db: Database, conn: Connection, fires: Sequence[Fire], now: int) -> list[Recorded]:
    """Record the alerts ``fires`` raise, in ``conn``'s transaction: dedupe against each
    pair's window, hold deliveries for quiet hours, one delivery per channel."""
    out: list[Recorded] = []
    # One lock order for every writer (no deadlock between two nodes' batches).
    for fire in sorted(fires, key=lambda f: (f.rule.id, f.job_id or ANY_JOB)):
        out.append(record_fire(db, conn, fire, now))
    return out


def record_fire(db: Database, conn: Connection, fire: Fire, now: int) -> Recorded:
    rule = fire.rule
    job_key = fire.job_id or ANY_JOB
    state = lock_state(db, conn, rule.id, job_key)
    alerting = bool(state["alerting"]) or rule.kind in FAILURE_KINDS
    if fire.kind != "summary" and rule.dedupe_s > 0 and state["window_until"] > now:
        _set_state(
            conn,
            rule.id,
            job_key,
            suppressed=state["suppressed"] + 1,
            alerting=alerting,
            last_event_at=now,
        )
        alert_id = _insert_alert(conn, fire, "deduplicated", now)
        counters.add("deduplicated", "", rule.id)
        return Recorded(alert_id, "deduplicated", 0)
    if fire.kind != "summary":
        _set_state(
            conn,
            rule.id,
            job_key,
            window_until=now + rule.dedupe_s * 1_000_000,
            alerting=alerting,
            last_event_at=now,
        )
    alert_id = _insert_alert(conn, fire, "queued", now)
    due = quiet_until(rule.quiet, now) or now
    if rule.channels:
        conn.execute(
            insert(alert_delivery),
            [
                {
                    "alert_id": alert_id,
                    "channel": name,
                    "status": "pending",
                    "attempts": 0,
                    "next_attempt_at": due,
                    "created_at": now,
                }
                for name in rule.channels
            ],
        )
    return Recorded(alert_id, "queued", len(rule.channels))


def _insert_alert(conn: Connection, fire: Fire, status: str, now: int) -> int:
    done = conn.execute(
        insert(alert).values(
            rule_id=fire.rule.id,
            kind=fire.kind,
            job_id=fire.job_id,
            run_id=fire.run_id,
            severity=fire.rule.severity,
            status=status,
            facts=fire.facts,
            created_at=now,
        )
    )
    key = done.inserted_primary_key
    return int(key[0]) if key else 0


def clear_alerting(db: Database, conn: Connection, job_id: str, now: int) -> list[str]:
    """A success of ``job_id``: the failure rules alerting for it stop; returns their ids.
    Each row is switched off by a conditional UPDATE, so of two nodes recording successes of
    one job at once only one sees it change (and sends the recovery)."""
    rows = conn.execute(
        select(alert_state.c.rule_id).where(
            alert_state.c.job_id == job_id, alert_state.c.alerting.is_(True)
        )
    ).all()
    cleared = []
    for (rule_id,) in sorted(rows):
        done = conn.execute(
            update(alert_state)
            .where(
                alert_state.c.rule_id == rule_id,
                alert_state.c.job_id == job_id,
                alert_state.c.alerting.is_(True),
            )
            .values(alerting=False, last_event_at=now)
        )
        if done.rowcount:
            cleared.append(rule_id)
    return cleared


# -- claiming and recording sends ----------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Claimed:
    delivery_id: int
    attempt_id: int
    attempts: int  # including this one
    channel: ChannelRecord | None  # None: the channel was removed
    alert: dict[str, Any]


def _due(now: int) -> Any:
    d = alert_delivery
    return or_(
        and_(d.c.status == "pending", d.c.next_attempt_at <= now),
        and_(d.c.status == "sending", d.c.lease_until < now),
    )


def anything_due(db: Database, now: int) -> bool:
    """Whether a delivery is due (a cheap indexed read before a claim)."""
    with db.read() as conn:
        found = conn.execute(select(alert_delivery.c.id).where(_due(now)).limit(1)).first()
    return found is not None


def claim(db: Database, repo: AlertRepo, node_id: str, now: int, limit: int = 20) -> list[Claimed]:
    """Take up to ``limit`` due deliveries for this node (rate limits of each channel counted
    across all nodes from the attempts table, under the channel row's lock)."""
    d = alert_delivery
    with db.write() as conn:
        query = (
            select(d.c.id, d.c.alert_id, d.c.channel, d.c.attempts)
            .where(_due(now))
            .order_by(d.c.next_attempt_at, d.c.id)
            .limit(limit)
        )
        if db.skip_locked:
            query = query.with_for_update(skip_locked=True)
        rows = conn.execute(query).all()
        if not rows:
            return []
        by_channel: dict[str, list[Any]] = {}
        for row in rows:
            by_channel.setdefault(row.channel, []).append(row)
        taken: list[tuple[Any, ChannelRecord | None]] = []
        for name in sorted(by_channel):
            record = repo.channel(conn, name, lock=True)
            wanted = by_channel[name]
            room = len(wanted) if record is None else _room(conn, record, now, len(wanted))
            for row in wanted[room:]:  # over the limit: try again when the window moves on
                conn.execute(
                    update(d)
                    .where(d.c.id == row.id)
                    .values(status="pending", next_attempt_at=now + 1_000_000, lease_until=None)
                )
            taken += [(row, record) for row in wanted[:room]]
        alerts = {
            r["id"]: dict(r)
            for r in conn.execute(
                select(alert).where(alert.c.id.in_({row.alert_id for row, _ in taken}))
            ).mappings()
        }
        out = []
        for row, record in taken:
            done = conn.execute(
                insert(alert_attempt).values(
                    delivery_id=row.id,
                    alert_id=row.alert_id,
                    channel=row.channel,
                    node_id=node_id,
                    started_at=now,
                )
            )
            key = done.inserted_primary_key
            conn.execute(
                update(d)
                .where(d.c.id == row.id)
                .values(
                    status="sending",
                    attempts=row.attempts + 1,
                    lease_until=now + LEASE_S * 1_000_000,
                    node_id=node_id,
                )
            )
            out.append(
                Claimed(
                    row.id,
                    int(key[0]) if key else 0,
                    row.attempts + 1,
                    record,
                    alerts.get(row.alert_id, {}),
                )
            )
        return out


def _room(conn: Connection, channel: ChannelRecord, now: int, wanted: int) -> int:
    room = wanted
    for window_s, most in RATE_LIMITS.get(channel.kind, ()):
        used = conn.execute(
            select(func.count()).where(
                alert_attempt.c.channel == channel.name,
                alert_attempt.c.started_at > now - window_s * 1_000_000,
            )
        ).scalar_one()
        room = min(room, max(0, most - int(used)))
    return room


@dataclass(frozen=True, slots=True)
class SendResult:
    ok: bool
    status_code: int | None = None
    response: str | None = None  # an excerpt, secrets masked
    error: str | None = None
    retry_after_s: float | None = None  # the service asked to wait (a rate limit)


def finish(
    db: Database,
    claimed: Claimed,
    node_id: str,
    result: SendResult,
    now: int,
    rule_id: str,
) -> str:
    """Record the attempt and move the delivery on: delivered, pending again (backoff) or
    failed after MAX_ATTEMPTS. Returns the delivery's new status."""
    d = alert_delivery
    if result.ok:
        values: dict[str, Any] = {"status": "delivered", "delivered_at": now, "lease_until": None}
        status = "delivered"
    elif claimed.attempts >= MAX_ATTEMPTS or not (claimed.channel and claimed.channel.enabled):
        values = {"status": "failed", "lease_until": None}
        status = "failed"
    else:
        wait = max(backoff_s(claimed.attempts), result.retry_after_s or 0)
        values = {
            "status": "pending",
            "next_attempt_at": now + int(wait * 1_000_000),
            "lease_until": None,
        }
        status = "pending"
    if not result.ok:
        values["last_error"] = (result.error or result.response or "")[:1000]
    with db.write() as conn:
        conn.execute(
            update(alert_attempt)
            .where(alert_attempt.c.id == claimed.attempt_id)
            .values(
                finished_at=now,
                ok=result.ok,
                status_code=result.status_code,
                response=(result.response or None) and result.response[:1000],
                error=(result.error or None) and str(result.error)[:1000],
            )
        )
        # Only while this node still holds the lease (a node that took over decides).
        conn.execute(
            update(d)
            .where(d.c.id == claimed.delivery_id, d.c.node_id == node_id, d.c.status == "sending")
            .values(**values)
        )
    channel = claimed.channel.name if claimed.channel else "?"
    counters.add("sent" if result.ok else "failed", channel, rule_id)
    return status
