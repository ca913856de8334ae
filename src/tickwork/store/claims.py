"""The claim: one transaction that takes due jobs, records their runs and moves them on.

Rows are locked with SKIP LOCKED where the dialect has it, so nodes claim disjoint jobs; the
job update also checks the version read (the optimistic check that SQLite, whose write
transaction is already exclusive, relies on). The run table's unique key refuses a fire
recorded twice whatever else goes wrong.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, select, update

from tickwork.errors import Conflict
from tickwork.store.database import Database
from tickwork.store.records import JobRecord, job_columns_raw, job_from_raw
from tickwork.store.runs import NewRun, RunRepo
from tickwork.store.tables import job


@dataclass(frozen=True, slots=True)
class Plan:
    """What the engine decided for a batch of due jobs."""

    runs: Sequence[NewRun]
    next_fire: Mapping[str, int | None]  # job id -> its new next_fire_at


@dataclass(frozen=True, slots=True)
class ClaimedRun:
    run_id: int
    new: NewRun
    job: JobRecord


Planner = Callable[[list[JobRecord]], Plan]


def claim_due_jobs(
    db: Database, runs: RunRepo, *, now: int, horizon: int, limit: int, plan: Planner
) -> tuple[int, list[ClaimedRun]]:
    """Claim up to ``limit`` jobs due by ``horizon``. Returns how many jobs were claimed and
    the runs recorded for them (missed and skipped ones included)."""
    with db.write() as conn:
        jobs = _lock_due(conn, db, horizon, limit)
        if not jobs:
            return 0, []
        decided = plan(jobs)
        ids = runs.insert_many(conn, decided.runs, now)
        moved = conn.execute(
            update(job)
            .where(job.c.id == bindparam("jid"), job.c.version == bindparam("v"))
            .values(next_fire_at=bindparam("nf"), version=bindparam("v") + 1),
            [
                {"jid": j.id, "v": j.version, "nf": decided.next_fire[j.id]}
                for j in jobs
                if j.id in decided.next_fire
            ],
        )
        expected = sum(1 for j in jobs if j.id in decided.next_fire)
        if moved.rowcount != expected:
            # Someone changed a job between our read and our write: undo the whole claim.
            raise Conflict("version", "a due job changed during the claim; retrying")
        by_id = {j.id: j for j in jobs}
        claimed = [
            ClaimedRun(rid, new, by_id[new.job_id])
            for rid, new in zip(ids, decided.runs, strict=True)
            if rid is not None
        ]
        return len(jobs), claimed


def _lock_due(conn: Connection, db: Database, horizon: int, limit: int) -> list[JobRecord]:
    """Lock (where the dialect locks rows) and read up to ``limit`` jobs due by ``horizon``,
    in next_fire_at order. JSON columns come as text and are decoded through a cache: the
    jobs of a claim mostly share their target, tags and secret keys."""
    cols = job_columns_raw(db.is_sqlite)
    if db.is_mysql:
        # Lock ids through the next_fire_at index first: selecting whole rows lets MySQL
        # choose a scan plus filesort that locks every due row, not just ``limit`` of them.
        query = (
            select(job.c.id)
            .where(job.c.next_fire_at <= horizon)
            .order_by(job.c.next_fire_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        ids = list(conn.execute(query).scalars())
        if not ids:
            return []
        rows = conn.execute(select(*cols).where(job.c.id.in_(ids))).all()
        jobs = [job_from_raw(r) for r in rows]
        jobs.sort(key=lambda j: (j.next_fire_at or 0, j.id))
        return jobs
    # Ordered by the index alone (a tie-break on id would sort every due row, each claim).
    query = select(*cols).where(job.c.next_fire_at <= horizon).order_by(job.c.next_fire_at)
    query = query.limit(limit)
    if db.skip_locked:
        query = query.with_for_update(skip_locked=True)
    jobs = [job_from_raw(r) for r in conn.execute(query).all()]
    jobs.sort(key=lambda j: (j.next_fire_at or 0, j.id))
    return jobs
