"""The run hook: called by the engine inside the transaction that records runs' ends, it
evaluates the rules and writes the alerts and their deliveries (the outbox) in that same
transaction, so an alert exists exactly when its outcome does, whichever node recorded it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, case, func, select

from tickwork.alerts.model import ENDED_STATUSES, FAILED_STATUSES, FAILURE_KINDS, Rule
from tickwork.alerts.outbox import clear_alerting, record_fire
from tickwork.alerts.repo import AlertRepo
from tickwork.alerts.rules import Fire, evaluate, run_facts
from tickwork.clock import Clock
from tickwork.engine.hooks import RunEnded
from tickwork.store.database import Database
from tickwork.store.tables import job, job_tag, run

JobInfo = tuple[str, str | None, frozenset[str]]  # name, group, tags


class SqlHistory:
    """What rules ask about a job's runs, read in the hook's transaction (so the runs being
    recorded count)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def recent_statuses(self, job_id: str, n: int) -> list[str]:
        rows = self.conn.execute(
            select(run.c.status)
            .where(run.c.job_id == job_id, run.c.status.in_(ENDED_STATUSES))
            .order_by(run.c.id.desc())
            .limit(n)
        ).all()
        return [r[0] for r in rows]

    def window_counts(self, job_id: str, since_us: int) -> tuple[int, int]:
        failed = func.sum(case((run.c.status.in_(sorted(FAILED_STATUSES)), 1), else_=0))
        row = self.conn.execute(
            select(func.count(), failed).where(
                run.c.job_id == job_id,
                run.c.status.in_(ENDED_STATUSES),
                run.c.finished_at >= since_us,
            )
        ).one()
        return int(row[0] or 0), int(row[1] or 0)

    def durations(self, job_id: str, exclude_run: int, limit: int) -> list[float]:
        rows = self.conn.execute(
            select(run.c.duration_s)
            .where(
                run.c.job_id == job_id,
                run.c.status == "succeeded",
                run.c.id != exclude_run,
                run.c.duration_s.is_not(None),
            )
            .order_by(run.c.id.desc())
            .limit(limit)
        ).all()
        return [float(r[0]) for r in rows]

    def result(self, run_id: int) -> str | None:
        value = self.conn.execute(select(run.c.result).where(run.c.id == run_id)).scalar()
        return None if value is None else str(value)


def job_infos(conn: Connection, ids: Iterable[str], with_tags: bool) -> dict[str, JobInfo]:
    wanted = sorted(set(ids))
    out: dict[str, JobInfo] = {}
    tags: dict[str, set[str]] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        for jid, name, group in conn.execute(
            select(job.c.id, job.c.name, job.c.group_name).where(job.c.id.in_(chunk))
        ).all():
            out[jid] = (name, group, frozenset())
        if with_tags:
            for jid, tag in conn.execute(
                select(job_tag.c.job_id, job_tag.c.tag).where(job_tag.c.job_id.in_(chunk))
            ).all():
                tags.setdefault(jid, set()).add(tag)
    for jid, found in tags.items():
        if jid in out:
            name, group, _ = out[jid]
            out[jid] = (name, group, frozenset(found))
    return out


class AlertHook:
    """``RunHooks`` subscriber. Rules are cached for ``ttl_s`` (a change made through this
    process's facade is seen at once; other processes' within the TTL)."""

    def __init__(self, db: Database, clock: Clock, repo: AlertRepo, ttl_s: float = 2.0) -> None:
        self.db = db
        self.clock = clock
        self.repo = repo
        self.ttl_s = ttl_s
        self._lock = threading.Lock()
        self._rules: list[Rule] = []
        self._loaded_at = -1.0

    def forget(self) -> None:
        with self._lock:
            self._loaded_at = -1.0

    def rules(self, conn: Connection) -> list[Rule]:
        with self._lock:
            fresh = self._loaded_at >= 0 and time.monotonic() - self._loaded_at < self.ttl_s
            if fresh:
                return self._rules
        rules = [r for r in self.repo.rules(conn) if r.enabled]
        with self._lock:
            self._rules, self._loaded_at = rules, time.monotonic()
        return rules

    def __call__(self, conn: Connection, ended: Sequence[RunEnded]) -> None:
        rules = self.rules(conn)
        if not rules:
            return
        now = self.clock.now_us()
        with_tags = any(r.scope == "tag" for r in rules)
        infos = job_infos(conn, (e.job_id for e in ended), with_tags)
        history = SqlHistory(conn)
        has_failure_rules = any(r.kind in FAILURE_KINDS for r in rules)
        for item in ended:
            name, group, tags = infos.get(item.job_id, (item.job_id, None, frozenset()))
            for rule in rules:
                if rule.kind == "recovery" or not rule.covers(item.job_id, group, tags):
                    continue
                fire = evaluate(rule, item, name, history)
                if fire is not None:
                    record_fire(self.db, conn, fire, now)
            if item.status == "succeeded" and has_failure_rules:
                self._recovered(conn, rules, item, name, group, tags, now)

    def _recovered(
        self,
        conn: Connection,
        rules: list[Rule],
        item: RunEnded,
        name: str,
        group: str | None,
        tags: frozenset[str],
        now: int,
    ) -> None:
        cleared = clear_alerting(self.db, conn, item.job_id, now)
        if not cleared:
            return
        facts: dict[str, Any] = {**run_facts(item, name), "recovered_from": cleared}
        for rule in rules:
            if rule.kind == "recovery" and rule.covers(item.job_id, group, tags):
                record_fire(
                    self.db, conn, Fire(rule, item.job_id, item.run_id, "recovery", facts), now
                )
