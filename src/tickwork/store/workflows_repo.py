"""Queries of workflows, workflow runs, their steps' states and jobs' ``then`` lists."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import (
    ARRAY,
    Connection,
    String,
    any_,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from tickwork.errors import Conflict
from tickwork.store.database import Database
from tickwork.store.tables import run
from tickwork.store.tables_workflows import job_then, workflow, workflow_run, workflow_step_run

ACTIVE_RUN = ("scheduled", "running")


@dataclass(frozen=True, slots=True)
class WorkflowRecord:
    id: str
    name: str
    steps: tuple[dict[str, Any], ...]  # validated by tickwork.workflows.graph
    description: str = ""
    trigger: dict[str, Any] | None = None
    timezone: str = "UTC"
    deadline_s: float | None = None
    paused: bool = False
    next_fire_at: int | None = None
    owner: str = "python"
    owner_ref: str | None = None
    version: int = 1
    created_at: int = 0
    created_by: str | None = None
    updated_at: int = 0
    updated_by: str | None = None

    def row(self) -> dict[str, Any]:
        out = {f: getattr(self, f) for f in self.__slots__}
        out["steps"] = list(self.steps)
        return out

    @classmethod
    def from_row(cls, row: Any) -> WorkflowRecord:
        data = dict(row)
        data["steps"] = tuple(data["steps"])
        return cls(**data)

    def definition(self) -> dict[str, Any]:
        """What a save compares: everything but the bookkeeping."""
        out = self.row()
        for key in ("version", "created_at", "created_by", "updated_at", "updated_by"):
            out.pop(key)
        out.pop("next_fire_at")
        return out


@dataclass(frozen=True, slots=True)
class StepRunRecord:
    workflow_run_id: int
    step: str
    job_id: str
    state: str
    run_id: int | None = None
    scheduled_for: int | None = None
    reason: str | None = None
    carried: bool = False
    released_at: int | None = None
    finished_at: int | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class WorkflowRunRecord:
    id: int
    workflow_id: str
    scheduled_for: int
    reason: str
    status: str
    steps: tuple[dict[str, Any], ...]  # validated by tickwork.workflows.graph
    deadline_at: int | None = None
    rerun_of: int | None = None
    triggered_by: str | None = None
    created_at: int = 0
    finished_at: int | None = None
    error: str | None = None
    step_runs: tuple[StepRunRecord, ...] = field(default=())

    @classmethod
    def from_row(cls, row: Any, step_runs: Iterable[StepRunRecord] = ()) -> WorkflowRunRecord:
        data = dict(row)
        data["steps"] = tuple(data["steps"])
        return cls(**data, step_runs=tuple(step_runs))


class WorkflowRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    def _one_of(self, col: Any, values: Collection[str]) -> Any:
        """``col IN (values)``; on PostgreSQL one array parameter (``= ANY``) instead of a
        parameter per value: these run in every outcome transaction."""
        if self.db.is_postgres:
            return col == any_(bindparam(None, sorted(values), type_=ARRAY(String)))
        return col.in_(sorted(values))

    # -- definitions --------------------------------------------------------------------------
    def insert(self, conn: Connection, record: WorkflowRecord) -> None:
        try:
            with conn.begin_nested():
                conn.execute(insert(workflow), [record.row()])
        except IntegrityError:
            raise Conflict(
                "id",
                f"a workflow with id {record.id!r} already exists",
                code="duplicate_id",
                params={"id": record.id},
            ) from None

    def update(self, conn: Connection, record: WorkflowRecord, version: int) -> WorkflowRecord:
        values = record.row()
        values["version"] = version + 1
        result = conn.execute(
            update(workflow)
            .where(workflow.c.id == record.id, workflow.c.version == version)
            .values(values)
        )
        if result.rowcount != 1:
            raise Conflict(
                "version",
                f"workflow {record.id!r} was changed meanwhile; reload and try again",
                code="stale_version",
                params={"id": record.id},
            )
        return WorkflowRecord.from_row(values)

    def get(
        self, conn: Connection, workflow_id: str, *, for_update: bool = False
    ) -> WorkflowRecord | None:
        query = select(workflow).where(workflow.c.id == workflow_id)
        if for_update and not self.db.is_sqlite:
            query = query.with_for_update()
        row = conn.execute(query).mappings().first()
        return WorkflowRecord.from_row(row) if row else None

    def all(
        self, conn: Connection, *, owner: tuple[str, str] | None = None
    ) -> list[WorkflowRecord]:
        query = select(workflow).order_by(workflow.c.id)
        if owner is not None:
            query = query.where(workflow.c.owner == owner[0], workflow.c.owner_ref == owner[1])
        return [WorkflowRecord.from_row(r) for r in conn.execute(query).mappings()]

    def delete(self, conn: Connection, workflow_id: str) -> bool:
        result = conn.execute(delete(workflow).where(workflow.c.id == workflow_id))
        return bool(result.rowcount)

    def using_job(self, conn: Connection, job_id: str) -> list[str]:
        """Workflows with a step that runs this job."""
        return [r.id for r in self.all(conn) if any(s.get("job") == job_id for s in r.steps)]

    def claim_due(self, conn: Connection, now: int, limit: int = 100) -> list[WorkflowRecord]:
        """Workflows whose trigger is due, locked (others skip them) for this transaction."""
        query = (
            select(workflow)
            .where(workflow.c.next_fire_at <= now, workflow.c.paused.is_(False))
            .order_by(workflow.c.next_fire_at)
            .limit(limit)
        )
        if self.db.skip_locked:
            query = query.with_for_update(skip_locked=True)
        return [WorkflowRecord.from_row(r) for r in conn.execute(query).mappings()]

    def set_next_fire(self, conn: Connection, workflow_id: str, old: int, new: int | None) -> bool:
        result = conn.execute(
            update(workflow)
            .where(workflow.c.id == workflow_id, workflow.c.next_fire_at == old)
            .values(next_fire_at=new)
        )
        return result.rowcount == 1

    def next_due(self, conn: Connection) -> int | None:
        """The earliest instant the ticker has something to do: a fire or a deadline."""
        fire = conn.execute(
            select(func.min(workflow.c.next_fire_at)).where(workflow.c.paused.is_(False))
        ).scalar_one()
        deadline = conn.execute(
            select(func.min(workflow_run.c.deadline_at)).where(workflow_run.c.status == "running")
        ).scalar_one()
        found = [int(t) for t in (fire, deadline) if t is not None]
        return min(found) if found else None

    # -- workflow runs ------------------------------------------------------------------------
    def insert_run(self, conn: Connection, values: Mapping[str, Any]) -> int | None:
        """Record a workflow run; None when this fire is recorded already (another node)."""
        row = dict(values)
        row["steps"] = list(row["steps"])
        try:
            with conn.begin_nested():
                result = conn.execute(insert(workflow_run).returning(workflow_run.c.id), [row])
                return int(result.scalar_one())
        except IntegrityError:
            return None

    def get_run(
        self, conn: Connection, wr_id: int, *, for_update: bool = False, steps: bool = True
    ) -> WorkflowRunRecord | None:
        query = select(workflow_run).where(workflow_run.c.id == wr_id)
        if for_update and not self.db.is_sqlite:
            query = query.with_for_update()
        row = conn.execute(query).mappings().first()
        if row is None:
            return None
        return WorkflowRunRecord.from_row(
            row, self.step_runs(conn, wr_id, for_update=for_update) if steps else ()
        )

    def runs(
        self,
        conn: Connection,
        workflow_id: str | None = None,
        *,
        before_id: int | None = None,
        limit: int = 50,
    ) -> list[WorkflowRunRecord]:
        """Newest first, with their steps."""
        query = select(workflow_run).order_by(workflow_run.c.id.desc()).limit(limit)
        if workflow_id is not None:
            query = query.where(workflow_run.c.workflow_id == workflow_id)
        if before_id is not None:
            query = query.where(workflow_run.c.id < before_id)
        rows = list(conn.execute(query).mappings())
        steps: dict[int, list[StepRunRecord]] = {}
        if rows:
            ids = [r["id"] for r in rows]
            for s in conn.execute(
                select(workflow_step_run).where(workflow_step_run.c.workflow_run_id.in_(ids))
            ).mappings():
                steps.setdefault(s["workflow_run_id"], []).append(StepRunRecord(**s))
        return [WorkflowRunRecord.from_row(r, steps.get(r["id"], ())) for r in rows]

    def finish_run(
        self, conn: Connection, wr_id: int, status: str, now: int, error: str | None = None
    ) -> bool:
        result = conn.execute(
            update(workflow_run)
            .where(workflow_run.c.id == wr_id, workflow_run.c.status == "running")
            .values(status=status, finished_at=now, error=error)
        )
        return result.rowcount == 1

    def expired(self, conn: Connection, now: int, limit: int = 100) -> list[int]:
        query = (
            select(workflow_run.c.id)
            .where(workflow_run.c.status == "running", workflow_run.c.deadline_at <= now)
            .order_by(workflow_run.c.id)
            .limit(limit)
        )
        if self.db.skip_locked:
            query = query.with_for_update(skip_locked=True)
        return [int(i) for i in conn.execute(query).scalars()]

    # -- steps of workflow runs ---------------------------------------------------------------
    def insert_steps(self, conn: Connection, rows: Sequence[StepRunRecord]) -> None:
        if rows:
            conn.execute(insert(workflow_step_run), [r.to_json() for r in rows])

    def step_runs(
        self, conn: Connection, wr_id: int, *, for_update: bool = False
    ) -> list[StepRunRecord]:
        query = select(workflow_step_run).where(workflow_step_run.c.workflow_run_id == wr_id)
        if for_update and not self.db.is_sqlite:
            # A locking read sees the newest committed rows on every dialect.
            query = query.with_for_update()
        return [StepRunRecord(**r) for r in conn.execute(query).mappings()]

    def running_steps_of_fires(
        self, conn: Connection, fires: Collection[tuple[str, int]]
    ) -> list[StepRunRecord]:
        """Running steps whose run is one of these (job id, fire instant): every attempt of
        a step's run shares its fire. On the outcome path of every run, so one indexed
        query by state and job (running steps are few) and the fires matched here."""
        if not fires:
            return []
        wanted = set(fires)
        query = select(workflow_step_run).where(
            workflow_step_run.c.state == "running",
            self._one_of(workflow_step_run.c.job_id, {j for j, _ in wanted}),
        )
        rows = [StepRunRecord(**r) for r in conn.execute(query).mappings()]
        return [r for r in rows if (r.job_id, r.scheduled_for) in wanted]

    def set_step(
        self,
        conn: Connection,
        wr_id: int,
        step: str,
        from_state: str,
        **values: Any,
    ) -> bool:
        result = conn.execute(
            update(workflow_step_run)
            .where(
                workflow_step_run.c.workflow_run_id == wr_id,
                workflow_step_run.c.step == step,
                workflow_step_run.c.state == from_state,
            )
            .values(**values)
        )
        return result.rowcount == 1

    def workflow_of_run(self, conn: Connection, run_id: int) -> StepRunRecord | None:
        """The step (and so the workflow run) a run record belongs to, any attempt."""
        found = conn.execute(
            select(run.c.job_id, run.c.scheduled_for).where(run.c.id == run_id)
        ).first()
        if found is None:
            return None
        row = (
            conn.execute(
                select(workflow_step_run)
                .where(
                    workflow_step_run.c.job_id == found[0],
                    workflow_step_run.c.scheduled_for == found[1],
                    workflow_step_run.c.carried.is_(False),
                )
                .limit(1)
            )
            .mappings()
            .first()
        )
        return StepRunRecord(**row) if row else None

    def active_attempts(self, conn: Connection, job_id: str, scheduled_for: int) -> list[int]:
        query = select(run.c.id).where(
            run.c.job_id == job_id,
            run.c.scheduled_for == scheduled_for,
            run.c.status.in_(ACTIVE_RUN),
        )
        return [int(i) for i in conn.execute(query).scalars()]

    # -- then lists ---------------------------------------------------------------------------
    def then_of(self, conn: Connection, job_ids: Collection[str]) -> dict[str, list[str]]:
        if not job_ids:
            return {}
        out: dict[str, list[str]] = {}
        query = (
            select(job_then.c.job_id, job_then.c.next_job_id)
            .where(self._one_of(job_then.c.job_id, job_ids))
            .order_by(job_then.c.job_id, job_then.c.position)
        )
        for job_id, nxt in conn.execute(query).all():
            out.setdefault(job_id, []).append(nxt)
        return out

    def all_then(self, conn: Connection) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        query = select(job_then.c.job_id, job_then.c.next_job_id).order_by(
            job_then.c.job_id, job_then.c.position
        )
        for job_id, nxt in conn.execute(query).all():
            out.setdefault(job_id, []).append(nxt)
        return out

    def set_then(self, conn: Connection, job_id: str, next_ids: Sequence[str]) -> None:
        conn.execute(delete(job_then).where(job_then.c.job_id == job_id))
        if next_ids:
            conn.execute(
                insert(job_then),
                [
                    {"job_id": job_id, "next_job_id": n, "position": i}
                    for i, n in enumerate(next_ids)
                ],
            )
