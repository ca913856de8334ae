"""Adding many jobs in one transaction (``add_jobs``, ``add_records``; issue 15: a million
jobs in seconds): built and checked first, then written batch by batch with progress
after each. All or nothing: an invalid job, a refused target or a taken id raises and the
transaction rolls back. (Building the next batch in a thread while one is written gained
nothing measurable: the driver's GIL handovers per row cost what the overlap saved.)
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Callable, Iterator, Sequence

from tickwork.bulk_build import build_records
from tickwork.errors import InvalidInput
from tickwork.jobspec import JobSpec
from tickwork.service.base import RESTRICTED_OWNERS, FacadeBase
from tickwork.store.bulk_rows import bulk_load
from tickwork.store.job_batch import JobBatch
from tickwork.store.records import JobRecord
from tickwork.store.tables import job as job_table
from tickwork.store.tables_audit import audit_event
from tickwork.targets.policy import check_target

BULK_BATCH = 50_000  # most rows per insert of a bulk add (one transaction for all)


@contextlib.contextmanager
def no_gc() -> Iterator[None]:
    """The cyclic collector off while a bulk call makes a million records and rows (none
    of them cyclic): its passes over the growing heap took 40 % of building 300,000."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def batch_size(total: int) -> int:
    """About twenty steps of progress, in batches of 500 to 50,000 rows."""
    return min(BULK_BATCH, max(500, -(-total // 20)))


class BulkAddMixin(FacadeBase):
    def add_jobs(
        self,
        specs: Sequence[JobSpec],
        *,
        by: str | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """Bulk-add new jobs (ids must not exist yet) in one transaction. Each job is
        validated as ``add_job`` would (``BulkBuilder``: what they share checked once,
        equal cron triggers built once). ``progress`` is called with
        the number of jobs written so far, after each batch (about twenty in all)."""
        with no_gc():  # built before the transaction: SQLite's write lock is not held meanwhile
            records = build_records(
                specs, now_us=self.clock.now_us(), default_tz=self.settings.timezone, by=by
            )
            return self.add_records(records, by=by, progress=progress)

    def add_records(
        self,
        records: Sequence[JobRecord],
        *,
        by: str | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """Bulk-add jobs already built by ``build_record`` or a ``BulkBuilder`` (an importer
        validated each one and keeps them: building them again would double the work). One
        transaction; the audit keeps one lean ``job.create`` event per job
        (``AuditLog.record_created``). Secrets are sealed here."""
        with no_gc():
            now = self.clock.now_us()
            parts = records.parts if isinstance(records, JobBatch) else records
            records = JobBatch(  # a run's jobs hold no secrets: only whole records sealed
                [self._seal(p) if isinstance(p, JobRecord) and p.secret_keys else p for p in parts]
            )
            shapes = records.shapes()  # a run's jobs are alike in all the checks read
            self._check_restricted_many(shapes)
            actor = by or self.actor
            detail = {"bulk": len(records)}
            size = batch_size(len(records))
            with (
                self.store.db.write() as conn,
                bulk_load(conn, (job_table, audit_event), len(records)),
            ):
                for r in shapes:
                    if r.target_kind != "python":
                        self._check_kind(conn, r, None)
                for start in range(0, len(records), size):
                    batch = records[start : start + size]
                    self.store.jobs.insert_many(conn, batch)
                    self.audit.record_created(
                        conn, at=now, actor=actor, job_ids=batch.ids(), detail=detail
                    )
                    if progress is not None:
                        progress(start + len(batch))
        self._changed()
        return len(records)

    def _check_restricted_many(self, records: Sequence[JobRecord]) -> None:
        """``_check_restricted`` of new jobs, for many: the allowed targets read once, each
        distinct target checked once."""
        if not any(r.owner in RESTRICTED_OWNERS for r in records):
            return
        allowed = self.allowed_targets()
        passed: set[tuple[str, str]] = set()
        for r in records:
            if r.owner not in RESTRICTED_OWNERS or r.target_kind not in ("python", "celery"):
                continue
            ref = str(r.target.get("ref" if r.target_kind == "python" else "app"))
            if (r.target_kind, ref) in passed:
                continue
            try:
                check_target(ref, allowed)  # a denied one too
            except InvalidInput as exc:
                raise InvalidInput(
                    f"jobs[{r.id}].target", exc.reason, code=exc.code, params=exc.params
                ) from None
            passed.add((r.target_kind, ref))
