"""A job's ``then`` list through the facade: the jobs queued after each success of it
(xxl-job's child jobs; a two-level workflow). The runs are queued by the workflow run hook
(``tickwork.workflows.progress``)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection

from tickwork.errors import InvalidInput, NotFound
from tickwork.service.base import FacadeBase
from tickwork.workflows.spec import check_then


class ThenMixin(FacadeBase):
    def set_then(
        self, job_id: str, next_job_ids: Sequence[str], *, by: str | None = None
    ) -> list[str]:
        """After each success of ``job_id``, queue a run of each of ``next_job_ids`` (xxl-job's
        child jobs). Unknown jobs, self-edges and cycles are refused naming the edge."""
        with self.store.db.write() as conn:
            self._write_then(conn, job_id, next_job_ids, by=by)
        return list(next_job_ids)

    def _write_then(
        self, conn: Connection, job_id: str, next_job_ids: object, *, by: str | None
    ) -> None:
        with self._lock:
            declared = set(self._declared)
        if job_id not in declared and self.store.jobs.get(conn, job_id) is None:
            raise NotFound("job", job_id)
        others = {k: v for k, v in self.store.workflows.all_then(conn).items() if k != job_id}
        wanted = check_then(job_id, next_job_ids, others)
        for nxt in wanted:
            if nxt not in declared and self.store.jobs.get(conn, nxt) is None:
                raise InvalidInput(
                    "then",
                    f"edge {job_id} -> {nxt}: job {nxt!r} does not exist",
                    code="workflow_unknown_step",
                    params={"edge": f"{job_id} -> {nxt}", "step": nxt},
                )
        before = self.store.workflows.then_of(conn, [job_id]).get(job_id, [])
        if before == wanted:
            return
        self.store.workflows.set_then(conn, job_id, wanted)
        self.audit.record(
            conn,
            at=self.clock.now_us(),
            actor=by or self.actor,
            action="job.then",
            job_id=job_id,
            detail={"before": before, "after": wanted},
        )

    def get_then(self, job_id: str) -> list[str]:
        with self.store.db.read() as conn:
            return self.store.workflows.then_of(conn, [job_id]).get(job_id, [])
