"""Run-history retention: runs by age and by count per job (running ones kept), alert history
and audit events by age, in bounded batches; the built-in job shows in the job list and
prunes when it runs on a node."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, insert, select

from tests.alerts.conftest import SEC, T0, settings_for
from tickwork import Tickwork
from tickwork.clock import FakeClock
from tickwork.retention import JOB_ID
from tickwork.store.retention import DAY_US, Policy, Pruner
from tickwork.store.tables import run
from tickwork.store.tables_alerts import alert, alert_attempt, alert_delivery
from tickwork.store.tables_audit import audit_event

Make = Callable[..., Tickwork]


def add_runs(tw: Tickwork, job_id: str, n: int, at: int, status: str = "succeeded") -> None:
    rows = [
        {"job_id": job_id, "scheduled_for": at + i, "due_at": at + i, "attempt": 1,
         "reason": "schedule", "status": status, "created_at": at + i, "finished_at": at + i}
        for i in range(n)
    ]  # fmt: skip
    with tw.store.db.write() as conn:
        conn.execute(insert(run), rows)


def count(tw: Tickwork, table: object, *where: object) -> int:
    with tw.store.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())  # type: ignore[arg-type]


def test_runs_by_age_and_count_in_batches(make_tw: Make, clock: FakeClock) -> None:
    tw = make_tw()
    old = T0 - 40 * DAY_US
    add_runs(tw, "a", 1234, old)
    add_runs(tw, "a", 3, old - 5000, status="running")  # never deleted, however old
    add_runs(tw, "b", 50, T0 - DAY_US)
    add_runs(tw, "b", 7, old + 10_000, status="failed")
    policy = Policy(runs_keep_days=30, runs_keep_per_job=20, alerts_keep_days=None,
                    audit_keep_days=None, batch=100, pause_s=0.001, min_batch=100,
                    max_batch=100)  # fmt: skip
    pauses: list[float] = []
    result = Pruner(tw.store.db, policy, sleep=pauses.append).run(T0)
    assert result.runs_by_age == 1234 + 7
    assert result.runs_by_count == 30  # b kept its newest 20
    assert count(tw, run, run.c.job_id == "a") == 3
    assert count(tw, run, run.c.job_id == "a", run.c.status == "running") == 3
    assert count(tw, run, run.c.job_id == "b") == 20
    newest = [r.scheduled_for for r in tw.get_runs(job_id="b", limit=100)]
    assert min(newest) == T0 - DAY_US + 30
    # 13 batches for age (12 full + 1 short), then count: one full batch of... 30 < 100: one
    assert result.batches == 13 + 1
    assert len(pauses) == 12  # a pause after each full batch only
    assert Pruner(tw.store.db, policy).run(T0).as_dict()["runs_by_age"] == 0


def test_batches_shrink_to_hold_the_lock_briefly_and_pause_in_proportion(
    make_tw: Make,
) -> None:
    """Every batch here "takes" 0.1 s (an injected timer): over the 0.05 s target, so the size
    halves down to the minimum, and each pause is 3 x the batch's time."""
    tw = make_tw()
    add_runs(tw, "a", 300, T0 - 40 * DAY_US)
    ticks = iter(range(10_000))
    policy = Policy(runs_keep_days=30, runs_keep_per_job=None, alerts_keep_days=None,
                    audit_keep_days=None, batch=80, target_s=0.05, min_batch=10)  # fmt: skip
    pauses: list[float] = []
    pruner = Pruner(tw.store.db, policy, sleep=pauses.append, timer=lambda: next(ticks) / 10)
    sizes = []
    real = pruner._batched

    def spy(batch: Any) -> int:
        def sized(conn: Any, limit: int) -> int:
            sizes.append(limit)
            return batch(conn, limit)  # type: ignore[no-any-return]

        return real(sized)

    pruner._batched = spy  # type: ignore[method-assign]
    assert pruner.run(T0).runs_by_age == 300
    assert sizes[:5] == [80, 40, 20, 10, 10]
    assert pauses == pytest.approx([0.3] * len(pauses))
    assert len(pauses) == len(sizes) - 1  # none after the last (short) batch


def test_alert_history_and_audit_by_age(make_tw: Make, clock: FakeClock) -> None:
    tw = make_tw()
    old = T0 - 100 * DAY_US
    with tw.store.db.write() as conn:
        for i, (at, status) in enumerate(
            [(old, "delivered"), (old + 1, "pending"), (old + 2, "delivered"), (T0, "delivered")]
        ):
            aid = conn.execute(
                insert(alert).values(
                    kind="failed", severity="warning", status="queued", facts={}, created_at=at
                )
            ).inserted_primary_key[0]  # type: ignore[index]
            did = conn.execute(
                insert(alert_delivery).values(
                    alert_id=aid,
                    channel="c",
                    status=status,
                    attempts=1,
                    next_attempt_at=at,
                    created_at=at,
                )
            ).inserted_primary_key[0]  # type: ignore[index]
            conn.execute(insert(alert_attempt).values(delivery_id=did, alert_id=aid, channel="c",
                                                      started_at=at))  # fmt: skip
            conn.execute(
                insert(audit_event).values(
                    at=old - 300 * DAY_US + i, actor="t", action="job.create"
                )
            )
    result = tw.prune_history(alerts_keep_days=90, audit_keep_days=365, runs_keep_days=None,
                              runs_keep_per_job=None)  # fmt: skip
    assert result["alerts"] == 1  # the one before the alert still pending
    assert count(tw, alert) == 3
    assert count(tw, alert_delivery) == 3
    assert count(tw, alert_attempt) == 3
    assert result["audit_events"] == 4


def test_the_builtin_job_is_listed_and_prunes_when_it_runs(
    tmp_path: Path, clock: FakeClock
) -> None:
    from dataclasses import replace

    from tickwork.engine.node import NodeOptions

    settings = replace(settings_for(tmp_path, None), retention=True, runs_keep_days=30)
    tw = Tickwork(settings=settings, clock=clock, node_options=NodeOptions(shutdown_wait_s=5))
    try:
        add_runs(tw, "gone", 700, T0 - 31 * DAY_US)
        tw.start()
        job = tw.get_job(JOB_ID)
        assert job is not None
        assert (job.group, job.record.owner) == ("tickwork", "builtin")
        assert job.id in [j.id for j in tw.get_jobs()]
        run_id = tw.run_job(JOB_ID)
        import time

        deadline = time.monotonic() + 20
        while (r := tw.get_run(run_id)).finished_at is None:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert r.status == "succeeded", r.error
        assert '"runs_by_age": 700' in (r.result or "")
        assert count(tw, run, run.c.job_id == "gone") == 0
        clock.advance(7 * 60 + 1)  # it is scheduled hourly at :07
        assert tw.get_job(JOB_ID).next_run_time is not None  # type: ignore[union-attr]
    finally:
        tw.close()


def test_retention_is_off_unless_asked_when_embedded(make_tw: Make) -> None:
    tw = make_tw()
    tw.start()
    assert tw.get_job(JOB_ID) is None
    from tickwork.settings import Settings

    assert Settings.from_env({"TICKWORK_RETENTION": "on"}).retention is True
    assert Settings.from_env({"TICKWORK_RUNS_KEEP_DAYS": "forever"}).runs_keep_days is None
    with pytest.raises(ValueError, match="TICKWORK_RUNS_KEEP_PER_JOB"):
        Settings.from_env({"TICKWORK_RUNS_KEEP_PER_JOB": "lots"})
    assert SEC


def test_pruning_on_every_backend(db_url: str, tmp_path: Path, clock: FakeClock) -> None:
    """The same statements on SQLite, PostgreSQL and MariaDB: age, count per job, alerts."""
    tw = Tickwork(settings=settings_for(tmp_path, db_url), clock=clock)
    try:
        add_runs(tw, "a", 250, T0 - 40 * DAY_US)
        add_runs(tw, "a", 2, T0 - 50 * DAY_US, status="scheduled")
        add_runs(tw, "b", 60, T0 - DAY_US)
        with tw.store.db.write() as conn:
            conn.execute(insert(alert).values(kind="failed", severity="info", status="queued",
                                              facts={}, created_at=T0 - 100 * DAY_US))  # fmt: skip
        result = tw.prune_history(runs_keep_per_job=50, batch=40)
        assert (result["runs_by_age"], result["runs_by_count"], result["alerts"]) == (250, 10, 1)
        assert count(tw, run) == 2 + 50
    finally:
        tw.close()


def test_one_statement_per_batch_on_every_backend(
    db_url: str, tmp_path: Path, clock: FakeClock
) -> None:
    """Each batch is one DELETE whose rows the database picks (no id list read into the
    scheduler's process and bound back): it honours the age and the per-job count, never
    touches scheduled or running runs, and stops at a short batch, on all three dialects."""
    from sqlalchemy import event

    tw = Tickwork(settings=settings_for(tmp_path, db_url), clock=clock)
    sent: list[tuple[str, Any]] = []

    def seen(_c: Any, _cur: Any, statement: str, params: Any, *_: Any) -> None:
        sent.append((statement, params))

    try:
        old = T0 - 40 * DAY_US
        add_runs(tw, "a", 95, old)
        add_runs(tw, "a", 2, old - 10, status="running")
        add_runs(tw, "a", 3, old - 20, status="scheduled")
        add_runs(tw, "b", 30, T0 - DAY_US)  # recent: only the count applies
        add_runs(tw, "b", 2, T0 - 2 * DAY_US, status="scheduled")  # its oldest, kept anyway
        events = [
            {"at": old - 400 * DAY_US + i, "actor": "t", "action": "job.create"} for i in range(25)
        ]
        with tw.store.db.write() as conn:
            conn.execute(insert(audit_event), events)
        policy = Policy(runs_keep_days=30, runs_keep_per_job=12, alerts_keep_days=None,
                        audit_keep_days=365, batch=20, pause_s=0, min_batch=20,
                        max_batch=20)  # fmt: skip
        event.listen(tw.store.db.engine, "before_cursor_execute", seen)
        try:
            result = Pruner(tw.store.db, policy, sleep=lambda _s: None).run(T0)
        finally:
            event.remove(tw.store.db.engine, "before_cursor_execute", seen)
        assert (result.runs_by_age, result.runs_by_count, result.audit_events) == (95, 20, 25)
        assert count(tw, run, run.c.job_id == "a") == 5
        assert count(tw, run, run.c.job_id == "a", run.c.status.in_(["running", "scheduled"])) == 5
        # b: the 12 newest records kept, counting its 2 scheduled ones, which stay too
        assert count(tw, run, run.c.job_id == "b") == 12
        kept = {r.scheduled_for for r in tw.get_runs(job_id="b", limit=100)}
        assert {T0 - 2 * DAY_US, T0 - 2 * DAY_US + 1} <= kept
        assert min(kept - {T0 - 2 * DAY_US, T0 - 2 * DAY_US + 1}) == T0 - DAY_US + 20
        # age: 4 full + 1 short; count: 1 full + 1 empty; audit: 1 full + 1 short
        assert result.batches == 5 + 1 + 2
        # (on PostgreSQL the DELETE sits in a WITH that counts what went: see the floor test)
        deletes = [(s, p) for s, p in sent if "DELETE FROM" in s.upper()]
        assert len(deletes) == 5 + 2 + 2
        for statement, params in deletes:
            assert "SELECT" in statement.upper()  # the rows are picked by the database
            n = len(params) if isinstance(params, tuple | list | dict) else 0
            assert n <= 7, (statement, params)  # the limit and the filters, never the ids
    finally:
        tw.close()


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_on_postgresql_a_batch_does_not_wait_for_the_wal_flush(db_url: str) -> None:
    """The pass's transactions commit asynchronously (a crash loses a few deletes that the
    next pass redoes); the setting is the transaction's own and leaves with it."""
    from sqlalchemy import text

    from tickwork.store.database import Database

    db = Database(db_url)
    seen: list[str] = []

    def batch(conn: Any, limit: int) -> int:
        seen.append(conn.execute(text("SHOW synchronous_commit")).scalar_one())
        return 0

    try:
        Pruner(db, Policy())._batched(batch)
        with db.read() as conn:
            after = conn.execute(text("SHOW synchronous_commit")).scalar_one()
        assert (seen, after) == (["off"], "on")
    finally:
        db.dispose()


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_on_postgresql_each_batch_starts_where_the_previous_one_stopped(
    db_url: str, tmp_path: Path, clock: FakeClock
) -> None:
    """PostgreSQL keeps a deleted row's index entries until vacuum, and while an older
    snapshot is open (here: the batches' own transaction) no scan may skip them as dead. A
    batch that searched from the oldest run again walked past every row deleted before it
    (the pass slowed down as it went); from where the previous batch stopped, each reads
    about its own rows. Ties across a batch boundary and running runs below it stay right."""
    from sqlalchemy import text

    from tickwork.store.retention import _Floor

    tw = Tickwork(settings=settings_for(tmp_path, db_url), clock=clock)
    try:
        old = T0 - 40 * DAY_US
        add_runs(tw, "a", 200, old)
        add_runs(tw, "r", 2, old + 5, status="running")  # inside the deleted range: kept
        with tw.store.db.write() as conn:  # a tie across the first batch boundary
            conn.execute(run.update().where(run.c.scheduled_for.between(old + 8, old + 12))
                         .values(scheduled_for=old + 8, attempt=run.c.id))  # fmt: skip
        pruner = Pruner(tw.store.db, Policy())
        where = [run.c.scheduled_for < T0 - 30 * DAY_US, run.c.status.not_in(["running"])]
        floor = _Floor()
        with tw.store.db.write() as conn:
            done = [
                pruner._delete_first(conn, run, where, run.c.scheduled_for, 10, floor)
                for _ in range(21)
            ]
            # index entries read in this transaction (pg_stat_user_indexes.idx_tup_read)
            read = conn.execute(text(
                "SELECT sum(pg_stat_get_xact_tuples_returned(indexrelid)) FROM pg_index "
                "WHERE indrelid = 'tw_run'::regclass"
            )).scalar_one()  # fmt: skip
        assert done == [10] * 20 + [0]
        assert count(tw, run) == 2
        assert count(tw, run, run.c.status == "running") == 2
        # each deleted row is read twice (picked by its instant, found by its id), and each
        # batch reads the 2 running runs and its boundary again: 414 here; when every batch
        # searched from the oldest run: 1,782
        assert read < 600
    finally:
        tw.close()
