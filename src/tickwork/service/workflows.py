"""Workflows through the facade: define (Python API, job files, REST, CLI), run by hand, rerun
from the failed steps, cancel, read; a job's ``then`` list. The progression itself is the run
hook registered here (``tickwork.workflows.progress``), so any node carries any workflow on."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from tickwork.engine.hooks import RunEnded
from tickwork.errors import Conflict, InvalidInput, NotFound
from tickwork.service.control import ControlMixin
from tickwork.service.then import ThenMixin
from tickwork.store.workflows_repo import StepRunRecord, WorkflowRecord, WorkflowRunRecord
from tickwork.triggers.base import Trigger
from tickwork.workflows.progress import Progress
from tickwork.workflows.spec import WorkflowSpec, build_workflow
from tickwork.workflows.ticker import WorkflowTicker

ENDED = ("succeeded", "failed", "timed_out", "cancelled")


class WorkflowsMixin(ThenMixin, ControlMixin):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._progress = Progress(self.store)
        self._ticker: WorkflowTicker | None = None
        self.run_hooks.add(self._workflow_hook)

    def _workflow_hook(self, conn: Connection, ended: Sequence[RunEnded]) -> bool:
        return self._progress.on_ended(conn, ended, self.clock.now_us())

    # -- the node's workflow ticker (triggers, deadlines) -------------------------------------
    def start(self, paused: bool = False) -> None:
        super().start(paused)
        node = self.node
        assert node is not None
        self._ticker = WorkflowTicker(
            self.store, self.clock, poll_s=self.node_options.poll_s, on_queued=node.wake
        )
        self._ticker.start()

    def shutdown(self, wait: bool = True, *, timeout_s: float | None = None) -> None:
        ticker, self._ticker = self._ticker, None
        if ticker is not None:
            ticker.stop()
        super().shutdown(wait, timeout_s=timeout_s)

    def _workflows_changed(self) -> None:
        ticker = self._ticker
        if ticker is not None:
            self.store.db.after_commit(ticker.wake)
        self._changed()

    # -- definitions --------------------------------------------------------------------------
    def add_workflow(
        self,
        id: str,
        steps: Sequence[Any],
        *,
        name: str | None = None,
        description: str = "",
        trigger: str | Trigger | Mapping[str, Any] | None = None,
        timezone: str | None = None,
        deadline_s: float | None = None,
        paused: bool = False,
        replace_existing: bool = False,
        by: str | None = None,
        owner: str = "python",
        **trigger_args: Any,
    ) -> WorkflowRecord:
        """Define a workflow: ``steps`` is a list of ``{"id", "job", "after"}`` (``job``
        defaults to the id; an ``after`` entry is a step id, meaning on success, or
        ``{"step": id, "on": "success" | "failure" | "always"}``). ``trigger`` is optional
        (a cron expression, ``"interval"`` with keywords, a trigger spec); without one the
        workflow runs by hand (``run_workflow``). ``deadline_s`` bounds each workflow run."""
        spec = WorkflowSpec(
            id=id,
            steps=steps,
            name=name,
            description=description,
            trigger=trigger,
            trigger_args=dict(trigger_args),
            timezone=timezone,
            deadline_s=deadline_s,
            paused=paused,
            owner=owner,
        )
        return self.save_workflow(spec, replace_existing=replace_existing, by=by)

    def save_workflow(
        self,
        spec: WorkflowSpec,
        *,
        replace_existing: bool = True,
        expected_version: int | None = None,
        by: str | None = None,
    ) -> WorkflowRecord:
        record = build_workflow(
            spec, now_us=self.clock.now_us(), default_tz=self.settings.timezone, by=by
        )
        with self.store.db.write() as conn:
            saved = self._store_workflow(
                conn, record, replace_existing=replace_existing, expected_version=expected_version
            )
        self._workflows_changed()
        return saved

    def _store_workflow(
        self,
        conn: Connection,
        record: WorkflowRecord,
        *,
        replace_existing: bool,
        expected_version: int | None = None,
        check_owner: bool = True,
    ) -> WorkflowRecord:
        self._check_step_jobs(conn, record)
        old = self.store.workflows.get(conn, record.id, for_update=True)
        actor = record.updated_by or self.actor
        if old is None:
            if expected_version is not None:
                raise NotFound("workflow", record.id)
            self.store.workflows.insert(conn, record)
            self.audit.record(
                conn,
                at=record.created_at,
                actor=actor,
                action="workflow.create",
                subject=record.id,
                after=record.row(),
            )
            return record
        if not replace_existing:
            raise Conflict(
                "id",
                f"a workflow with id {record.id!r} already exists",
                code="duplicate_id",
                params={"id": record.id},
            )
        if check_owner and old.owner == "config" and record.owner != "config":
            raise Conflict(
                "id",
                f"workflow {record.id!r} is defined in {old.owner_ref}; change it there",
                code="workflow_read_only",
                params={"id": record.id, "ref": old.owner_ref or ""},
            )
        if expected_version is not None and expected_version != old.version:
            raise Conflict(
                "version",
                f"workflow {record.id!r} was changed meanwhile; reload and try again",
                code="stale_version",
                params={"id": record.id},
            )
        new = replace(record, created_at=old.created_at, created_by=old.created_by)
        if new.trigger == old.trigger and new.paused == old.paused:
            new = replace(new, next_fire_at=old.next_fire_at)  # keep the schedule
        if new.definition() == old.definition():
            return old
        saved = self.store.workflows.update(conn, new, old.version)
        self.audit.record(
            conn,
            at=new.updated_at,
            actor=actor,
            action="workflow.update",
            subject=record.id,
            before=old.row(),
            after=saved.row(),
        )
        return saved

    def _check_step_jobs(self, conn: Connection, record: WorkflowRecord) -> None:
        with self._lock:
            declared = set(self._declared)
        for step in record.steps:
            job = str(step["job"])
            if job not in declared and self.store.jobs.get(conn, job) is None:
                raise InvalidInput(
                    f"steps.{step['id']}.job",
                    f"job {job!r} does not exist",
                    code="unknown_step_job",
                    params={"step": str(step["id"]), "job": job},
                )

    def get_workflow(self, workflow_id: str) -> WorkflowRecord:
        with self.store.db.read() as conn:
            record = self.store.workflows.get(conn, workflow_id)
        if record is None:
            raise NotFound("workflow", workflow_id)
        return record

    def get_workflows(self) -> list[WorkflowRecord]:
        with self.store.db.read() as conn:
            return self.store.workflows.all(conn)

    def remove_workflow(self, workflow_id: str, *, by: str | None = None) -> None:
        """Remove a definition; its workflow runs stay as history (running ones go on)."""
        with self.store.db.write() as conn:
            old = self.store.workflows.get(conn, workflow_id, for_update=True)
            if old is None:
                raise NotFound("workflow", workflow_id)
            if old.owner == "config":  # the next sync would bring it back
                raise Conflict(
                    "id",
                    f"workflow {workflow_id!r} is defined in {old.owner_ref}; change it there",
                    code="workflow_read_only",
                    params={"id": workflow_id, "ref": old.owner_ref or ""},
                )
            self.store.workflows.delete(conn, workflow_id)
            self.audit.record(
                conn,
                at=self.clock.now_us(),
                actor=by or self.actor,
                action="workflow.remove",
                subject=workflow_id,
                before=old.row(),
            )
        self._workflows_changed()

    def pause_workflow(self, workflow_id: str, *, by: str | None = None) -> WorkflowRecord:
        return self._set_workflow_paused(workflow_id, True, by)

    def resume_workflow(self, workflow_id: str, *, by: str | None = None) -> WorkflowRecord:
        return self._set_workflow_paused(workflow_id, False, by)

    def _set_workflow_paused(
        self, workflow_id: str, paused: bool, by: str | None
    ) -> WorkflowRecord:
        from tickwork.triggers import from_spec

        now = self.clock.now_us()
        with self.store.db.write() as conn:
            old = self.store.workflows.get(conn, workflow_id, for_update=True)
            if old is None:
                raise NotFound("workflow", workflow_id)
            nxt = None
            if not paused and old.trigger is not None:
                nxt = from_spec(old.trigger).next_fire_us(now)
            new = replace(old, paused=paused, next_fire_at=nxt, updated_at=now, updated_by=by)
            saved = self.store.workflows.update(conn, new, old.version)
            self.audit.record(
                conn,
                at=now,
                actor=by or self.actor,
                action="workflow.pause" if paused else "workflow.resume",
                subject=workflow_id,
            )
        self._workflows_changed()
        return saved

    # -- workflow runs ------------------------------------------------------------------------
    def run_workflow(self, workflow_id: str, *, by: str | None = None) -> int:
        """Start a workflow run now; returns its id (its steps run on the scheduler nodes)."""
        now = self.clock.now_us()
        with self.store.db.write() as conn:
            wf = self.store.workflows.get(conn, workflow_id)
            if wf is None:
                raise NotFound("workflow", workflow_id)
            wr_id = None
            for bump in range(100):  # two runs asked for in the same microsecond
                wr_id = self._progress.start(
                    conn,
                    workflow_id=wf.id,
                    steps=wf.steps,
                    scheduled_for=now + bump,
                    reason="manual",
                    now=now,
                    deadline_s=wf.deadline_s,
                    by=by,
                )
                if wr_id is not None:
                    break
            assert wr_id is not None
            self.audit.record(
                conn,
                at=now,
                actor=by or self.actor,
                action="workflow.run",
                subject=workflow_id,
                detail={"workflow_run": wr_id},
            )
        self._workflows_changed()
        return wr_id

    def rerun_workflow_run(self, workflow_run_id: int, *, by: str | None = None) -> int:
        """Run an ended, unsuccessful workflow run again from its failed steps: those that
        did not succeed and everything downstream of them run; the rest keep their success.
        Returns the new workflow run's id (``rerun_of`` names the old one)."""
        now = self.clock.now_us()
        with self.store.db.write() as conn:
            old = self.store.workflows.get_run(conn, workflow_run_id, for_update=True)
            if old is None:
                raise NotFound("workflow run", workflow_run_id)
            if old.status in ("running", "succeeded"):
                raise Conflict(
                    "status",
                    f"workflow run {workflow_run_id} is {old.status}; only an ended, "
                    "unsuccessful workflow run can be rerun",
                    code="workflow_run_not_rerunnable",
                    params={"id": workflow_run_id, "status": old.status},
                )
            wf = self.store.workflows.get(conn, old.workflow_id)
            carried, _ = Progress.rerun_plan(old)
            wr_id = None
            for bump in range(100):
                wr_id = self._progress.start(
                    conn,
                    workflow_id=old.workflow_id,
                    steps=old.steps,
                    scheduled_for=now + bump,
                    reason="rerun",
                    now=now,
                    deadline_s=wf.deadline_s if wf is not None else None,
                    by=by,
                    carried=carried,
                    rerun_of=old.id,
                )
                if wr_id is not None:
                    break
            assert wr_id is not None
            self.audit.record(
                conn,
                at=now,
                actor=by or self.actor,
                action="workflow.rerun",
                subject=old.workflow_id,
                detail={"workflow_run": wr_id, "rerun_of": old.id},
            )
        self._workflows_changed()
        return wr_id

    def cancel_workflow_run(self, workflow_run_id: int, *, by: str | None = None) -> str:
        """Cancel a running workflow run: its waiting steps are skipped, its running steps'
        runs cancelled. Returns its status afterwards."""
        now = self.clock.now_us()
        why = f"cancelled by {by}" if by else "cancelled on request"
        with self.store.db.write() as conn:
            wr = self.store.workflows.get_run(conn, workflow_run_id, for_update=True, steps=False)
            if wr is None:
                raise NotFound("workflow run", workflow_run_id)
            if wr.status != "running":
                raise Conflict(
                    "status",
                    f"workflow run {workflow_run_id} already ended ({wr.status})",
                    code="workflow_run_ended",
                    params={"id": workflow_run_id, "status": wr.status},
                )
            self._progress.stop(conn, workflow_run_id, "cancelled", why, now)
            self.audit.record(
                conn,
                at=now,
                actor=by or self.actor,
                action="workflow.cancel",
                subject=wr.workflow_id,
                detail={"workflow_run": workflow_run_id},
            )
        node = self.node
        if node is not None:  # a step run of this node may be running: cut it short now
            for run_id in self._running_attempts_of(workflow_run_id):
                node.dispatcher.cancel(run_id, f"cancelled: {why}")
        return "cancelled"

    def _running_attempts_of(self, workflow_run_id: int) -> list[int]:
        with self.store.db.read() as conn:
            steps = self.store.workflows.step_runs(conn, workflow_run_id)
            return [
                rid
                for s in steps
                if s.state == "running" and s.scheduled_for is not None
                for rid in self.store.workflows.active_attempts(conn, s.job_id, s.scheduled_for)
            ]

    def get_workflow_run(self, workflow_run_id: int) -> WorkflowRunRecord:
        with self.store.db.read() as conn:
            wr = self.store.workflows.get_run(conn, workflow_run_id)
        if wr is None:
            raise NotFound("workflow run", workflow_run_id)
        return wr

    def get_workflow_runs(
        self, workflow_id: str | None = None, *, before: int | None = None, limit: int = 50
    ) -> list[WorkflowRunRecord]:
        with self.store.db.read() as conn:
            return self.store.workflows.runs(conn, workflow_id, before_id=before, limit=limit)

    def workflow_step_of_run(self, run_id: int) -> StepRunRecord | None:
        """The workflow run and step a run record belongs to (any attempt), or None."""
        with self.store.db.read() as conn:
            return self.store.workflows.workflow_of_run(conn, run_id)

    # -- job files ----------------------------------------------------------------------------
    def sync_job_files(self, paths: Iterable[Path | str]) -> dict[str, dict[str, int]]:
        """Jobs first (a workflow names them), then each file's workflows and then lists.
        Workflow definitions are validated before anything is written."""
        from tickwork.jobfiles import owner_ref
        from tickwork.workflows.files import read_workflow_parts

        sources = [str(p) for p in paths]
        now = self.clock.now_us()
        parts = {s: read_workflow_parts(s) for s in sources}
        built: dict[str, list[WorkflowRecord]] = {}
        for source in sources:
            built[source] = []
            for w in parts[source].workflows:
                with _in_file(source, w.id):
                    built[source].append(
                        build_workflow(
                            replace(w, owner="config", owner_ref=owner_ref(source)),
                            now_us=now,
                            default_tz=self.settings.timezone,
                            by="config",
                        )
                    )
        counts = super().sync_job_files(sources)
        for source in sources:
            with self.store.db.write() as conn:
                removed = self._sync_file_workflows(conn, owner_ref(source), source, built[source])
                file_then = parts[source].then
                # Cleared first, so that a cycle through the file's old lists is no cycle.
                for job_id in file_then:
                    if self.store.workflows.then_of(conn, [job_id]):
                        self.store.workflows.set_then(conn, job_id, [])
                for job_id, then in file_then.items():
                    with _in_file(source, job_id, "job"):
                        self._write_then(conn, job_id, then, by="config")
            if built[source] or removed:  # a file of jobs only reports what it always did
                counts.setdefault(source, {})["workflows"] = len(built[source])
                counts[source]["workflows_removed"] = removed
        self._workflows_changed()
        return counts

    def _sync_file_workflows(
        self, conn: Connection, ref: str, source: str, records: Sequence[WorkflowRecord]
    ) -> int:
        wanted = {r.id: r for r in records}
        removed = 0
        for old in self.store.workflows.all(conn, owner=("config", ref)):
            if old.id not in wanted:
                self.store.workflows.delete(conn, old.id)
                removed += 1
        for wanted_record in wanted.values():
            record = wanted_record
            found = self.store.workflows.get(conn, record.id)
            if found is not None and (found.owner, found.owner_ref) != ("config", ref):
                raise Conflict(
                    "id",
                    f"workflow {record.id!r} already exists and belongs to "
                    f"{found.owner}{' ' + found.owner_ref if found.owner_ref else ''}",
                    code="id_owned_elsewhere",
                    params={"id": record.id, "owner": found.owner, "ref": found.owner_ref},
                )
            if found is not None:
                # Pausing is operating state, not definition: a sync keeps it (the file's
                # ``paused`` is the state a new workflow starts in).
                record = replace(
                    record,
                    paused=found.paused,
                    next_fire_at=None if found.paused else record.next_fire_at,
                )
            with _in_file(source, record.id):
                self._store_workflow(conn, record, replace_existing=True, check_owner=False)
        return removed


@contextlib.contextmanager
def _in_file(source: str, ident: str, what: str = "workflow") -> Iterator[None]:
    """An InvalidInput's field prefixed by the file and the definition it is about."""
    try:
        yield
    except InvalidInput as exc:
        label = Path(source).name
        raise InvalidInput(
            f"{label}: {what} {ident!r}: {exc.field}", exc.reason, code=exc.code, params=exc.params
        ) from None
