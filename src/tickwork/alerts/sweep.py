"""The periodic sweep, run by any node (one at a time, by a lease row): it raises what no run
outcome can, the dead-man alert of a job that stopped running (no successful run by the time
its trigger says one was due, plus a grace), computed from the trigger so it fires even when
no node runs the job; and the dedupe summaries ("and 12 more") of windows that ended."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, select, update

from tickwork.alerts.hook import job_infos
from tickwork.alerts.model import Rule
from tickwork.alerts.outbox import ANY_JOB, lock_state, record_fire
from tickwork.alerts.repo import AlertRepo
from tickwork.alerts.rules import Fire
from tickwork.engine.trigger_cache import trigger_of
from tickwork.store.database import Database
from tickwork.store.tables import job, run
from tickwork.store.tables_alerts import alert_state

LEASE_RULE = "~sweep"


def take_turn(db: Database, now: int, every_s: float) -> bool:
    """Whether this node sweeps now: one node per ``every_s``, decided under a row lock."""
    with db.write() as conn:
        lease = lock_state(db, conn, LEASE_RULE, ANY_JOB)
        last = lease["last_event_at"]
        if last is not None and now - int(last) < every_s * 1_000_000 and now >= int(last):
            return False
        conn.execute(
            update(alert_state)
            .where(alert_state.c.rule_id == LEASE_RULE, alert_state.c.job_id == ANY_JOB)
            .values(last_event_at=now)
        )
    return True


def sweep(db: Database, repo: AlertRepo, now: int) -> int:
    """One sweep (the caller took the turn). Returns the alerts recorded."""
    with db.read() as conn:
        rules = [r for r in repo.rules(conn) if r.enabled]
        dead = _dead_men(conn, [r for r in rules if r.kind == "missed"], now)
    recorded = 0
    with db.write() as conn:
        for fire in dead:
            state = lock_state(db, conn, fire.rule.id, fire.job_id or ANY_JOB)
            if state["alerting"]:
                continue  # said once; the next success recovers it
            record_fire(db, conn, fire, now)
            recorded += 1
        recorded += _summaries(db, conn, {r.id: r for r in rules}, now)
    return recorded


def _dead_men(conn: Connection, rules: list[Rule], now: int) -> list[Fire]:
    if not rules:
        return []
    rows = conn.execute(
        select(job.c.id, job.c.trigger, job.c.updated_at, job.c.created_at).where(
            job.c.paused.is_(False), job.c.next_fire_at.is_not(None)
        )
    ).all()
    infos = job_infos(conn, [r[0] for r in rows], any(r.scope == "tag" for r in rules))
    covered: dict[str, list[Rule]] = {}
    for jid, *_ in rows:
        _, group, tags = infos.get(jid, (jid, None, frozenset()))
        hits = [r for r in rules if r.covers(jid, group, tags)]
        if hits:
            covered[jid] = hits
    if not covered:
        return []
    last_ok: dict[str, int] = {}
    ids = sorted(covered)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for jid, at in conn.execute(
            select(run.c.job_id, func.max(run.c.scheduled_for))
            .where(run.c.job_id.in_(chunk), run.c.status == "succeeded")
            .group_by(run.c.job_id)
        ).all():
            last_ok[jid] = int(at)
    fires = []
    for jid, spec, updated_at, _created in rows:
        if jid not in covered:
            continue
        since = max(last_ok.get(jid, 0), int(updated_at))
        try:
            expected = trigger_of(dict(spec)).next_fire_us(since)
        except Exception:  # a spec this version cannot read: the loop reports it
            continue
        if expected is None:
            continue
        for rule in covered[jid]:
            grace = int(rule.params.get("grace_s", 300))
            if now > expected + grace * 1_000_000:
                facts: dict[str, Any] = {
                    "job_id": jid,
                    "job_name": infos.get(jid, (jid,))[0],
                    "status": "missed",
                    "dead_man": True,
                    "expected_at": expected,
                    "grace_s": grace,
                }
                if jid in last_ok:
                    facts["last_success_at"] = last_ok[jid]
                fires.append(Fire(rule, jid, None, "missed", facts))
    return fires


def _summaries(db: Database, conn: Connection, rules: dict[str, Rule], now: int) -> int:
    rows = conn.execute(
        select(alert_state.c.rule_id, alert_state.c.job_id, alert_state.c.suppressed)
        .where(alert_state.c.suppressed > 0, alert_state.c.window_until <= now)
        .order_by(alert_state.c.rule_id, alert_state.c.job_id)
        .with_for_update()
    ).all()
    done = 0
    names = job_infos(conn, [r[1] for r in rows if r[1] != ANY_JOB], False)
    for rule_id, job_id, suppressed in rows:
        conn.execute(
            update(alert_state)
            .where(alert_state.c.rule_id == rule_id, alert_state.c.job_id == job_id)
            .values(suppressed=0)
        )
        rule = rules.get(rule_id)
        if rule is None:
            continue
        jid = None if job_id == ANY_JOB else job_id
        facts = {
            "job_id": jid,
            "job_name": names.get(job_id, (job_id,))[0] if jid else None,
            "count": int(suppressed),
            "rule_kind": rule.kind,
            "dedupe_s": rule.dedupe_s,
        }
        record_fire(db, conn, Fire(rule, jid, None, "summary", facts), now)
        done += 1
    return done
