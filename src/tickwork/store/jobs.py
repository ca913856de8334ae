"""Job rows: create, read, list with filters and cursor pages, update under a version check."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Connection, and_, case, delete, func, insert, literal, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnElement

from tickwork.errors import Conflict
from tickwork.store.bulk_rows import JOB_ROW_COLUMNS, insert_rows, job_rows
from tickwork.store.database import Database
from tickwork.store.job_batch import JobBatch, JobRun
from tickwork.store.records import JobRecord
from tickwork.store.sqlite_bulk import insert_jobs, insert_run
from tickwork.store.tables import job, job_tag


@dataclass(frozen=True, slots=True)
class JobFilter:
    group: str | None = None
    tag: str | None = None
    state: str | None = None  # "scheduled", "paused", "completed"
    text: str | None = None  # substring of id or name, case-insensitive
    owner: str | None = None
    owner_ref: str | None = None
    hidden_groups: frozenset[str] = frozenset()  # groups the caller may not see


# On SQLite a run of jobs sharing a record is one statement of its own when it holds at
# least this many jobs; shorter runs go in with the whole records beside them.
RUN_STATEMENT_MIN = 64


class JobRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- writes -------------------------------------------------------------------------------
    def insert(self, conn: Connection, record: JobRecord) -> None:
        try:
            with conn.begin_nested():
                conn.execute(insert(job), [record.to_row()])
        except IntegrityError:
            raise Conflict(
                "id",
                f"a job with id {record.id!r} already exists",
                code="duplicate_id",
                params={"id": record.id},
            ) from None
        self._write_tags(conn, record.id, record.tags)

    def insert_many(self, conn: Connection, records: Sequence[JobRecord]) -> None:
        """Bulk insert new jobs (ids must be new); one statement per batch (on SQLite one per
        run of jobs sharing their other columns, ``sqlite_bulk``). A ``JobBatch``'s runs go
        in as the tuples it holds."""
        if not records:
            return
        chunks = records.chunks(RUN_STATEMENT_MIN) if isinstance(records, JobBatch) else [records]
        try:
            if conn.dialect.name == "sqlite":
                for chunk in chunks:
                    if isinstance(chunk, JobRun):
                        insert_run(conn, job, chunk)
                    else:
                        insert_jobs(conn, job, chunk)
            else:  # one COPY (PostgreSQL), one executemany (MariaDB) of every row
                rows: list[tuple[Any, ...]] = []
                for chunk in chunks:
                    rows += chunk.full_rows() if isinstance(chunk, JobRun) else job_rows(chunk)
                insert_rows(conn, job, JOB_ROW_COLUMNS, rows)
        except IntegrityError:
            raise Conflict(
                "id", "one of the job ids already exists", code="duplicate_ids"
            ) from None
        tags = [
            (r.id, t)
            for chunk in chunks
            if not isinstance(chunk, JobRun)  # a run's jobs have none
            for r in chunk
            for t in dict.fromkeys(r.tags)
        ]
        insert_rows(conn, job_tag, ("job_id", "tag"), tags)

    def update(self, conn: Connection, record: JobRecord, expected_version: int) -> JobRecord:
        """Replace a job's row if its version is still ``expected_version``."""
        new = replace(record, version=expected_version + 1)
        row = new.to_row()
        del row["id"], row["created_at"], row["created_by"]
        result = conn.execute(
            update(job).where(job.c.id == record.id, job.c.version == expected_version),
            row,
        )
        if result.rowcount != 1:
            raise Conflict(
                "version",
                f"job {record.id!r} changed since version {expected_version}; reload and retry",
                code="stale_version",
                params={"id": record.id, "expected": expected_version},
            )
        self._write_tags(conn, record.id, record.tags)
        return new

    def refs_by_owner(self, conn: Connection, owners: Sequence[str]) -> list[str]:
        """The target refs of the jobs of these owners (the default target allowlist)."""
        rows = conn.execute(select(job.c.target).where(job.c.owner.in_(list(owners))))
        return [str(t.get("ref")) for (t,) in rows if isinstance(t, dict) and t.get("ref")]

    def delete(self, conn: Connection, job_id: str) -> bool:
        conn.execute(delete(job_tag).where(job_tag.c.job_id == job_id))
        return conn.execute(delete(job).where(job.c.id == job_id)).rowcount == 1

    def set_next_fire(
        self, conn: Connection, job_id: str, next_fire_at: int | None, *, paused: bool | None = None
    ) -> None:
        values: dict[str, Any] = {"next_fire_at": next_fire_at, "version": job.c.version + 1}
        if paused is not None:
            values["paused"] = paused
        conn.execute(update(job).where(job.c.id == job_id).values(**values))

    def _write_tags(self, conn: Connection, job_id: str, tags: Iterable[str]) -> None:
        conn.execute(delete(job_tag).where(job_tag.c.job_id == job_id))
        rows = [{"job_id": job_id, "tag": t} for t in dict.fromkeys(tags)]
        if rows:
            conn.execute(insert(job_tag), rows)

    # -- reads --------------------------------------------------------------------------------
    def get(self, conn: Connection, job_id: str, *, for_update: bool = False) -> JobRecord | None:
        query = select(job).where(job.c.id == job_id)
        if for_update and not self.db.is_sqlite:
            query = query.with_for_update()
        row = conn.execute(query).mappings().first()
        return JobRecord.from_row(row) if row else None

    def page(
        self,
        conn: Connection,
        flt: JobFilter = JobFilter(),
        *,
        after_id: str | None = None,
        limit: int = 100,
        sort: str = "id",
        after: tuple[Any, str] | None = None,
    ) -> list[JobRecord]:
        """A page of jobs in ``sort`` order (``id``, ``name``, ``group``, ``next_fire_at``; a
        leading ``-`` reverses it), after the cursor: ``after_id`` for the id order, else
        ``after`` = (the last row's sort value, its id). Ties break on id; jobs without a
        next fire come last in both directions."""
        desc = sort.startswith("-")
        column = SORT_COLUMNS[sort.lstrip("-")]
        query = select(job).where(*self._conditions(flt)).limit(limit)
        if column is job.c.id:
            query = query.order_by(job.c.id.desc() if desc else job.c.id)
            if after_id is not None:
                query = query.where(job.c.id < after_id if desc else job.c.id > after_id)
            return [JobRecord.from_row(r) for r in conn.execute(query).mappings()]
        is_null = case((column.is_(None), 1), else_=0)
        ordered = (column.desc(), job.c.id.desc()) if desc else (column, job.c.id)
        query = query.order_by(is_null, *ordered)
        if after is not None:
            value, last_id = after
            before = job.c.id < last_id if desc else job.c.id > last_id
            if value is None:
                query = query.where(column.is_(None), before)
            else:
                beyond = column < value if desc else column > value
                query = query.where(or_(beyond, and_(column == value, before), column.is_(None)))
        return [JobRecord.from_row(r) for r in conn.execute(query).mappings()]

    def count(self, conn: Connection, flt: JobFilter = JobFilter()) -> int:
        query = select(func.count()).select_from(job).where(*self._conditions(flt))
        return int(conn.execute(query).scalar_one())

    def state_counts(self, conn: Connection) -> dict[str, int]:
        state = _state_expression()
        rows = conn.execute(select(state, func.count()).group_by(state)).all()
        return {str(s): int(n) for s, n in rows}

    def group_counts(self, conn: Connection) -> dict[str, tuple[int, int]]:
        """group -> (jobs, paused jobs), for every group a job names."""
        paused = func.sum(case((job.c.paused.is_(True), 1), else_=0))
        rows = conn.execute(
            select(job.c.group_name, func.count(), paused).group_by(job.c.group_name)
        )
        return {str(g): (int(n), int(p or 0)) for g, n, p in rows}

    def ids(self, conn: Connection, flt: JobFilter) -> list[str]:
        query = select(job.c.id).where(*self._conditions(flt)).order_by(job.c.id)
        return list(conn.execute(query).scalars())

    def ids_with_secrets(self, conn: Connection) -> list[str]:
        """Ids of the jobs that list secret kwargs (for re-encryption under a new key)."""
        rows = conn.execute(select(job.c.id, job.c.secret_keys).order_by(job.c.id))
        return [job_id for job_id, keys in rows if keys]

    def executors_in_use(self, conn: Connection) -> list[str]:
        query = select(job.c.executor).where(job.c.next_fire_at.is_not(None)).distinct()
        return list(conn.execute(query).scalars())

    def next_due_at(self, conn: Connection) -> int | None:
        return conn.execute(select(func.min(job.c.next_fire_at))).scalar_one()  # type: ignore[no-any-return]

    def upcoming(
        self, conn: Connection, limit: int, hidden_groups: frozenset[str] = frozenset()
    ) -> list[JobRecord]:
        hidden = [job.c.group_name.not_in(sorted(hidden_groups))] if hidden_groups else []
        query = (
            select(job)
            .where(job.c.next_fire_at.is_not(None), *hidden)
            .order_by(job.c.next_fire_at, job.c.id)  # ties in a stable order: by id
            .limit(limit)
        )
        return [JobRecord.from_row(r) for r in conn.execute(query).mappings()]

    @staticmethod
    def _conditions(flt: JobFilter) -> list[ColumnElement[bool]]:
        conds: list[ColumnElement[bool]] = []
        if flt.group is not None:
            conds.append(job.c.group_name == flt.group)
        if flt.tag is not None:
            conds.append(job.c.id.in_(select(job_tag.c.job_id).where(job_tag.c.tag == flt.tag)))
        if flt.state is not None:
            conds.append(_state_expression() == flt.state)
        if flt.text:
            pattern = "%" + _escape_like(flt.text.lower()) + "%"
            conds.append(
                or_(
                    func.lower(job.c.id).like(pattern, escape="\\"),
                    func.lower(job.c.name).like(pattern, escape="\\"),
                )
            )
        if flt.owner is not None:
            conds.append(job.c.owner == flt.owner)
        if flt.owner_ref is not None:
            conds.append(job.c.owner_ref == flt.owner_ref)
        if flt.hidden_groups:
            conds.append(job.c.group_name.not_in(sorted(flt.hidden_groups)))
        return conds


# The orders a job list can be read in (the API's ``sort``), by name.
SORT_COLUMNS: dict[str, Any] = {
    "id": job.c.id,
    "name": job.c.name,
    "group": job.c.group_name,
    "next_fire_at": job.c.next_fire_at,
}


def _state_expression() -> ColumnElement[Any]:
    return case(
        (job.c.paused.is_(True), literal("paused")),
        (and_(job.c.paused.is_(False), job.c.next_fire_at.is_(None)), literal("completed")),
        else_=literal("scheduled"),
    )


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
