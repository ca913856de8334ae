"""Translations between the ways a job is described: APScheduler-style ``add_job`` calls,
JobSpecs and stored JobRecords; run parameters of a manual run. Pure: no store, no clock."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from tickwork.clock import us_to_datetime
from tickwork.jobspec import UNSET, JobSpec, from_apscheduler, same_schedule_ignoring_default_start
from tickwork.parameters import declared_of
from tickwork.store.records import JobRecord

# APScheduler keywords of add_job that are not trigger arguments.
JOB_KEYS = frozenset(
    {
        "args", "kwargs", "id", "name", "misfire_grace_time", "coalesce", "max_instances",
        "next_run_time", "jobstore", "executor", "replace_existing",
        # Tickwork's own
        "description", "group", "tags", "timezone", "misfire_policy", "max_catchup",
        "concurrency", "concurrency_policy", "timeout", "timeout_s", "retries",
        "retry_backoff", "retry_backoff_s", "retry_backoff_max", "retry_backoff_max_s",
        "secret_keys", "parameters", "paused", "owner", "owner_ref", "queue",
    }
)  # fmt: skip
# Keywords that modify_job accepts, mapped to JobSpec fields.
MODIFIABLE = {
    "name": "name", "description": "description", "group": "group", "tags": "tags",
    "args": "args", "kwargs": "kwargs", "executor": "executor",
    "misfire_grace_time": "misfire_grace_s", "misfire_grace_s": "misfire_grace_s",
    "misfire_policy": "misfire_policy", "max_catchup": "max_catchup",
    "max_instances": "max_instances", "concurrency": "concurrency_policy",
    "concurrency_policy": "concurrency_policy", "timeout": "timeout_s", "timeout_s": "timeout_s",
    "retries": "retries", "retry_backoff": "retry_backoff_s", "retry_backoff_s": "retry_backoff_s",
    "retry_backoff_max": "retry_backoff_max_s", "retry_backoff_max_s": "retry_backoff_max_s",
    "secret_keys": "secret_keys", "parameters": "parameters", "func": "target",
    "target": "target", "queue": "queue",
}  # fmt: skip


def spec_from_call(
    *,
    job_defaults: Mapping[str, Any],
    node_running: bool,
    app: str,
    check_targets: bool,
    func: Callable[..., Any] | str | Mapping[str, Any],
    trigger: Any,
    trigger_args: dict[str, Any],
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
    """The JobSpec of an APScheduler-style ``add_job`` call."""
    defaults = job_defaults
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
    owner = options.get("owner") or ("python" if node_running else "code")
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
        queue=options.get("queue"),
        misfire_policy=policy.get("misfire_policy", "run_once"),
        misfire_grace_s=policy.get("misfire_grace_s"),
        max_catchup=options.get("max_catchup", 100),
        concurrency_policy=options.get("concurrency", options.get("concurrency_policy", "allow")),
        max_instances=max_instances,
        timeout_s=options.get("timeout", options.get("timeout_s")),
        retries=options.get("retries", 0),
        retry_backoff_s=options.get("retry_backoff", options.get("retry_backoff_s", 10.0)),
        retry_backoff_max_s=options.get(
            "retry_backoff_max", options.get("retry_backoff_max_s", 600.0)
        ),
        secret_keys=options.get("secret_keys", ()),
        parameters=options.get("parameters", ()),
        paused=options.get("paused", False),
        next_run_time=next_run_time,
        owner=owner,
        owner_ref=options.get("owner_ref", app if owner == "code" else None),
        check_target=check_targets,
    )


def spec_of(record: JobRecord, *, check_target: bool) -> JobSpec:
    """The JobSpec that rebuilds ``record`` (for modifications)."""
    return JobSpec(
        target=target_of(record),
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
        queue=record.queue,
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
        parameters=declared_of(record.target),
        paused=record.paused,
        owner=record.owner,
        owner_ref=record.owner_ref,
        check_target=check_target,
    )


def target_of(record: JobRecord) -> str | dict[str, Any]:
    """A stored job's target as a JobSpec takes it: the reference of a Python job, the
    kind's mapping for the others."""
    if record.target_kind == "python":
        return str(record.target["ref"])
    spec = {k: v for k, v in record.target.items() if k != "parameters"}
    return {"kind": record.target_kind, **spec}


VOLATILE_FIELDS = (
    "version",
    "next_fire_at",
    "created_at",
    "created_by",
    "updated_at",
    "updated_by",
)


def definition(record: JobRecord) -> dict[str, Any]:
    """What the user defined, without bookkeeping: equal definitions need no write."""
    row = record.to_row()
    for key in VOLATILE_FIELDS:
        row.pop(key)
    return row


def carry_schedule(old: JobRecord, new: JobRecord) -> JobRecord:
    """Keep the stored schedule when the new definition's trigger is the same."""
    trigger = new.trigger
    if same_schedule_ignoring_default_start(old.trigger, new.trigger):
        trigger = old.trigger
    if trigger == old.trigger and new.paused == old.paused:
        return replace(new, trigger=trigger, next_fire_at=old.next_fire_at)
    return new


def keep_next(next_fire_at: int | None) -> Any:
    return UNSET if next_fire_at is None else us_to_datetime(next_fire_at)
