"""Runs through the facade: run a job now, read runs, cancel one."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from tickwork.audit import redacted_params
from tickwork.engine.events import EVENT_JOB_SUBMITTED, JobEvent
from tickwork.engine.hooks import RunEnded
from tickwork.engine.trigger_cache import fires_at
from tickwork.errors import Conflict, InvalidInput, NotFound
from tickwork.models import ACTIVE_STATUSES, RunReason, RunStatus
from tickwork.parameters import check_run_params, declared_of
from tickwork.service.base import FacadeBase
from tickwork.store import RunFilter
from tickwork.store.records import RunRecord
from tickwork.store.runs import NewRun


class RunsMixin(FacadeBase):
    def run_job(
        self,
        job_id: str,
        jobstore: str | None = None,
        *,
        params: Mapping[str, Any] | None = None,
        by: str | None = None,
    ) -> int:
        """Queue a run of the job now and return its run id at once; a scheduler node runs
        it (this process's, if started). ``params`` (``{"kwargs": {name: value}}``) may set
        the run-time parameters the job declares, each within its declaration; positional
        args and secret kwargs are never overridden (``tickwork.parameters``)."""
        now = self.clock.now_us()
        with self.store.db.write() as conn:
            job = self.store.jobs.get(conn, job_id)
            if job is None:
                raise NotFound("job", job_id)
            params = check_run_params(params, declared_of(job.target), job.secret_keys)
            run_id = self.store.runs.insert_one(
                conn,
                NewRun(
                    job_id=job_id,
                    scheduled_for=now,
                    due_at=now,
                    reason=RunReason.MANUAL.value,
                    status=RunStatus.SCHEDULED.value,
                    params=params,
                    triggered_by=by,
                ),
                now,
                # Due now even when its recorded instant steps aside (a run of the same job
                # asked at the same instant, or a fire of its schedule there).
                keep_due=True,
                avoid=fires_at(job.trigger),
            )
            self.audit.record(
                conn,
                at=now,
                actor=by or self.actor,
                action="job.run",
                job_id=job_id,
                run_id=run_id,
                detail={"params": redacted_params(params, job.secret_keys)},
            )
        self._changed()
        self._publish(JobEvent(EVENT_JOB_SUBMITTED, job_id))
        return run_id

    def get_run(self, run_id: int) -> RunRecord:
        with self.store.db.read() as conn:
            record = self.store.runs.get(conn, run_id)
        if record is None:
            raise NotFound("run", run_id)
        return record

    def get_runs(
        self,
        job_id: str | None = None,
        *,
        status: str | Iterable[str] | None = None,
        since: int | None = None,
        until: int | None = None,
        before: int | None = None,
        limit: int = 100,
        hidden_groups: frozenset[str] = frozenset(),
    ) -> list[RunRecord]:
        """Runs newest first; those of jobs in ``hidden_groups`` are left out."""
        statuses = [status] if isinstance(status, str) else (list(status) if status else None)
        flt = RunFilter(
            job_id=job_id, statuses=statuses, since=since, until=until, hidden_groups=hidden_groups
        )
        with self.store.db.read() as conn:
            return self.store.runs.page(conn, flt, before_id=before, limit=limit)

    def search_runs(
        self,
        text: str,
        job_id: str | None = None,
        *,
        status: str | Iterable[str] | None = None,
        since: int | None = None,
        until: int | None = None,
        before: int | None = None,
        limit: int = 100,
        hidden_groups: frozenset[str] = frozenset(),
    ) -> tuple[list[RunRecord], int | None]:
        """Runs whose log, error or result contains ``text`` (case-insensitive), newest first,
        and the ``before`` to continue from (None: nothing older left). Each call searches a
        bounded window of the newest runs that match the other filters (see
        ``tickwork.store.run_search``), so it may return fewer than ``limit`` with a cursor."""
        from tickwork.store.run_search import search_page

        if not isinstance(text, str) or not text.strip():
            raise InvalidInput("q", "must be non-empty text", code="empty_text")
        statuses = [status] if isinstance(status, str) else (list(status) if status else None)
        flt = RunFilter(
            job_id=job_id, statuses=statuses, since=since, until=until, hidden_groups=hidden_groups
        )
        with self.store.db.read() as conn:
            return search_page(conn, flt, text.strip(), before_id=before, limit=limit)

    def cancel_run(self, run_id: int, *, by: str | None = None) -> str:
        """Cancel a queued or running run; returns the run's status after the request."""
        reason = f"cancelled by {by}" if by else "cancelled on request"
        with self.store.db.write() as conn:
            now = self.clock.now_us()
            status = self.store.runs.request_cancel(conn, run_id, now, reason)
            if status in {s.value for s in ACTIVE_STATUSES} | {RunStatus.CANCELLED.value}:
                run = self.store.runs.get(conn, run_id)
                if status == RunStatus.CANCELLED.value and run is not None:
                    # A queued run ended here, not on a node: its run hooks (a workflow's
                    # next steps) are called in this transaction.
                    self.run_hooks(conn, [_cancelled(run, now, reason)])
                self.audit.record(
                    conn,
                    at=now,
                    actor=by or self.actor,
                    action="run.cancel",
                    job_id=run.job_id if run else None,
                    run_id=run_id,
                    detail={"status": status},
                )
        if status is None:
            raise NotFound("run", run_id)
        if status not in {s.value for s in ACTIVE_STATUSES} | {RunStatus.CANCELLED.value}:
            raise Conflict(
                "status",
                f"run {run_id} already ended ({status})",
                code="run_ended",
                params={"id": run_id, "status": status},
            )
        if self.node is not None:
            self.node.dispatcher.cancel(run_id, reason)
        return status


def _cancelled(run: RunRecord, now: int, reason: str) -> RunEnded:
    return RunEnded(
        run_id=run.id,
        job_id=run.job_id,
        status=RunStatus.CANCELLED.value,
        scheduled_for=run.scheduled_for,
        attempt=run.attempt,
        final=True,
        reason=run.reason,
        finished_at=now,
        error=reason,
        retry_of=run.retry_of,
    )
