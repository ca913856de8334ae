"""The audit trail: who changed what, when, with the job before and after.

The facade calls ``AuditLog.record`` inside the transaction of each mutation, so a change
and its record commit together or not at all, whichever face asked for it. Secrets (the
kwargs a job lists in ``secret_keys``) are masked before anything is stored.
"""

from __future__ import annotations

import getpass
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, insert, select

from tickwork.executors.redact import MASK
from tickwork.store.bulk_rows import insert_rows
from tickwork.store.database import Database
from tickwork.store.records import JobRecord
from tickwork.store.tables_audit import audit_event

# What each action means; the API documents this list.
ACTIONS = (
    "job.create", "job.update", "job.reschedule", "job.remove", "job.pause", "job.resume",
    "job.run",
    "run.cancel", "scheduler.pause", "scheduler.resume",
    "user.create", "user.update", "user.delete", "user.password",
    "token.create", "token.revoke", "secrets.reencrypt",
    "connection.create", "connection.update", "connection.remove", "connection.test",
    "script.save", "script.remove",
)  # fmt: skip


def local_actor() -> str:
    """Who is acting when a local face (Python code, the CLI) gives no name."""
    try:
        return f"local:{getpass.getuser()}"[:100]
    except Exception:  # no user name in this environment
        return "local"


def redact_kwargs(kwargs: Mapping[str, Any], secret_keys: Iterable[str]) -> dict[str, Any]:
    keys = set(secret_keys)
    return {k: (MASK if k in keys and v not in (None, "") else v) for k, v in kwargs.items()}


def redacted_target(record: JobRecord) -> dict[str, Any]:
    target = dict(record.target)
    if record.target_kind == "python":  # other kinds keep no secrets in their spec
        target["kwargs"] = redact_kwargs(target.get("kwargs") or {}, record.secret_keys)
    return target


def snapshot(record: JobRecord | None) -> dict[str, Any] | None:
    """A job's stored row with its secrets masked: what the audit keeps of it."""
    if record is None:
        return None
    row = record.to_row()
    row["target"] = redacted_target(record)
    return row


def redacted_params(
    params: Mapping[str, Any] | None, secret_keys: Iterable[str]
) -> dict[str, Any] | None:
    if params is None:
        return None
    out = dict(params)
    if isinstance(out.get("kwargs"), Mapping):
        out["kwargs"] = redact_kwargs(out["kwargs"], secret_keys)
    return out


@dataclass(frozen=True, slots=True)
class AuditEvent:
    id: int
    at: int
    actor: str
    action: str
    job_id: str | None
    run_id: int | None
    subject: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    detail: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class AuditFilter:
    actor: str | None = None
    job_id: str | None = None
    action: str | None = None  # exact, or a prefix ending in "." ("job.")
    since: int | None = None  # at >= since
    until: int | None = None  # at < until


class AuditLog:
    """Writes (inside the caller's transaction) and reads audit events."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def record(
        self,
        conn: Connection,
        *,
        at: int,
        actor: str,
        action: str,
        job_id: str | None = None,
        run_id: int | None = None,
        subject: str | None = None,
        before: JobRecord | Mapping[str, Any] | None = None,
        after: JobRecord | Mapping[str, Any] | None = None,
        detail: Mapping[str, Any] | None = None,
    ) -> None:
        self.record_many(
            conn,
            [
                _row(
                    at=at,
                    actor=actor,
                    action=action,
                    job_id=job_id,
                    run_id=run_id,
                    subject=subject,
                    before=before,
                    after=after,
                    detail=detail,
                )
            ],
        )

    def record_many(self, conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            conn.execute(insert(audit_event), list(rows))

    def record_created(
        self,
        conn: Connection,
        *,
        at: int,
        actor: str,
        job_ids: Sequence[str],
        detail: Mapping[str, Any],
    ) -> None:
        """One lean ``job.create`` event per job of a bulk add: who, when, which job, and
        ``detail`` (the size of the bulk add), without the job's snapshot: a million
        snapshots doubled the time and the size of the write, and the job's definition at
        creation is its stored row (a later change records it as its ``before``)."""
        actor = (actor or "unknown")[:100]
        text = json.dumps(dict(detail))
        if conn.dialect.name == "sqlite":
            # The ids as one JSON array the database unpacks: no Python row per event (a
            # million events took 3 s through the driver's binding).
            conn.exec_driver_sql(
                f'INSERT INTO "{audit_event.name}" (at, actor, action, job_id, detail) '
                "SELECT ?, ?, 'job.create', value, ? FROM json_each(?) ORDER BY key",
                (at, actor, text, json.dumps(list(job_ids))),
            )
            return
        rows = [(at, actor, "job.create", job_id, text) for job_id in job_ids]
        insert_rows(conn, audit_event, ("at", "actor", "action", "job_id", "detail"), rows)

    @staticmethod
    def row(**fields: Any) -> dict[str, Any]:
        """A row for ``record_many`` (same keywords as ``record``)."""
        return _row(**fields)

    def page(
        self, flt: AuditFilter = AuditFilter(), *, before_id: int | None = None, limit: int = 100
    ) -> list[AuditEvent]:
        """Newest first; ``before_id`` is the cursor of the next page."""
        query = select(audit_event).where(*_conditions(flt)).order_by(audit_event.c.id.desc())
        if before_id is not None:
            query = query.where(audit_event.c.id < before_id)
        with self.db.read() as conn:
            rows = conn.execute(query.limit(limit)).mappings().all()
        return [AuditEvent(**dict(r)) for r in rows]

    def count(self, flt: AuditFilter = AuditFilter()) -> int:
        query = select(func.count()).select_from(audit_event).where(*_conditions(flt))
        with self.db.read() as conn:
            return int(conn.execute(query).scalar_one())


def _row(
    *,
    at: int,
    actor: str,
    action: str,
    job_id: str | None = None,
    run_id: int | None = None,
    subject: str | None = None,
    before: JobRecord | Mapping[str, Any] | None = None,
    after: JobRecord | Mapping[str, Any] | None = None,
    detail: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "at": at,
        "actor": (actor or "unknown")[:100],
        "action": action,
        "job_id": job_id,
        "run_id": run_id,
        "subject": None if subject is None else subject[:191],
        "before": _object(before),
        "after": _object(after),
        "detail": None if detail is None else dict(detail),
    }


def _object(value: JobRecord | Mapping[str, Any] | None) -> dict[str, Any] | None:
    if value is None:
        return None
    if isinstance(value, JobRecord):
        return snapshot(value)
    return dict(value)


def _conditions(flt: AuditFilter) -> list[Any]:
    c = audit_event.c
    conds: list[Any] = []
    if flt.actor is not None:
        conds.append(c.actor == flt.actor)
    if flt.job_id is not None:
        conds.append(c.job_id == flt.job_id)
    if flt.action is not None:
        if flt.action.endswith("."):
            escaped = flt.action.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            conds.append(c.action.like(escaped + "%", escape="\\"))
        else:
            conds.append(c.action == flt.action)
    if flt.since is not None:
        conds.append(c.at >= flt.since)
    if flt.until is not None:
        conds.append(c.at < flt.until)
    return conds
