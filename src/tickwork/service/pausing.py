"""Pausing and resuming jobs, one at a time or a whole group."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from tickwork.engine.events import EVENT_JOB_MODIFIED, JobEvent
from tickwork.engine.trigger_cache import trigger_of
from tickwork.errors import NotFound
from tickwork.job import Job
from tickwork.service.base import FacadeBase
from tickwork.store import JobFilter


class PausingMixin(FacadeBase):
    def pause_job(self, job_id: str, jobstore: str | None = None, *, by: str | None = None) -> Job:
        return self._set_paused(job_id, True, by)

    def resume_job(self, job_id: str, jobstore: str | None = None, *, by: str | None = None) -> Job:
        """Resume a paused job; its next fire is the first one after now (fires that fell
        into the pause are not due: a paused job owes nothing)."""
        return self._set_paused(job_id, False, by)

    def pause_group(self, group: str, *, by: str | None = None) -> int:
        with self.store.db.read() as conn:
            ids = self.store.jobs.ids(conn, JobFilter(group=group))
        for job_id in ids:
            self._set_paused(job_id, True, by, detail={"group": group})
        return len(ids)

    def resume_group(self, group: str, *, by: str | None = None) -> int:
        with self.store.db.read() as conn:
            ids = self.store.jobs.ids(conn, JobFilter(group=group))
        for job_id in ids:
            self._set_paused(job_id, False, by, detail={"group": group})
        return len(ids)

    def _set_paused(
        self,
        job_id: str,
        paused: bool,
        by: str | None,
        *,
        detail: Mapping[str, Any] | None = None,
    ) -> Job:
        now = self.clock.now_us()
        with self.store.db.write() as conn:
            old = self.store.jobs.get(conn, job_id, for_update=True)
            if old is None:
                raise NotFound("job", job_id)
            if old.paused == paused:
                return self._job(old)
            nxt = None if paused else trigger_of(old.trigger).next_fire_us(now)
            new = replace(old, paused=paused, next_fire_at=nxt, updated_at=now, updated_by=by)
            saved = self.store.jobs.update(conn, new, old.version)
            self.audit.record(
                conn,
                at=now,
                actor=by or self.actor,
                action="job.pause" if paused else "job.resume",
                job_id=job_id,
                before=old,
                after=saved,
                detail=detail,
            )
        self._publish(JobEvent(EVENT_JOB_MODIFIED, job_id))
        self._changed()
        return self._job(saved)
