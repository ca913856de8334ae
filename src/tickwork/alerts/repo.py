"""Rows of rules and channels (definitions) and the reads of the alert history."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from tickwork.alerts.model import Quiet, Rule, check_quiet
from tickwork.errors import Conflict
from tickwork.store.tables_alerts import (
    alert,
    alert_attempt,
    alert_channel,
    alert_delivery,
    alert_rule,
)


@dataclass(frozen=True, slots=True)
class ChannelRecord:
    name: str
    kind: str
    description: str
    language: str
    public: dict[str, Any]
    secret: str | None  # sealed by the vault
    enabled: bool
    version: int
    created_at: int
    created_by: str | None
    updated_at: int
    updated_by: str | None


def _channel(row: Any) -> ChannelRecord:
    return ChannelRecord(**{k: row[k] for k in ChannelRecord.__dataclass_fields__})


def _rule(row: Any) -> Rule:
    quiet: Quiet | None = check_quiet(row["quiet"]) if row["quiet"] else None
    return Rule(
        id=row["id"],
        kind=row["kind"],
        scope=row["scope"],
        scope_value=row["scope_value"],
        params=dict(row["params"] or {}),
        severity=row["severity"],
        dedupe_s=int(row["dedupe_s"]),
        quiet=quiet,
        channels=tuple(row["channels"] or ()),
        enabled=bool(row["enabled"]),
        description=row["description"],
        version=int(row["version"]),
        created_at=row["created_at"],
        created_by=row["created_by"],
        updated_at=row["updated_at"],
        updated_by=row["updated_by"],
    )


def _rule_row(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "description": rule.description,
        "kind": rule.kind,
        "scope": rule.scope,
        "scope_value": rule.scope_value,
        "params": dict(rule.params),
        "severity": rule.severity,
        "dedupe_s": rule.dedupe_s,
        "quiet": rule.quiet.to_json() if rule.quiet else None,
        "channels": list(rule.channels),
        "enabled": rule.enabled,
        "version": rule.version,
        "created_at": rule.created_at,
        "created_by": rule.created_by,
        "updated_at": rule.updated_at,
        "updated_by": rule.updated_by,
    }


def _stale(kind: str, name: str) -> Conflict:
    return Conflict(
        "version",
        f"{kind} {name!r} changed meanwhile; reload it",
        code="stale_version",
        params={"name": name},
    )


class AlertRepo:
    # -- rules ---------------------------------------------------------------------------------
    def rules(self, conn: Connection) -> list[Rule]:
        rows = conn.execute(select(alert_rule).order_by(alert_rule.c.id)).mappings()
        return [_rule(r) for r in rows]

    def rule(self, conn: Connection, rule_id: str) -> Rule | None:
        row = conn.execute(select(alert_rule).where(alert_rule.c.id == rule_id)).mappings().first()
        return None if row is None else _rule(row)

    def insert_rule(self, conn: Connection, rule: Rule) -> None:
        try:
            with conn.begin_nested():
                conn.execute(insert(alert_rule).values(**_rule_row(rule)))
        except IntegrityError:
            raise Conflict(
                "id",
                f"an alert rule {rule.id!r} already exists",
                code="duplicate_alert_rule",
                params={"id": rule.id},
            ) from None

    def update_rule(self, conn: Connection, rule: Rule, expected_version: int) -> None:
        values = _rule_row(rule)
        for key in ("id", "created_at", "created_by"):
            del values[key]
        done = conn.execute(
            update(alert_rule)
            .where(alert_rule.c.id == rule.id, alert_rule.c.version == expected_version)
            .values(**values)
        )
        if done.rowcount != 1:
            raise _stale("alert rule", rule.id)

    def delete_rule(self, conn: Connection, rule_id: str) -> bool:
        return bool(conn.execute(delete(alert_rule).where(alert_rule.c.id == rule_id)).rowcount)

    # -- channels ------------------------------------------------------------------------------
    def channels(self, conn: Connection) -> list[ChannelRecord]:
        rows = conn.execute(select(alert_channel).order_by(alert_channel.c.name)).mappings()
        return [_channel(r) for r in rows]

    def channel(self, conn: Connection, name: str, *, lock: bool = False) -> ChannelRecord | None:
        query = select(alert_channel).where(alert_channel.c.name == name)
        if lock:
            query = query.with_for_update()
        row = conn.execute(query).mappings().first()
        return None if row is None else _channel(row)

    def insert_channel(self, conn: Connection, record: ChannelRecord) -> None:
        try:
            with conn.begin_nested():
                conn.execute(insert(alert_channel).values(**_crow(record)))
        except IntegrityError:
            raise Conflict(
                "name",
                f"an alert channel named {record.name!r} already exists",
                code="duplicate_alert_channel",
                params={"name": record.name},
            ) from None

    def update_channel(self, conn: Connection, record: ChannelRecord, expected: int) -> None:
        values = _crow(record)
        for key in ("name", "created_at", "created_by"):
            del values[key]
        done = conn.execute(
            update(alert_channel)
            .where(alert_channel.c.name == record.name, alert_channel.c.version == expected)
            .values(**values)
        )
        if done.rowcount != 1:
            raise _stale("alert channel", record.name)

    def delete_channel(self, conn: Connection, name: str) -> bool:
        done = conn.execute(delete(alert_channel).where(alert_channel.c.name == name))
        return bool(done.rowcount)

    # -- history -------------------------------------------------------------------------------
    def history(
        self,
        conn: Connection,
        *,
        rule_id: str | None = None,
        job_id: str | None = None,
        channel: str | None = None,
        status: str | None = None,
        severity: str | None = None,
        since: int | None = None,
        until: int | None = None,
        before_id: int | None = None,
        limit: int = 50,
    ) -> list[dict[str, Any]]:
        """Alerts newest first, each with its deliveries. ``status`` filters on the alert
        (queued, deduplicated) or on a delivery's (pending, sending, delivered, failed)."""
        query = select(alert).order_by(alert.c.id.desc()).limit(limit)
        if rule_id is not None:
            query = query.where(alert.c.rule_id == rule_id)
        if job_id is not None:
            query = query.where(alert.c.job_id == job_id)
        if severity is not None:
            query = query.where(alert.c.severity == severity)
        if since is not None:
            query = query.where(alert.c.created_at >= since)
        if until is not None:
            query = query.where(alert.c.created_at < until)
        if before_id is not None:
            query = query.where(alert.c.id < before_id)
        if status in ("queued", "deduplicated"):
            query = query.where(alert.c.status == status)
        if channel is not None or status in ("pending", "sending", "delivered", "failed"):
            sub = select(alert_delivery.c.alert_id)
            if channel is not None:
                sub = sub.where(alert_delivery.c.channel == channel)
            if status in ("pending", "sending", "delivered", "failed"):
                sub = sub.where(alert_delivery.c.status == status)
            query = query.where(alert.c.id.in_(sub))
        rows = [dict(r) for r in conn.execute(query).mappings()]
        return self._with_deliveries(conn, rows)

    def alert(self, conn: Connection, alert_id: int) -> dict[str, Any] | None:
        row = conn.execute(select(alert).where(alert.c.id == alert_id)).mappings().first()
        if row is None:
            return None
        out = self._with_deliveries(conn, [dict(row)])[0]
        attempts = conn.execute(
            select(alert_attempt)
            .where(alert_attempt.c.alert_id == alert_id)
            .order_by(alert_attempt.c.id)
        ).mappings()
        out["attempts"] = [dict(a) for a in attempts]
        return out

    def _with_deliveries(
        self, conn: Connection, rows: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        ids = [r["id"] for r in rows]
        by_alert: dict[int, list[dict[str, Any]]] = {}
        if ids:
            found = conn.execute(
                select(alert_delivery)
                .where(alert_delivery.c.alert_id.in_(ids))
                .order_by(alert_delivery.c.id)
            ).mappings()
            for d in found:
                by_alert.setdefault(d["alert_id"], []).append(dict(d))
        for row in rows:
            row["deliveries"] = by_alert.get(row["id"], [])
        return rows

    def count_deliveries(self, conn: Connection, alert_ids: Sequence[int]) -> int:
        return int(
            conn.execute(
                select(func.count()).where(alert_delivery.c.alert_id.in_(list(alert_ids)))
            ).scalar_one()
        )


def _crow(record: ChannelRecord) -> dict[str, Any]:
    return {k: getattr(record, k) for k in ChannelRecord.__dataclass_fields__}
