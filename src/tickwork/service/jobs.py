"""Jobs through the facade: add (APScheduler style, bulk, whole definitions), read, modify,
reschedule, remove. Every write is one transaction with its audit record."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from tickwork.engine.events import (
    EVENT_ALL_JOBS_REMOVED,
    EVENT_JOB_ADDED,
    EVENT_JOB_MODIFIED,
    EVENT_JOB_REMOVED,
    JobEvent,
    SchedulerEvent,
)
from tickwork.errors import Conflict, InvalidInput, NotFound, ReadOnlyJob
from tickwork.job import Job
from tickwork.jobspec import UNSET, JobSpec, build_record
from tickwork.service.base import RESTRICTED_OWNERS, FacadeBase
from tickwork.service.specs import (
    JOB_KEYS,
    MODIFIABLE,
    carry_schedule,
    definition,
    keep_next,
    spec_from_call,
    spec_of,
)
from tickwork.store import JobFilter
from tickwork.store.records import JobRecord
from tickwork.targets.policy import check_target


def check_editable(old: JobRecord, origin: str) -> None:
    """Jobs defined in a job file change in the file (a change here would be undone at the
    next sync); jobs declared in code change in code, not from a face."""
    if old.owner == "config" or (old.owner == "code" and origin != "python"):
        raise ReadOnlyJob(old.id, old.owner, old.owner_ref)


class JobsMixin(FacadeBase):
    def add_job(
        self,
        func: Callable[..., Any] | str | Mapping[str, Any],
        trigger: Any = None,
        args: Sequence[Any] | None = None,
        kwargs: Mapping[str, Any] | None = None,
        id: str | None = None,
        name: str | None = None,
        misfire_grace_time: Any = UNSET,
        coalesce: Any = UNSET,
        max_instances: Any = UNSET,
        next_run_time: Any = UNSET,
        jobstore: str = "default",
        executor: str | None = None,
        replace_existing: bool = False,
        **options: Any,
    ) -> Job:
        """Add a job, APScheduler 3 style. ``func`` is a function, a "pkg.mod:func" reference
        or another kind's target mapping (``{"kind": "shell", "command": [...]}``, see
        docs/targets.md). ``trigger`` is "cron", "interval" or "date" with
        trigger keywords, a cron expression ("0 2 * * *", "0 0 9 * * 1", "@daily"), or a
        trigger object; Tickwork's own options (group, tags, timeout, retries, concurrency,
        misfire_policy, ...) go in ``options`` too. Declared before ``start()``, a job is
        synced to the database at start; after it, it is written at once."""
        job_options = {k: v for k, v in options.items() if k in JOB_KEYS}
        trigger_args = {k: v for k, v in options.items() if k not in JOB_KEYS}
        if job_options.get("owner") in RESTRICTED_OWNERS and isinstance(func, str):
            check_target(func, self.allowed_targets())  # before build_record imports it
        spec = spec_from_call(
            job_defaults=self.job_defaults,
            node_running=self.node is not None,
            app=self.app,
            check_targets=self.check_targets,
            func=func,
            trigger=trigger,
            trigger_args=trigger_args,
            args=args,
            kwargs=kwargs,
            job_id=id,
            name=name,
            misfire_grace_time=misfire_grace_time,
            coalesce=coalesce,
            max_instances=max_instances,
            next_run_time=next_run_time,
            executor=self._executor_name(executor),
            options=job_options,
        )
        record = self._build(spec, by=job_options.get("owner"))
        if spec.owner == "code" and self.node is None:
            with self._lock:
                if record.id in self._declared and not replace_existing:
                    raise Conflict(
                        "id",
                        f"job {record.id!r} is already declared",
                        code="duplicate_id",
                        params={"id": record.id},
                    )
                self._declared[record.id] = record
            return self._job(record, pending=True)
        return self._job(self._save(record, replace_existing=replace_existing))

    def job(self, trigger: Any = None, **options: Any) -> Callable[[Callable[..., Any]], Any]:
        """Decorator form of ``add_job``: ``@tw.job("cron", hour=2)``."""

        def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
            self.add_job(func, trigger, **options)
            return func

        return decorate

    scheduled_job = job  # APScheduler 3's name

    def get_job(self, job_id: str, jobstore: str | None = None) -> Job | None:
        with self.store.db.read() as conn:
            record = self.store.jobs.get(conn, job_id)
        if record is None:
            declared = self._declared.get(job_id)
            return self._job(declared, pending=True) if declared and self.node is None else None
        return self._job(record)

    def get_jobs(
        self,
        jobstore: str | None = None,
        *,
        group: str | None = None,
        tag: str | None = None,
        state: str | None = None,
        text: str | None = None,
        after: str | None = None,
        limit: int | None = None,
    ) -> list[Job]:
        flt = JobFilter(group=group, tag=tag, state=state, text=text)
        with self.store.db.read() as conn:
            records = self.store.jobs.page(conn, flt, after_id=after, limit=limit or 1_000_000)
        jobs = [self._job(r) for r in records]
        if self.node is None and self._declared and after is None:
            stored = {r.id for r in records}
            jobs += [
                self._job(r, pending=True) for r in self._declared.values() if r.id not in stored
            ]
        return jobs

    def modify_job(
        self,
        job_id: str,
        jobstore: str | None = None,
        *,
        expected_version: int | None = None,
        by: str | None = None,
        origin: str = "python",
        **changes: Any,
    ) -> Job:
        """Change job options (not the trigger: see ``reschedule_job``). APScheduler's
        ``next_run_time`` moves the next fire (None pauses). ``origin`` is the face asking
        ("python", "api", "cli"): jobs defined in job files are changed there, jobs declared
        in code only by code."""
        next_run_time = changes.pop("next_run_time", UNSET)
        coalesce = changes.pop("coalesce", UNSET)
        if isinstance(changes.get("executor"), str):
            changes["executor"] = self._executor_name(changes["executor"])
        unknown = set(changes) - set(MODIFIABLE)
        if unknown:
            raise InvalidInput(
                sorted(unknown)[0],
                "is not a job option that can be modified",
                code="unknown_option",
            )

        def change(old: JobRecord, spec: JobSpec) -> JobSpec:
            for key, value in changes.items():
                setattr(spec, MODIFIABLE[key], value)
            if coalesce is not UNSET and "misfire_policy" not in changes:
                spec.misfire_policy = "run_once" if coalesce else "run_all"
            if next_run_time is not UNSET:
                spec.next_run_time = next_run_time
            else:
                spec.next_run_time = None if old.paused else keep_next(old.next_fire_at)
            return spec

        return self._rewrite(
            job_id, change, expected_version=expected_version, by=by, origin=origin
        )

    def reschedule_job(
        self,
        job_id: str,
        trigger: Any = None,
        jobstore: str | None = None,
        *,
        expected_version: int | None = None,
        by: str | None = None,
        origin: str = "python",
        **trigger_args: Any,
    ) -> Job:
        """Give a job a new trigger; its next fire is computed from now. With keywords but no
        trigger (``job.reschedule(minutes=10)``) the job keeps its trigger kind; with neither,
        it runs once now (APScheduler's ``date`` default)."""

        def change(old: JobRecord, spec: JobSpec) -> JobSpec:
            kind = trigger
            if kind is None:
                kind = old.trigger_kind if trigger_args else "date"
            spec.trigger = kind
            spec.trigger_args = trigger_args
            spec.next_run_time = None if old.paused else UNSET
            return spec

        return self._rewrite(
            job_id,
            change,
            expected_version=expected_version,
            by=by,
            action="job.reschedule",
            origin=origin,
        )

    def remove_job(
        self,
        job_id: str,
        jobstore: str | None = None,
        *,
        by: str | None = None,
        origin: str = "python",
    ) -> None:
        with self.store.db.write() as conn:
            old = self.store.jobs.get(conn, job_id, for_update=True)
            if old is not None:
                check_editable(old, origin)
            with self._lock:
                declared = self._declared.pop(job_id, None)
            removed = self.store.jobs.delete(conn, job_id)
            if removed:
                self.audit.record(
                    conn,
                    at=self.clock.now_us(),
                    actor=by or self.actor,
                    action="job.remove",
                    job_id=job_id,
                    before=old,
                )
        if not removed and declared is None:
            raise NotFound("job", job_id)
        self._publish(JobEvent(EVENT_JOB_REMOVED, job_id))
        self._changed()

    def remove_all_jobs(self, jobstore: str | None = None) -> None:
        with self._lock:
            self._declared.clear()
        now = self.clock.now_us()
        with self.store.db.write() as conn:
            for job_id in self.store.jobs.ids(conn, JobFilter()):
                old = self.store.jobs.get(conn, job_id)
                self.store.jobs.delete(conn, job_id)
                self.audit.record(
                    conn, at=now, actor=self.actor, action="job.remove", job_id=job_id, before=old
                )
        self._publish(SchedulerEvent(EVENT_ALL_JOBS_REMOVED))
        self._changed()

    def create_job(
        self, spec: JobSpec, *, by: str | None = None, replace_existing: bool = False
    ) -> Job:
        """Add a job from a JobSpec (the REST API builds them with ``check_target=False``, so
        the server never imports user code)."""
        return self._job(
            self._save(self._build(spec, by=by), replace_existing=replace_existing, by=by)
        )

    def update_job(
        self,
        job_id: str,
        *,
        expected_version: int | None = None,
        by: str | None = None,
        origin: str = "api",
        **fields: Any,
    ) -> Job:
        """Change any JobSpec fields (``trigger``/``trigger_args`` and ``timezone`` included)
        in one transaction with one version step and one audit record. A new trigger or zone
        moves the next fire to the first one after now; otherwise the schedule is kept."""
        allowed = set(JobSpec.__dataclass_fields__) - {"id", "owner", "owner_ref", "check_target"}
        unknown = set(fields) - allowed
        if unknown:
            raise InvalidInput(
                sorted(unknown)[0], "is not a job field that can be changed", code="unknown_option"
            )
        reschedules = bool({"trigger", "trigger_args", "timezone"} & set(fields))

        def change(old: JobRecord, spec: JobSpec) -> JobSpec:
            for key, value in fields.items():
                setattr(spec, key, value)
            if "trigger" not in fields and "timezone" in fields:
                spec.trigger = {**old.trigger, "tz": spec.timezone or self.settings.timezone}
            if "next_run_time" in fields:
                return spec
            if spec.paused:
                spec.next_run_time = None
            elif reschedules or old.paused:
                spec.next_run_time = UNSET
            else:
                spec.next_run_time = keep_next(old.next_fire_at)
            return spec

        return self._rewrite(
            job_id,
            change,
            expected_version=expected_version,
            by=by,
            origin=origin,
            restricted=True,
        )

    def _save(
        self, record: JobRecord, *, replace_existing: bool, by: str | None = None
    ) -> JobRecord:
        with self.store.db.write() as conn:
            old = (
                self.store.jobs.get(conn, record.id, for_update=True) if replace_existing else None
            )
            if record.owner in RESTRICTED_OWNERS:
                self._check_restricted(record, old)
            self._check_kind(conn, record, old)
            record = self._seal(record, old)
            if old is None:
                self.store.jobs.insert(conn, record)
                saved, code = record, EVENT_JOB_ADDED
                self.audit.record(
                    conn,
                    at=record.created_at,
                    actor=by or self.actor,
                    action="job.create",
                    job_id=record.id,
                    after=record,
                )
            else:
                if (old.owner, old.owner_ref) != (record.owner, record.owner_ref):
                    check_editable(old, "replace")
                new = replace(
                    carry_schedule(old, record),
                    created_at=old.created_at,
                    created_by=old.created_by,
                )
                if definition(new) == definition(old):
                    return old
                saved, code = self.store.jobs.update(conn, new, old.version), EVENT_JOB_MODIFIED
                self.audit.record(
                    conn,
                    at=new.updated_at,
                    actor=by or self.actor,
                    action="job.update",
                    job_id=record.id,
                    before=old,
                    after=saved,
                )
        self._publish(JobEvent(code, record.id))
        self._changed()
        return saved

    def _rewrite(
        self,
        job_id: str,
        change: Callable[[JobRecord, JobSpec], JobSpec],
        *,
        expected_version: int | None,
        by: str | None,
        action: str = "job.update",
        origin: str = "python",
        restricted: bool = False,
    ) -> Job:
        """Rebuild a job through ``change``. ``restricted``: the change comes through the
        API or console (update_job), so the target rules apply (as they do to any change of
        a job created there)."""
        declared = self._declared.get(job_id) if self.node is None else None
        now = self.clock.now_us()
        with self.store.db.write() as conn:
            old = self.store.jobs.get(conn, job_id, for_update=True)
            if old is None and declared is not None:
                spec = change(declared, spec_of(declared, check_target=self.check_targets))
                record = build_record(spec, now_us=now, default_tz=self.settings.timezone, by=by)
                with self._lock:
                    self._declared[job_id] = record
                return self._job(record, pending=True)
            if old is None:
                raise NotFound("job", job_id)
            check_editable(old, origin)
            if expected_version is not None and expected_version != old.version:
                raise Conflict(
                    "version",
                    f"job {job_id!r} is at version {old.version}, not {expected_version}",
                    code="stale_version",
                    params={"id": job_id, "version": old.version, "expected": expected_version},
                )
            spec = change(old, spec_of(old, check_target=False))
            record = build_record(spec, now_us=now, default_tz=self.settings.timezone, by=by)
            record = replace(
                record,
                created_at=old.created_at,
                created_by=old.created_by,
                owner=old.owner,
                owner_ref=old.owner_ref,
            )
            if restricted or old.owner in RESTRICTED_OWNERS:
                self._check_restricted(record, old)
            self._check_kind(conn, record, old)
            record = self._seal(record, old)
            saved = self.store.jobs.update(conn, record, old.version)
            self.audit.record(
                conn,
                at=now,
                actor=by or self.actor,
                action=action,
                job_id=job_id,
                before=old,
                after=saved,
            )
        self._publish(JobEvent(EVENT_JOB_MODIFIED, job_id))
        self._changed()
        return self._job(saved)
