"""The Tickwork facade: the one Python API that every face (code, CLI, REST API, console,
job files) calls. Validation happens here, once; the engine runs when ``start()`` is called.

APScheduler 3 calls work unchanged::

    tw = Tickwork()
    tw.add_job(cleanup, "cron", hour=2, minute=0, id="cleanup", replace_existing=True)
    tw.start()
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from tickwork.audit import AuditLog, local_actor, redacted_params
from tickwork.clock import Clock, SystemClock
from tickwork.engine.events import (
    EVENT_ALL,
    EVENT_ALL_JOBS_REMOVED,
    EVENT_JOB_ADDED,
    EVENT_JOB_MODIFIED,
    EVENT_JOB_REMOVED,
    EVENT_JOB_SUBMITTED,
    EVENT_SCHEDULER_PAUSED,
    EVENT_SCHEDULER_RESUMED,
    EVENT_SCHEDULER_SHUTDOWN,
    EVENT_SCHEDULER_STARTED,
    EventBus,
    JobEvent,
    Listener,
    SchedulerEvent,
)
from tickwork.engine.node import NodeOptions, SchedulerNode
from tickwork.engine.trigger_cache import trigger_of
from tickwork.errors import Conflict, InvalidInput, NotFound, TickworkError
from tickwork.job import Job
from tickwork.jobspec import (
    UNSET,
    JobSpec,
    build_record,
    from_apscheduler,
    make_trigger,
    same_schedule_ignoring_default_start,
)
from tickwork.models import ACTIVE_STATUSES, RunReason, RunStatus
from tickwork.settings import Settings
from tickwork.store import JobFilter, RunFilter, Store
from tickwork.store.nodes import NodeRecord
from tickwork.store.records import JobRecord, RunRecord
from tickwork.store.runs import NewRun
from tickwork.store.settings_repo import SCHEDULER_PAUSED

log = logging.getLogger("tickwork")

# APScheduler keywords of add_job that are not trigger arguments.
_JOB_KEYS = frozenset(
    {
        "args", "kwargs", "id", "name", "misfire_grace_time", "coalesce", "max_instances",
        "next_run_time", "jobstore", "executor", "replace_existing",
        # Tickwork's own
        "description", "group", "tags", "timezone", "misfire_policy", "max_catchup",
        "concurrency", "concurrency_policy", "timeout", "timeout_s", "retries",
        "retry_backoff", "retry_backoff_s", "retry_backoff_max", "retry_backoff_max_s",
        "secret_keys", "paused", "owner", "owner_ref",
    }
)  # fmt: skip
# Keywords that modify_job accepts, mapped to JobSpec fields.
_MODIFIABLE = {
    "name": "name", "description": "description", "group": "group", "tags": "tags",
    "args": "args", "kwargs": "kwargs", "executor": "executor",
    "misfire_grace_time": "misfire_grace_s", "misfire_grace_s": "misfire_grace_s",
    "misfire_policy": "misfire_policy", "max_catchup": "max_catchup",
    "max_instances": "max_instances", "concurrency": "concurrency_policy",
    "concurrency_policy": "concurrency_policy", "timeout": "timeout_s", "timeout_s": "timeout_s",
    "retries": "retries", "retry_backoff": "retry_backoff_s", "retry_backoff_s": "retry_backoff_s",
    "retry_backoff_max": "retry_backoff_max_s", "retry_backoff_max_s": "retry_backoff_max_s",
    "secret_keys": "secret_keys", "func": "target", "target": "target",
}  # fmt: skip


class Tickwork:
    """Scheduler facade. Without ``start()`` it is a client of the shared database (what the
    CLI and the REST API use); ``start()`` also runs a scheduler node in background threads."""

    def __init__(
        self,
        database_url: str | None = None,
        *,
        settings: Settings | None = None,
        timezone: str | None = None,
        clock: Clock | None = None,
        node_options: NodeOptions | None = None,
        job_defaults: Mapping[str, Any] | None = None,
        app: str = "default",
        job_files: Iterable[str] = (),
        check_targets: bool = True,
    ) -> None:
        base = settings or Settings.from_env()
        self.settings = base.with_overrides(database_url=database_url, timezone=timezone)
        if job_files:
            self.settings = replace(
                self.settings, job_files=(*self.settings.job_files, *map(_path, job_files))
            )
        self.clock: Clock = clock or SystemClock()
        self.node_options = node_options or NodeOptions(
            workers=self.settings.workers,
            switch_interval_s=self.settings.switch_interval_s,
            gc_freeze=self.settings.gc_freeze,
        )
        self.job_defaults = dict(job_defaults or {})
        self.app = app
        self.check_targets = check_targets
        self.bus = EventBus()
        self.store = Store(self.settings.effective_database_url)
        self.store.upgrade()
        self.audit = AuditLog(self.store.db)
        self.actor = local_actor()  # who the audit names when a call gives no ``by``
        self._accounts: Any = None
        self.node: SchedulerNode | None = None
        self._declared: dict[str, JobRecord] = {}  # code jobs declared before start()
        self._lock = threading.RLock()
        self._stopped = threading.Event()

    # ==========================================================================================
    # Jobs
    # ==========================================================================================
    def add_job(
        self,
        func: Callable[..., Any] | str,
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
        """Add a job, APScheduler 3 style. ``trigger`` is "cron", "interval" or "date" with
        trigger keywords, a cron expression ("0 2 * * *", "0 0 9 * * 1", "@daily"), or a
        trigger object; Tickwork's own options (group, tags, timeout, retries, concurrency,
        misfire_policy, ...) go in ``options`` too. Declared before ``start()``, a job is
        synced to the database at start; after it, it is written at once."""
        job_options = {k: v for k, v in options.items() if k in _JOB_KEYS}
        trigger_args = {k: v for k, v in options.items() if k not in _JOB_KEYS}
        spec = self._spec(
            func,
            trigger,
            trigger_args,
            args=args,
            kwargs=kwargs,
            job_id=id,
            name=name,
            misfire_grace_time=misfire_grace_time,
            coalesce=coalesce,
            max_instances=max_instances,
            next_run_time=next_run_time,
            executor=executor,
            options=job_options,
        )
        record = self._build(spec, by=job_options.get("owner"))
        if spec.owner == "code" and self.node is None:
            with self._lock:
                if record.id in self._declared and not replace_existing:
                    raise Conflict("id", f"job {record.id!r} is already declared")
                self._declared[record.id] = record
            return Job(self, record, pending=True)
        return Job(self, self._save(record, replace_existing=replace_existing))

    def add_jobs(self, specs: Sequence[JobSpec], *, by: str | None = None) -> int:
        """Bulk-add new jobs (ids must not exist yet) in large transactions."""
        now = self.clock.now_us()
        records = [
            build_record(s, now_us=now, default_tz=self.settings.timezone, by=by) for s in specs
        ]
        actor = by or self.actor
        with self.store.db.write() as conn:
            for start in range(0, len(records), 5_000):
                batch = records[start : start + 5_000]
                self.store.jobs.insert_many(conn, batch)
                self.audit.record_many(
                    conn,
                    [
                        self.audit.row(
                            at=now, actor=actor, action="job.create", job_id=r.id, after=r
                        )
                        for r in batch
                    ],
                )
        self._changed()
        return len(records)

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
            return Job(self, declared, pending=True) if declared and self.node is None else None
        return Job(self, record)

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
        jobs = [Job(self, r) for r in records]
        if self.node is None and self._declared and after is None:
            stored = {r.id for r in records}
            jobs += [
                Job(self, r, pending=True) for r in self._declared.values() if r.id not in stored
            ]
        return jobs

    def modify_job(
        self,
        job_id: str,
        jobstore: str | None = None,
        *,
        expected_version: int | None = None,
        by: str | None = None,
        **changes: Any,
    ) -> Job:
        """Change job options (not the trigger: see ``reschedule_job``). APScheduler's
        ``next_run_time`` moves the next fire (None pauses)."""
        next_run_time = changes.pop("next_run_time", UNSET)
        coalesce = changes.pop("coalesce", UNSET)
        unknown = set(changes) - set(_MODIFIABLE)
        if unknown:
            raise InvalidInput(sorted(unknown)[0], "is not a job option that can be modified")

        def change(old: JobRecord, spec: JobSpec) -> JobSpec:
            for key, value in changes.items():
                setattr(spec, _MODIFIABLE[key], value)
            if coalesce is not UNSET and "misfire_policy" not in changes:
                spec.misfire_policy = "run_once" if coalesce else "run_all"
            if next_run_time is not UNSET:
                spec.next_run_time = next_run_time
            else:
                spec.next_run_time = None if old.paused else _keep(old.next_fire_at)
            return spec

        return self._rewrite(job_id, change, expected_version=expected_version, by=by)

    def reschedule_job(
        self,
        job_id: str,
        trigger: Any = None,
        jobstore: str | None = None,
        *,
        expected_version: int | None = None,
        by: str | None = None,
        **trigger_args: Any,
    ) -> Job:
        """Give a job a new trigger; its next fire is computed from now."""
        if trigger is None:
            trigger = "date"

        def change(old: JobRecord, spec: JobSpec) -> JobSpec:
            spec.trigger = trigger
            spec.trigger_args = trigger_args
            spec.next_run_time = None if old.paused else UNSET
            return spec

        return self._rewrite(
            job_id, change, expected_version=expected_version, by=by, action="job.reschedule"
        )

    def pause_job(self, job_id: str, jobstore: str | None = None, *, by: str | None = None) -> Job:
        return self._set_paused(job_id, True, by)

    def resume_job(self, job_id: str, jobstore: str | None = None, *, by: str | None = None) -> Job:
        """Resume a paused job; its next fire is the first one after now (fires that fell
        into the pause are not due: a paused job owes nothing)."""
        return self._set_paused(job_id, False, by)

    def remove_job(
        self, job_id: str, jobstore: str | None = None, *, by: str | None = None
    ) -> None:
        with self._lock:
            declared = self._declared.pop(job_id, None)
        with self.store.db.write() as conn:
            old = self.store.jobs.get(conn, job_id, for_update=True)
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

    def run_job(
        self,
        job_id: str,
        jobstore: str | None = None,
        *,
        params: Mapping[str, Any] | None = None,
        by: str | None = None,
    ) -> int:
        """Queue a run of the job now and return its run id at once; a scheduler node runs
        it (this process's, if started). ``params`` may override ``args`` and ``kwargs``."""
        params = _check_params(params)
        now = self.clock.now_us()
        with self.store.db.write() as conn:
            job = self.store.jobs.get(conn, job_id)
            if job is None:
                raise NotFound("job", job_id)
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

    # ==========================================================================================
    # Runs, nodes, status
    # ==========================================================================================
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
    ) -> list[RunRecord]:
        statuses = [status] if isinstance(status, str) else (list(status) if status else None)
        flt = RunFilter(job_id=job_id, statuses=statuses, since=since, until=until)
        with self.store.db.read() as conn:
            return self.store.runs.page(conn, flt, before_id=before, limit=limit)

    def cancel_run(self, run_id: int, *, by: str | None = None) -> str:
        """Cancel a queued or running run; returns the run's status after the request."""
        reason = f"cancelled by {by}" if by else "cancelled on request"
        with self.store.db.write() as conn:
            now = self.clock.now_us()
            status = self.store.runs.request_cancel(conn, run_id, now, reason)
            if status in {s.value for s in ACTIVE_STATUSES} | {RunStatus.CANCELLED.value}:
                run = self.store.runs.get(conn, run_id)
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
            raise Conflict("status", f"run {run_id} already ended ({status})")
        if self.node is not None:
            self.node.dispatcher.cancel(run_id, reason)
        return status

    def nodes(self) -> list[NodeRecord]:
        with self.store.db.read() as conn:
            return self.store.nodes.all(conn)

    @property
    def running(self) -> bool:
        """True while this process runs a scheduler node (APScheduler's ``running``)."""
        return self.node is not None and self.node.started

    def is_paused(self) -> bool:
        with self.store.db.read() as conn:
            return bool(self.store.settings.get(conn, SCHEDULER_PAUSED, False))

    def pause(self, *, by: str | None = None) -> None:
        """Pause job processing on every node sharing the database (fires that fall due
        meanwhile follow each job's misfire policy on resume)."""
        with self.store.db.write() as conn:
            now = self.clock.now_us()
            self.store.settings.put(conn, SCHEDULER_PAUSED, True, now, by)
            self.audit.record(conn, at=now, actor=by or self.actor, action="scheduler.pause")
        self._publish(SchedulerEvent(EVENT_SCHEDULER_PAUSED))
        self._changed()

    def resume(self, *, by: str | None = None) -> None:
        with self.store.db.write() as conn:
            now = self.clock.now_us()
            self.store.settings.put(conn, SCHEDULER_PAUSED, False, now, by)
            self.audit.record(conn, at=now, actor=by or self.actor, action="scheduler.resume")
        self._publish(SchedulerEvent(EVENT_SCHEDULER_RESUMED))
        self._changed()

    # ==========================================================================================
    # Events
    # ==========================================================================================
    def add_listener(self, callback: Listener, mask: int = EVENT_ALL) -> None:
        self.bus.add_listener(callback, mask)

    def remove_listener(self, callback: Listener) -> None:
        self.bus.remove_listener(callback)

    # ==========================================================================================
    # Life cycle
    # ==========================================================================================
    def start(self, paused: bool = False) -> None:
        """Sync declared jobs and job files, then run a scheduler node in background threads."""
        if self.node is not None:
            raise TickworkError("this Tickwork instance is already started")
        self.sync_declared()
        if self.settings.job_files:
            from tickwork.jobfiles import sync_job_files

            sync_job_files(self, self.settings.job_files)
        if paused:
            self.pause()
        node = SchedulerNode(self.store, self.clock, self.bus, self.node_options)
        node.start()
        self.node = node
        self._stopped.clear()
        self._publish(SchedulerEvent(EVENT_SCHEDULER_STARTED))

    def shutdown(self, wait: bool = True, *, timeout_s: float | None = None) -> None:
        """Stop the node: running runs may finish (up to the node's bound when ``wait``),
        what is cut off is recorded as cancelled; unstarted claimed runs go back to the queue."""
        node, self.node = self.node, None
        if node is not None:
            node.stop(wait=wait, timeout_s=timeout_s)
            self._publish(SchedulerEvent(EVENT_SCHEDULER_SHUTDOWN))
        self.bus.close()
        self._stopped.set()

    def close(self) -> None:
        """Shut down if started and release database connections."""
        self.shutdown(wait=False)
        self.store.close()

    def run_forever(self) -> None:
        """Start, and block until SIGINT/SIGTERM (or ``shutdown()`` from another thread)."""
        if self.node is None:
            self.start()
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                signal.signal(sig, lambda *_: self._stopped.set())
        try:
            self._stopped.wait()
        finally:
            self.shutdown(wait=True)

    async def run_async(self) -> None:
        """The asyncio entry point: start, run until cancelled, then shut down gracefully."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self.start)
        try:
            await asyncio.Event().wait()
        finally:
            await loop.run_in_executor(None, self.shutdown)

    def __enter__(self) -> Tickwork:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ==========================================================================================
    # Declarative sync (code and job files)
    # ==========================================================================================
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
            for record in wanted.values():
                old = self.store.jobs.get(conn, record.id, for_update=True)
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
                    )
                new = _carry_schedule(old, record)
                if _definition(new) == _definition(old):
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

    # ==========================================================================================
    # Faces that send whole definitions (REST API, console); accounts, audit, stats
    # ==========================================================================================
    def create_job(
        self, spec: JobSpec, *, by: str | None = None, replace_existing: bool = False
    ) -> Job:
        """Add a job from a JobSpec (the REST API builds them with ``check_target=False``, so
        the server never imports user code)."""
        return Job(
            self, self._save(self._build(spec, by=by), replace_existing=replace_existing, by=by)
        )

    def update_job(
        self,
        job_id: str,
        *,
        expected_version: int | None = None,
        by: str | None = None,
        **fields: Any,
    ) -> Job:
        """Change any JobSpec fields (``trigger``/``trigger_args`` and ``timezone`` included)
        in one transaction with one version step and one audit record. A new trigger or zone
        moves the next fire to the first one after now; otherwise the schedule is kept."""
        allowed = set(JobSpec.__dataclass_fields__) - {"id", "owner", "owner_ref", "check_target"}
        unknown = set(fields) - allowed
        if unknown:
            raise InvalidInput(sorted(unknown)[0], "is not a job field that can be changed")
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
                spec.next_run_time = _keep(old.next_fire_at)
            return spec

        return self._rewrite(job_id, change, expected_version=expected_version, by=by)

    @property
    def accounts(self) -> Any:
        """Users, roles, API tokens, console sessions and login rate limits
        (``tickwork.accounts.Accounts``)."""
        if self._accounts is None:
            from tickwork.accounts import Accounts

            self._accounts = Accounts(self.store.db, self.clock, self.audit, self.settings)
        return self._accounts

    def stats(
        self,
        job_id: str | None = None,
        *,
        since: int | None = None,
        until: int | None = None,
        slow_s: float = 60.0,
    ) -> Any:
        """Run statistics (count, success rate, duration min/avg/max/p95, last status, slow
        runs) over a window, for one job or all (``tickwork.stats``)."""
        from tickwork.stats import run_stats

        if job_id is not None and self.get_job(job_id) is None:
            raise NotFound("job", job_id)
        return run_stats(self.store.db, job_id=job_id, since=since, until=until, slow_s=slow_s)

    def job_page(
        self,
        *,
        group: str | None = None,
        tag: str | None = None,
        state: str | None = None,
        text: str | None = None,
        after: str | None = None,
        limit: int = 100,
        sort: str = "id",
        after_key: tuple[Any, str] | None = None,
    ) -> tuple[list[JobRecord], dict[str, RunRecord]]:
        """A page of stored jobs and the newest run of each, read in one transaction (what
        the API's job list shows). Ordered by ``sort`` (see ``JobRepo.page``); the cursor is
        ``after`` (an id) for the id order, ``after_key`` (sort value, id) for the others."""
        from tickwork.stats import last_runs_in

        flt = JobFilter(group=group, tag=tag, state=state, text=text)
        with self.store.db.read() as conn:
            records = self.store.jobs.page(
                conn, flt, after_id=after, limit=limit, sort=sort, after=after_key
            )
            return records, last_runs_in(conn, [r.id for r in records])

    def last_runs(self, job_ids: Sequence[str]) -> dict[str, RunRecord]:
        """The newest run of each job (jobs without runs are left out)."""
        from tickwork.stats import last_runs

        return last_runs(self.store.db, job_ids)

    def job_counts(self) -> dict[str, int]:
        """Jobs by state: scheduled, paused, completed (and total)."""
        with self.store.db.read() as conn:
            counts = self.store.jobs.state_counts(conn)
        out = {k: int(counts.get(k, 0)) for k in ("scheduled", "paused", "completed")}
        out["total"] = sum(out.values())
        return out

    def backlog(self) -> dict[str, int]:
        """What is due now and not yet taken: jobs whose next fire has passed, and queued
        runs (manual runs, retries) waiting for a node."""
        from tickwork.stats import backlog

        return backlog(self.store.db, self.clock.now_us())

    def scheduler_here(self) -> dict[str, Any]:
        """This process's scheduler node: its id and whether its loop thread is alive."""
        node = self.node
        if node is None:
            return {"scheduler": False, "node_id": None, "loop_alive": None}
        return {"scheduler": True, "node_id": node.node_id, "loop_alive": node.loop.alive}

    def run_timings(self, run_ids: Sequence[int]) -> list[tuple[str, float | None, float | None]]:
        """(job id, duration, lateness) of runs, seconds; lateness = start - scheduled."""
        from tickwork.stats import run_timings

        return run_timings(self.store.db, run_ids)

    def ping(self) -> None:
        """Raise if the database does not answer."""
        from sqlalchemy import text

        with self.store.db.read() as conn:
            conn.execute(text("SELECT 1"))

    # ==========================================================================================
    # Internals
    # ==========================================================================================
    def _spec(
        self,
        func: Callable[..., Any] | str,
        trigger: Any,
        trigger_args: dict[str, Any],
        *,
        args: Sequence[Any] | None,
        kwargs: Mapping[str, Any] | None,
        job_id: str | None,
        name: str | None,
        misfire_grace_time: Any,
        coalesce: Any,
        max_instances: Any,
        next_run_time: Any,
        executor: str | None,
        options: dict[str, Any],
    ) -> JobSpec:
        defaults = self.job_defaults
        if misfire_grace_time is UNSET and "misfire_grace_time" in defaults:
            misfire_grace_time = defaults["misfire_grace_time"]
        if coalesce is UNSET and "coalesce" in defaults:
            coalesce = defaults["coalesce"]
        if max_instances is UNSET:
            max_instances = defaults.get("max_instances", 1)
        policy = from_apscheduler(
            coalesce=coalesce,
            misfire_grace_time=misfire_grace_time,
            misfire_policy=options.get("misfire_policy"),
        )
        owner = options.get("owner") or ("code" if self.node is None else "python")
        return JobSpec(
            target=func,
            trigger=trigger,
            trigger_args=trigger_args,
            id=job_id,
            name=name,
            description=options.get("description", ""),
            group=options.get("group", "default"),
            tags=options.get("tags", ()),
            args=() if args is None else args,
            kwargs={} if kwargs is None else kwargs,
            timezone=options.get("timezone"),
            executor=executor,
            misfire_policy=policy.get("misfire_policy", "run_once"),
            misfire_grace_s=policy.get("misfire_grace_s"),
            max_catchup=options.get("max_catchup", 100),
            concurrency_policy=options.get(
                "concurrency", options.get("concurrency_policy", "allow")
            ),
            max_instances=max_instances,
            timeout_s=options.get("timeout", options.get("timeout_s")),
            retries=options.get("retries", 0),
            retry_backoff_s=options.get("retry_backoff", options.get("retry_backoff_s", 10.0)),
            retry_backoff_max_s=options.get(
                "retry_backoff_max", options.get("retry_backoff_max_s", 600.0)
            ),
            secret_keys=options.get("secret_keys", ()),
            paused=options.get("paused", False),
            next_run_time=next_run_time,
            owner=owner,
            owner_ref=options.get("owner_ref", self.app if owner == "code" else None),
            check_target=self.check_targets,
        )

    def _build(self, spec: JobSpec, *, by: str | None) -> JobRecord:
        return build_record(
            spec, now_us=self.clock.now_us(), default_tz=self.settings.timezone, by=by
        )

    def _save(
        self, record: JobRecord, *, replace_existing: bool, by: str | None = None
    ) -> JobRecord:
        with self.store.db.write() as conn:
            old = (
                self.store.jobs.get(conn, record.id, for_update=True) if replace_existing else None
            )
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
                new = replace(
                    _carry_schedule(old, record),
                    created_at=old.created_at,
                    created_by=old.created_by,
                )
                if _definition(new) == _definition(old):
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
    ) -> Job:
        declared = self._declared.get(job_id) if self.node is None else None
        now = self.clock.now_us()
        with self.store.db.write() as conn:
            old = self.store.jobs.get(conn, job_id, for_update=True)
            if old is None and declared is not None:
                spec = change(declared, spec_of(declared, check_target=self.check_targets))
                record = build_record(spec, now_us=now, default_tz=self.settings.timezone, by=by)
                with self._lock:
                    self._declared[job_id] = record
                return Job(self, record, pending=True)
            if old is None:
                raise NotFound("job", job_id)
            if expected_version is not None and expected_version != old.version:
                raise Conflict(
                    "version", f"job {job_id!r} is at version {old.version}, not {expected_version}"
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
        return Job(self, saved)

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
                return Job(self, old)
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
        return Job(self, saved)

    def _publish(self, event: JobEvent | SchedulerEvent) -> None:
        self.bus.publish(event)

    def _changed(self) -> None:
        if self.node is not None:
            self.node.wake()


def spec_of(record: JobRecord, *, check_target: bool) -> JobSpec:
    """The JobSpec that rebuilds ``record`` (for modifications)."""
    return JobSpec(
        target=str(record.target["ref"]),
        trigger=record.trigger,
        id=record.id,
        name=record.name,
        description=record.description,
        group=record.group,
        tags=list(record.tags),
        args=list(record.target.get("args") or ()),
        kwargs=dict(record.target.get("kwargs") or {}),
        timezone=record.timezone,
        executor=record.executor,
        misfire_policy=record.misfire_policy,
        misfire_grace_s=record.misfire_grace_s,
        max_catchup=record.max_catchup,
        concurrency_policy=record.concurrency_policy,
        max_instances=record.max_instances,
        timeout_s=record.timeout_s,
        retries=record.retries,
        retry_backoff_s=record.retry_backoff_s,
        retry_backoff_max_s=record.retry_backoff_max_s,
        secret_keys=list(record.secret_keys),
        paused=record.paused,
        owner=record.owner,
        owner_ref=record.owner_ref,
        check_target=check_target,
    )


_VOLATILE = ("version", "next_fire_at", "created_at", "created_by", "updated_at", "updated_by")


def _definition(record: JobRecord) -> dict[str, Any]:
    """What the user defined, without bookkeeping: equal definitions need no write."""
    row = record.to_row()
    for key in _VOLATILE:
        row.pop(key)
    return row


def _carry_schedule(old: JobRecord, new: JobRecord) -> JobRecord:
    """Keep the stored schedule when the new definition's trigger is the same."""
    trigger = new.trigger
    if same_schedule_ignoring_default_start(old.trigger, new.trigger):
        trigger = old.trigger
    if trigger == old.trigger and new.paused == old.paused:
        return replace(new, trigger=trigger, next_fire_at=old.next_fire_at)
    return new


def _keep(next_fire_at: int | None) -> Any:
    from tickwork.clock import us_to_datetime

    return UNSET if next_fire_at is None else us_to_datetime(next_fire_at)


def _check_params(params: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if params is None:
        return None
    if not isinstance(params, Mapping):
        raise InvalidInput("params", "must be a mapping with 'args' and/or 'kwargs'")
    unknown = set(params) - {"args", "kwargs"}
    if unknown:
        raise InvalidInput(f"params.{sorted(unknown)[0]}", "unknown; use args and kwargs")
    out: dict[str, Any] = {}
    if "args" in params:
        if isinstance(params["args"], str) or not isinstance(params["args"], Sequence):
            raise InvalidInput("params.args", "must be a list")
        out["args"] = list(params["args"])
    if "kwargs" in params:
        if not isinstance(params["kwargs"], Mapping):
            raise InvalidInput("params.kwargs", "must be a mapping")
        out["kwargs"] = dict(params["kwargs"])
    import json

    try:
        json.dumps(out, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidInput("params", f"must be JSON-serialisable: {exc}") from None
    return out


def _path(value: str) -> Any:
    from pathlib import Path

    return Path(value)


# Keep ``make_trigger`` importable from the facade module for faces that preview triggers.
__all__ = ["Job", "JobSpec", "Tickwork", "make_trigger"]
