"""Declarative jobs: those declared in code and those defined in job files are owned by their
source; a sync makes the stored jobs of one source exactly what it declares."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from tickwork.engine.events import EVENT_JOB_ADDED, EVENT_JOB_MODIFIED, EVENT_JOB_REMOVED, JobEvent
from tickwork.errors import Conflict
from tickwork.jobfiles import load_job_file, owner_ref
from tickwork.service.base import FacadeBase
from tickwork.service.specs import carry_schedule, definition
from tickwork.store import JobFilter
from tickwork.store.records import JobRecord


class SyncMixin(FacadeBase):
    def sync_declared(self) -> None:
        """Write jobs declared in code; remove this app's code jobs no longer declared."""
        with self._lock:
            declared = dict(self._declared)
        if not declared:
            return
        self.sync_owned("code", self.app, list(declared.values()))
        with self._lock:
            self._declared.clear()

    def sync_owned(
        self, owner: str, owner_ref: str, records: Sequence[JobRecord]
    ) -> dict[str, int]:
        """Make the jobs owned by (owner, owner_ref) exactly ``records``: create, update when
        the definition changed (keeping the schedule when only Tickwork's default interval
        start differs), remove the others. Jobs owned by anyone else are never touched."""
        counts = {"created": 0, "updated": 0, "removed": 0, "unchanged": 0}
        wanted = {r.id: replace(r, owner=owner, owner_ref=owner_ref) for r in records}
        events: list[JobEvent] = []
        actor = f"{owner}:{owner_ref}" if owner_ref else owner
        via = {"sync": owner, "owner_ref": owner_ref}
        now = self.clock.now_us()
        with self.store.db.write() as conn:

            def audit(action: str, job_id: str, before: Any, after: Any) -> None:
                self.audit.record(
                    conn,
                    at=now,
                    actor=actor,
                    action=action,
                    job_id=job_id,
                    before=before,
                    after=after,
                    detail=via,
                )

            owned = self.store.jobs.ids(conn, JobFilter(owner=owner, owner_ref=owner_ref))
            for job_id in owned:
                if job_id not in wanted:
                    audit("job.remove", job_id, self.store.jobs.get(conn, job_id), None)
                    self.store.jobs.delete(conn, job_id)
                    counts["removed"] += 1
                    events.append(JobEvent(EVENT_JOB_REMOVED, job_id))
            for wanted_record in wanted.values():
                old = self.store.jobs.get(conn, wanted_record.id, for_update=True)
                self._check_kind(conn, wanted_record, old)
                record = self._seal(wanted_record, old)
                if old is None:
                    self.store.jobs.insert(conn, record)
                    audit("job.create", record.id, None, record)
                    counts["created"] += 1
                    events.append(JobEvent(EVENT_JOB_ADDED, record.id))
                    continue
                if (old.owner, old.owner_ref) != (owner, owner_ref):
                    raise Conflict(
                        "id",
                        f"job {record.id!r} already exists and belongs to {old.owner}"
                        f"{' ' + old.owner_ref if old.owner_ref else ''}; choose another id",
                        code="id_owned_elsewhere",
                        params={"id": record.id, "owner": old.owner, "ref": old.owner_ref},
                    )
                # Pausing is operating state, not definition: a sync keeps it (the file's
                # ``paused`` is the state a new job starts in).
                kept = replace(
                    record,
                    paused=old.paused,
                    next_fire_at=None if old.paused else record.next_fire_at,
                )
                new = carry_schedule(old, kept)
                if definition(new) == definition(old):
                    counts["unchanged"] += 1
                    continue
                saved = self.store.jobs.update(conn, new, old.version)
                audit("job.update", record.id, old, saved)
                counts["updated"] += 1
                events.append(JobEvent(EVENT_JOB_MODIFIED, record.id))
        for event in events:
            self._publish(event)
        if events:
            self._changed()
        return counts

    def sync_job_files(self, paths: Iterable[Path | str]) -> dict[str, dict[str, int]]:
        """Validate every job file, then sync each one; returns counts per file."""
        now = self.clock.now_us()
        loaded = [
            (
                source,
                load_job_file(
                    source,
                    now_us=now,
                    default_tz=self.settings.timezone,
                    check_targets=self.check_targets,
                ),
            )
            for source in map(str, paths)
        ]
        return {
            source: self.sync_owned("config", owner_ref(source), records)
            for source, records in loaded
        }
