"""The claim: one transaction that takes due jobs, records their runs and moves them on.

Rows are locked with SKIP LOCKED where the dialect has it, so nodes claim disjoint jobs; the
job update also checks the version read (the optimistic check that SQLite, whose write
transaction is already exclusive, relies on). The run table's unique key refuses a fire
recorded twice whatever else goes wrong.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

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


@dataclass(slots=True)
class ClaimedRun:
    run_id: int
    new: NewRun
    job: JobRecord


# A due job as the claim sees it: its record (the definition) and, apart, the schedule state
# its row holds now: (record, version, next_fire_at). Cached records keep their definition;
# their own version/next_fire_at fields may be older than the row's.
Due = tuple[JobRecord, int, int]
Planner = Callable[[list[Due]], Plan]


class RecordCache:
    """Job records this node claimed recently, with the version its claim left them at.

    A recurring job is claimed again and again; while its row's version is still the one this
    node wrote, the row has not changed (every write bumps the version), so the claim reads
    its key columns only and reuses the record. Bounded: the oldest entries go first."""

    def __init__(self, size: int = 20_000) -> None:
        self.size = size
        self._records: dict[str, tuple[JobRecord, int]] = {}

    def get(self, job_id: str, version: int) -> JobRecord | None:
        entry = self._records.get(job_id)
        return entry[0] if entry is not None and entry[1] == version else None

    def put(self, record: JobRecord, version: int) -> None:
        records = self._records
        records.pop(record.id, None)
        records[record.id] = (record, version)
        if len(records) > self.size:
            del records[next(iter(records))]


def claim_due_jobs(
    db: Database,
    runs: RunRepo,
    *,
    now: int,
    horizon: int,
    limit: int,
    plan: Planner,
    cache: RecordCache | None = None,
    check: Callable[[Connection], None] | None = None,
    recorded: Callable[[Connection, list[ClaimedRun]], None] | None = None,
) -> tuple[int, list[ClaimedRun]]:
    """Claim up to ``limit`` jobs due by ``horizon``. Returns how many jobs were claimed and
    the runs recorded for them (missed and skipped ones included). ``check`` runs in the
    claim's transaction before anything is written (the claiming node is still live);
    ``recorded`` sees the recorded runs in it, before the commit."""
    cache = cache if cache is not None else RecordCache(0)
    with db.write() as conn:
        jobs = _lock_due(conn, db, horizon, limit, cache)
        if not jobs:
            return 0, []
        if check is not None:
            check(conn)
        decided = plan(jobs)
        ids = runs.insert_many(conn, decided.runs, now)
        m = db.mark
        next_fire = decided.next_fire
        moves = [(next_fire[j.id], j.id, v) for j, v, _ in jobs if j.id in next_fire]
        moved = conn.exec_driver_sql(  # plain SQL: no per-row work in SQLAlchemy
            f"UPDATE tw_job SET next_fire_at = {m}, version = version + 1 "
            f"WHERE id = {m} AND version = {m}",
            moves,
        )
        expected = len(moves)
        if moved.rowcount != expected:
            # Someone changed a job between our read and our write: undo the whole claim.
            raise Conflict("version", "a due job changed during the claim; retrying")
        by_id = {j.id: j for j, _, _ in jobs}
        claimed = [
            ClaimedRun(rid, new, by_id[new.job_id])
            for rid, new in zip(ids, decided.runs, strict=True)
            if rid is not None
        ]
        if recorded is not None:
            recorded(conn, claimed)
    if cache.size:  # committed: remember each recurring job at the version this claim wrote
        for j, v, _ in jobs:
            if next_fire.get(j.id) is not None:
                cache.put(j, v + 1)
    return len(jobs), claimed


def _lock_due(
    conn: Connection, db: Database, horizon: int, limit: int, cache: RecordCache
) -> list[Due]:
    """Lock (where the dialect locks rows) and read up to ``limit`` jobs due by ``horizon``,
    in next_fire_at order. Only the key columns are read with the lock (through the
    next_fire_at index: selecting whole rows lets MySQL choose a scan plus filesort that
    locks every due row); whole rows only for jobs the cache does not know at that version.
    JSON columns come as text and are decoded through a cache: the jobs of a claim mostly
    share their target, tags and secret keys."""
    key_columns = (
        (job.c.id, job.c.next_fire_at)
        if db.is_mysql
        else (job.c.id, job.c.next_fire_at, job.c.version)
    )
    query = (
        select(*key_columns)
        .where(job.c.next_fire_at <= horizon)
        .order_by(job.c.next_fire_at)  # the index alone: a tie-break on id would sort
        .limit(limit)
    )
    if db.skip_locked:
        query = query.with_for_update(skip_locked=True)
    keys: list[tuple[Any, ...]] = [tuple(k) for k in conn.execute(query).all()]
    if not keys:
        return []
    if db.is_mysql:  # id and next_fire_at are in the index; read the locked rows' versions
        versions = dict(
            conn.execute(
                select(job.c.id, job.c.version).where(job.c.id.in_([k[0] for k in keys]))
            ).all()
        )
        keys = [(k[0], k[1], versions[k[0]]) for k in keys if k[0] in versions]
    found: dict[str, JobRecord] = {}
    missing: list[str] = []
    for job_id, _, version in keys:
        record = cache.get(job_id, version)
        if record is None:
            missing.append(job_id)
        else:
            found[job_id] = record
    for start in range(0, len(missing), 500):
        chunk = missing[start : start + 500]
        rows = conn.execute(select(*job_columns_raw(db.is_sqlite)).where(job.c.id.in_(chunk)))
        for row in rows.all():
            record = job_from_raw(row)
            found[record.id] = record
    due = [(found[i], v, nf) for i, nf, v in keys if i in found]
    due.sort(key=lambda d: (d[2], d[0].id))
    return due
