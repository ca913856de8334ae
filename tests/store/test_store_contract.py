"""The store contract: the same tests on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from tickwork.errors import Conflict
from tickwork.models import RunStatus
from tickwork.store import JobFilter, RunFilter, Store
from tickwork.store.claims import Due, Plan, claim_due_jobs
from tickwork.store.migrate import VERSION_TABLE, current_revision, head_revision
from tickwork.store.nodes import Fenced
from tickwork.store.records import JobRecord
from tickwork.store.runs import NewRun
from tickwork.store.tables import metadata

T0 = 1_800_000_000_000_000  # an arbitrary instant, in epoch microseconds
SEC = 1_000_000


def job(job_id: str, **changes: object) -> JobRecord:
    base = JobRecord(
        id=job_id,
        name=job_id.title(),
        target_kind="python",
        target={"ref": "tests.engine.tasks:ok", "args": [], "kwargs": {}},
        trigger_kind="cron",
        trigger={"kind": "cron", "expr": "* * * * *", "tz": "UTC"},
        timezone="UTC",
        next_fire_at=T0,
        created_at=T0,
        updated_at=T0,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def fire(job_id: str, at: int, **changes: object) -> NewRun:
    base = NewRun(
        job_id=job_id,
        scheduled_for=at,
        due_at=at,
        reason="schedule",
        status=RunStatus.SCHEDULED.value,
        node_id="n1",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


@pytest.fixture
def store(db_url: str) -> Store:
    s = Store(db_url)
    yield s  # type: ignore[misc]
    s.close()


def test_schema_is_at_head_and_matches_the_tables(store: Store) -> None:
    assert current_revision(store.db) == head_revision()
    assert store.upgrade() == head_revision()  # idempotent
    with store.db.engine.connect() as conn:
        ctx = MigrationContext.configure(
            conn, opts={"compare_type": True, "version_table": VERSION_TABLE}
        )
        assert compare_metadata(ctx, metadata) == []


def test_job_insert_get_update_delete(store: Store) -> None:
    with store.db.write() as conn:
        store.jobs.insert(conn, job("a", tags=["x", "y"]))
    with store.db.write() as conn, pytest.raises(Conflict, match="id: a job with id 'a'"):
        store.jobs.insert(conn, job("a"))
    with store.db.read() as conn:
        got = store.jobs.get(conn, "a")
    assert got == job("a", tags=["x", "y"])

    with store.db.write() as conn:
        updated = store.jobs.update(conn, replace(got, name="Renamed", tags=["z"]), got.version)
    assert updated.version == 2
    with store.db.write() as conn, pytest.raises(Conflict, match="version"):
        store.jobs.update(conn, replace(got, name="Stale"), got.version)
    with store.db.read() as conn:
        again = store.jobs.get(conn, "a")
        assert again is not None
        assert again.name == "Renamed"
        assert again.tags == ["z"]
        assert store.jobs.page(conn, JobFilter(tag="x")) == []
        assert [j.id for j in store.jobs.page(conn, JobFilter(tag="z"))] == ["a"]
    with store.db.write() as conn:
        assert store.jobs.delete(conn, "a") is True
        assert store.jobs.delete(conn, "a") is False


def test_ids_are_case_sensitive_and_unicode_names_round_trip(store: Store) -> None:
    with store.db.write() as conn:
        store.jobs.insert(conn, job("Job", name="清理旧日志"))
        store.jobs.insert(conn, job("job"))
    with store.db.read() as conn:
        record = store.jobs.get(conn, "Job")
        assert record is not None
        assert record.name == "清理旧日志"
        assert [j.id for j in store.jobs.page(conn)] == ["Job", "job"]


def test_job_filters_and_cursor_pages(store: Store) -> None:
    with store.db.write() as conn:
        store.jobs.insert_many(
            conn,
            [
                job(
                    f"job-{i:02d}",
                    group="g1" if i % 2 else "g2",
                    tags=["even"] if i % 2 == 0 else [],
                )
                for i in range(25)
            ],
        )
        store.jobs.insert(conn, job("paused-one", paused=True, next_fire_at=None))
        store.jobs.insert(conn, job("done-one", next_fire_at=None, name="Finished_100%"))
    with store.db.read() as conn:
        first = store.jobs.page(conn, limit=10)
        second = store.jobs.page(conn, after_id=first[-1].id, limit=10)
        assert [j.id for j in first + second] == sorted(j.id for j in first + second)
        assert not {j.id for j in first} & {j.id for j in second}
        assert store.jobs.count(conn, JobFilter(group="g1")) == 12
        assert store.jobs.count(conn, JobFilter(tag="even")) == 13
        assert [j.id for j in store.jobs.page(conn, JobFilter(state="paused"))] == ["paused-one"]
        assert [j.id for j in store.jobs.page(conn, JobFilter(state="completed"))] == ["done-one"]
        assert store.jobs.count(conn, JobFilter(state="scheduled")) == 25
        assert store.jobs.state_counts(conn) == {"scheduled": 25, "paused": 1, "completed": 1}
        # text search is case-insensitive and treats % and _ literally
        assert [j.id for j in store.jobs.page(conn, JobFilter(text="100%"))] == ["done-one"]
        assert [j.id for j in store.jobs.page(conn, JobFilter(text="FINISHED_"))] == ["done-one"]
        assert store.jobs.count(conn, JobFilter(text="job_0")) == 0  # "_" is no wildcard
        assert store.jobs.next_due_at(conn) == T0


def test_the_database_refuses_a_second_record_of_one_fire(store: Store) -> None:
    with store.db.write() as conn:
        ids = store.runs.insert_many(conn, [fire("a", T0), fire("a", T0 + SEC)], T0)
        again = store.runs.insert_many(conn, [fire("a", T0), fire("a", T0 + 2 * SEC)], T0)
    assert all(isinstance(i, int) for i in ids)
    assert again[0] is None
    assert isinstance(again[1], int)
    with store.db.read() as conn:
        assert store.runs.count(conn, RunFilter(job_id="a")) == 3
    # a raw insert of the same (job, scheduled_for, attempt) fails in the database itself
    with pytest.raises(sa.exc.IntegrityError), store.db.write() as conn:
        conn.execute(
            sa.insert(sa.table("tw_run", *(sa.column(c) for c in fire("a", T0).row(T0)))),
            [fire("a", T0).row(T0)],
        )


def test_manual_runs_in_the_same_microsecond_get_distinct_instants(store: Store) -> None:
    with store.db.write() as conn:
        first = store.runs.insert_one(conn, fire("a", T0, reason="manual", node_id=None), T0)
        second = store.runs.insert_one(conn, fire("a", T0, reason="manual", node_id=None), T0)
    with store.db.read() as conn:
        a, b = store.runs.get(conn, first), store.runs.get(conn, second)
    assert a is not None
    assert b is not None
    assert (a.scheduled_for, b.scheduled_for) == (T0, T0 + 1)


def test_starts_and_outcomes_only_land_on_the_claiming_nodes_runs(store: Store) -> None:
    with store.db.write() as conn:
        rid, other = store.runs.insert_many(conn, [fire("a", T0), fire("b", T0, node_id="n2")], T0)
        assert rid is not None
        assert other is not None
        # the durable start: only this node's claimed runs start
        assert store.runs.start(conn, "n1", [(rid, T0 + 5), (other, T0 + 5)]) == {rid}
        assert store.runs.start(conn, "n1", [(rid, T0 + 6)]) == set()  # started once
    outcome = {
        "status": "succeeded", "started_at": T0 + 5, "finished_at": T0 + 9, "duration_s": 4e-6,
        "result": "42", "error": None, "traceback": None, "log": "line\n", "node_id": "n1",
    }  # fmt: skip
    with store.db.write() as conn:
        written = store.runs.finish(conn, [{"id": rid, **outcome}, {"id": other, **outcome}])
    assert written == {rid}
    with store.db.read() as conn:
        mine, theirs = store.runs.get(conn, rid), store.runs.get(conn, other)
    assert mine is not None
    assert (mine.status, mine.started_at, mine.log) == ("succeeded", T0 + 5, "line\n")
    assert theirs is not None
    assert theirs.status == "scheduled"
    assert theirs.started_at is None
    # a finished run is not finished twice
    with store.db.write() as conn:
        assert store.runs.finish(conn, [{"id": rid, **outcome, "status": "failed"}]) == set()


def test_a_batch_of_outcomes_of_runs_that_never_started_is_written(store: Store) -> None:
    """Skips and cancels before a start have no started_at: a batch of only those is written
    too (PostgreSQL once typed the all-NULL column as text and refused the batch)."""
    with store.db.write() as conn:
        ids = store.runs.insert_many(conn, [fire("a", T0), fire("a", T0 + SEC)], T0)
    skipped = [
        {"id": i, "node_id": "n1", "status": "skipped", "started_at": None, "finished_at": T0,
         "duration_s": None, "result": None, "error": "skipped: 1 instance(s) already running",
         "traceback": None, "log": None}
        for i in ids
    ]  # fmt: skip
    with store.db.write() as conn:
        assert store.runs.finish(conn, skipped) == set(ids)
    with store.db.read() as conn:
        assert [r.status for r in store.runs.page(conn)] == ["skipped", "skipped"]


def test_dead_nodes_are_reaped_once_started_runs_end_lost_claims_go_back(store: Store) -> None:
    with store.db.write() as conn:
        store.nodes.register(conn, "alive", "scheduler", T0)
        store.nodes.register(conn, "dead", "scheduler", T0 - 60 * SEC)
        ids = store.runs.insert_many(
            conn,
            [
                fire("a", T0, node_id="dead"),
                fire("b", T0, node_id="alive"),
                fire("c", T0, node_id="dead"),
            ],
            T0,
        )
        store.runs.start(conn, "dead", [(ids[0], T0)])  # type: ignore[list-item]
    with store.db.write() as conn:
        dead = store.nodes.claim_dead(conn, T0 - 30 * SEC, T0)
        lost, released = store.runs.reap(conn, dead, T0, "lost: node died")
    assert dead == ["dead"]
    assert [r.job_id for r in lost] == ["a"]  # started: it may have run
    assert released == 1  # "c" never started: back to the queue
    with store.db.write() as conn:
        assert store.nodes.claim_dead(conn, T0 - 30 * SEC, T0) == []
        assert store.nodes.heartbeat(conn, "dead", T0) is False  # fenced
        assert store.nodes.heartbeat(conn, "alive", T0) is True
        with pytest.raises(Fenced):
            store.nodes.assert_live(conn, "dead")
        store.nodes.assert_live(conn, "alive")
    with store.db.read() as conn:
        runs = {r.job_id: (r.status, r.node_id) for r in store.runs.page(conn)}
    assert runs == {"a": ("lost", "dead"), "b": ("scheduled", "alive"), "c": ("scheduled", None)}
    # a handed-back claim cannot be started by the node that lost it
    with store.db.write() as conn:
        assert store.runs.start(conn, "dead", [(ids[2], T0 + 1)]) == set()  # type: ignore[list-item]
    # the outcome of a run reaped as lost still lands if its node lived on (fenced)
    outcome = {
        "id": ids[0], "node_id": "dead", "status": "succeeded", "started_at": T0,
        "finished_at": T0 + 7, "duration_s": 7e-6, "result": None, "error": None,
        "traceback": None, "log": None,
    }  # fmt: skip
    with store.db.write() as conn:
        assert store.runs.lost_of(conn, [ids[0]]) == {ids[0]}  # type: ignore[list-item]
        assert store.runs.finish(conn, [outcome]) == {ids[0]}
        assert store.runs.stopped_nodes_with_runs(conn) == {}


def test_a_stopped_node_with_unfinished_runs_is_found(store: Store) -> None:
    with store.db.write() as conn:
        store.nodes.register(conn, "gone", "scheduler", T0)
        store.runs.insert_many(conn, [fire("a", T0, node_id="gone")], T0)
        store.nodes.stop(conn, "gone", T0 + 1, "shutdown")
        assert store.runs.stopped_nodes_with_runs(conn) == {"gone": "shutdown"}
        assert store.runs.reap(conn, ["gone"], T0 + 2, "x") == ([], 1)
        assert store.runs.stopped_nodes_with_runs(conn) == {}


def test_queued_runs_are_claimed_once_and_cancel_requests_reach_the_node(store: Store) -> None:
    with store.db.write() as conn:
        queued = [
            store.runs.insert_one(conn, fire(f"j{i}", T0 + i, node_id=None, reason="manual"), T0)
            for i in range(6)
        ]
        store.runs.insert_one(conn, fire("later", T0 + 100 * SEC, node_id=None), T0)
    with store.db.write() as conn:
        mine = store.runs.claim_queued(conn, "n1", T0 + 10 * SEC, limit=4)
    with store.db.write() as conn:
        theirs = store.runs.claim_queued(conn, "n2", T0 + 10 * SEC, limit=10)
    assert [r.id for r in mine] == queued[:4]
    assert [r.id for r in theirs] == queued[4:]
    with store.db.read() as conn:
        assert store.runs.next_queued_due(conn) == T0 + 100 * SEC
    with store.db.write() as conn:
        assert store.runs.request_cancel(conn, queued[0], T0, "stop") == "scheduled"
        later = store.runs.page(conn, RunFilter(job_id="later"))[0]
        assert store.runs.request_cancel(conn, later.id, T0, "stop") == "cancelled"
        assert store.runs.request_cancel(conn, 10**9, T0, "stop") is None
    with store.db.read() as conn:
        assert store.runs.cancel_requests(conn, "n1") == [(queued[0], "stop")]
        assert store.runs.cancel_requests(conn, "n2") == []
        counts = store.runs.active_counts(conn, ["j0", "j5"], exclude_node="n1")
    assert counts == {"j5": 1}


def test_run_filters_and_pages_newest_first(store: Store) -> None:
    with store.db.write() as conn:
        store.runs.insert_many(
            conn,
            [
                fire("a" if i % 3 else "b", T0 + i * SEC, status="succeeded" if i % 2 else "failed")
                for i in range(30)
            ],
            T0,
        )
    with store.db.read() as conn:
        page1 = store.runs.page(conn, limit=12)
        page2 = store.runs.page(conn, before_id=page1[-1].id, limit=12)
        assert [r.id for r in page1 + page2] == sorted((r.id for r in page1 + page2), reverse=True)
        assert store.runs.count(conn, RunFilter(job_id="b")) == 10
        assert store.runs.count(conn, RunFilter(statuses=["failed"])) == 15
        window = RunFilter(since=T0 + 10 * SEC, until=T0 + 20 * SEC)
        assert store.runs.count(conn, window) == 10
        assert all(r.log is None for r in page1)  # lists leave the large columns out


def test_claims_record_runs_and_move_jobs_in_one_transaction(store: Store) -> None:
    with store.db.write() as conn:
        store.jobs.insert_many(conn, [job("a"), job("b", next_fire_at=T0 + 60 * SEC)])

    def plan(due: list[Due]) -> Plan:
        assert [(j.id, version, first) for j, version, first in due] == [("a", 1, T0)]
        return Plan([fire("a", T0)], {"a": T0 + 60 * SEC})

    count, claimed = claim_due_jobs(
        store.db, store.runs, now=T0, horizon=T0 + SEC, limit=10, plan=plan
    )
    assert count == 1
    assert [c.job.id for c in claimed] == ["a"]
    with store.db.read() as conn:
        a = store.jobs.get(conn, "a")
        assert a is not None
        assert a.next_fire_at == T0 + 60 * SEC
        assert a.version == 2
        assert store.runs.count(conn) == 1

    def failing(due: list[Due]) -> Plan:
        raise RuntimeError("planner crashed")

    with pytest.raises(RuntimeError):
        claim_due_jobs(store.db, store.runs, now=T0, horizon=T0 + 61 * SEC, limit=10, plan=failing)
    with store.db.read() as conn:  # nothing half-written
        assert store.runs.count(conn) == 1
        assert store.jobs.get(conn, "b").next_fire_at == T0 + 60 * SEC  # type: ignore[union-attr]


@pytest.mark.parametrize("backend", ["postgres", "mysql"], indirect=True)
def test_concurrent_claimers_take_disjoint_jobs(store: Store) -> None:
    with store.db.write() as conn:
        store.jobs.insert_many(conn, [job(f"j{i:03d}") for i in range(200)])
    claimed: dict[str, list[str]] = {"x": [], "y": []}
    barrier = threading.Barrier(2)

    def claimer(name: str) -> None:
        def plan(due: list[Due]) -> Plan:
            barrier.wait(timeout=10)  # both hold their locks at the same time
            ids = [j.id for j, _, _ in due]
            return Plan([fire(i, T0, node_id=name) for i in ids], dict.fromkeys(ids))

        _, runs = claim_due_jobs(store.db, store.runs, now=T0, horizon=T0, limit=100, plan=plan)
        claimed[name] = [r.job.id for r in runs]

    threads = [threading.Thread(target=claimer, args=(n,)) for n in claimed]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(claimed["x"]) == len(claimed["y"]) == 100
    assert not set(claimed["x"]) & set(claimed["y"])


def test_cluster_settings_round_trip(store: Store) -> None:
    with store.db.write() as conn:
        assert store.settings.get(conn, "scheduler_paused", False) is False
        store.settings.put(conn, "scheduler_paused", True, T0, "alice")
        store.settings.put(conn, "scheduler_paused", True, T0, "alice")  # unchanged value
    with store.db.read() as conn:
        assert store.settings.get(conn, "scheduler_paused") is True


def test_claims_reuse_cached_records_only_while_the_row_is_unchanged(store: Store) -> None:
    from tickwork.store.claims import RecordCache

    with store.db.write() as conn:
        store.jobs.insert(conn, job("a"))
    cache = RecordCache()
    seen: list[JobRecord] = []

    def claim(at: int) -> None:
        def plan(due: list[Due]) -> Plan:
            seen.extend(j for j, _, _ in due)
            return Plan(
                [fire(j.id, first) for j, _, first in due],
                {j.id: first + 60 * SEC for j, _, first in due},
            )

        claim_due_jobs(store.db, store.runs, now=at, horizon=at, limit=10, plan=plan, cache=cache)

    claim(T0)
    claim(T0 + 60 * SEC)
    assert seen[1] is seen[0]  # unchanged row: the cached record, not a re-read
    with store.db.write() as conn:
        current = store.jobs.get(conn, "a")
        assert current is not None
        store.jobs.update(conn, replace(current, name="Renamed"), current.version)
    claim(T0 + 120 * SEC)
    assert seen[2].name == "Renamed"  # a changed row (new version) is read again
    with store.db.read() as conn:
        assert [r.scheduled_for for r in store.runs.page(conn)] == [
            T0 + 120 * SEC,
            T0 + 60 * SEC,
            T0,
        ]
