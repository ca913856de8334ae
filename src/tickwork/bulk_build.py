"""Building many job records at once (issue 15: a million jobs), each exactly as
``build_record`` alone builds it.

Jobs added in bulk differ in their id, name, description and trigger and share the rest: the
target, the group, the policies, the numbers. ``BulkBuilder`` validates that shared part once,
with the first job that has it (through ``build_record``, every check), and builds the others
from it, checking what is their own: the id, the name, the description, the trigger (equal
cron triggers built once, ``TriggerMemo``), the first fire. A job whose shared part holds
anything but plain values (arguments, tags, secrets, parameters, nested target fields) goes
through ``build_record``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tickwork.jobspec import (
    JobSpec,
    _default_name,
    _first_fire,
    _job_id,
    _schedule,
    _text,
    build_record,
)
from tickwork.store.records import JobRecord
from tickwork.trigger_memo import TriggerMemo

_PLAIN = frozenset({str, int, float, bool, type(None)})
_EMPTY = (tuple, list)


@dataclass(frozen=True, slots=True)
class _Shared:
    """The validated part of a job that other jobs of the bulk share."""

    record: JobRecord  # the first job built with it: every shared field as validated
    ref: str | None  # the python target's reference (for default names)
    tz: str
    paused: bool


class BulkBuilder:
    """``build_record`` for many specs of one call (one ``now``, one default zone)."""

    def __init__(self, *, now_us: int, default_tz: str, by: str | None) -> None:
        self.now_us = now_us
        self.default_tz = default_tz
        self.by = by
        self.memo = TriggerMemo(now_us)
        self.shared: dict[tuple[Any, ...], _Shared] = {}

    def build(self, spec: JobSpec) -> JobRecord:
        key = _shared_key(spec)
        if key is None:
            return self._full(spec)
        shared = self.shared.get(key)
        if shared is None:
            record = self._full(spec)
            ref = record.target.get("ref") if record.target_kind == "python" else None
            tz = spec.timezone or self.default_tz
            self.shared[key] = _Shared(record, ref, tz, bool(spec.paused))
            return record
        return self._from_shared(spec, shared)

    def _full(self, spec: JobSpec) -> JobRecord:
        return build_record(
            spec, now_us=self.now_us, default_tz=self.default_tz, by=self.by, memo=self.memo
        )

    def _from_shared(self, spec: JobSpec, shared: _Shared) -> JobRecord:
        """What ``build_record`` does for the fields of this job's own (in its order)."""
        job_id = _job_id(spec.id)
        name = _text("name", spec.name or _default_name(shared.ref, job_id), 200)
        tz = shared.tz
        trigger_spec, first_fire = _schedule(spec, tz, job_id, self.now_us, self.memo)
        paused, next_fire = _first_fire(spec, tz, shared.paused, first_fire)
        description = _text("description", spec.description or "", 10_000)
        first = shared.record
        if first.target_kind == "python":
            target: dict[str, Any] = {"ref": shared.ref, "args": [], "kwargs": {}}
        else:  # its own copy, one level deeper than the record's (nested defaults)
            target = {
                k: list(v) if type(v) is list else dict(v) if type(v) is dict else v
                for k, v in first.target.items()
            }
        now, by = self.now_us, self.by
        return JobRecord(
            id=job_id, name=name, description=description, group=first.group, tags=[],
            target_kind=first.target_kind, target=target,
            trigger_kind=str(trigger_spec["kind"]), trigger=trigger_spec,
            timezone=str(trigger_spec.get("tz", tz)), executor=first.executor,
            misfire_policy=first.misfire_policy, misfire_grace_s=first.misfire_grace_s,
            max_catchup=first.max_catchup, concurrency_policy=first.concurrency_policy,
            max_instances=first.max_instances, timeout_s=first.timeout_s,
            retries=first.retries, retry_backoff_s=first.retry_backoff_s,
            retry_backoff_max_s=first.retry_backoff_max_s, secret_keys=[], paused=paused,
            owner=first.owner, owner_ref=first.owner_ref, version=1, next_fire_at=next_fire,
            created_at=now, created_by=by, updated_at=now, updated_by=by, queue=first.queue,
        )  # fmt: skip


def build_records(
    specs: Sequence[JobSpec], *, now_us: int, default_tz: str, by: str | None
) -> list[JobRecord]:
    """``build_record`` of each spec: the shared part validated once, equal cron triggers
    built once."""
    builder = BulkBuilder(now_us=now_us, default_tz=default_tz, by=by)
    return [builder.build(s) for s in specs]


def _shared_key(spec: JobSpec) -> tuple[Any, ...] | None:
    """The key of a spec's shared part, or None when it holds more than plain values. The
    types are part of it: 1, 1.0 and True are equal keys but not equally valid values."""
    for empty in (spec.tags, spec.args, spec.secret_keys, spec.parameters):
        if empty or type(empty) not in _EMPTY:
            return None
    if spec.kwargs or type(spec.kwargs) is not dict:
        return None
    target: Any = spec.target
    if type(target) is dict:
        if not _PLAIN.issuperset(map(type, target.values())):
            return None
        target = tuple((k, type(v), v) for k, v in target.items())
    elif type(target) is not str:
        return None  # a callable: its reference is worked out each time
    values = (
        spec.group, spec.timezone, spec.executor, spec.queue,
        spec.misfire_policy, spec.misfire_grace_s, spec.max_catchup, spec.concurrency_policy,
        spec.max_instances, spec.timeout_s, spec.retries, spec.retry_backoff_s,
        spec.retry_backoff_max_s, spec.paused, spec.owner, spec.owner_ref, spec.check_target,
    )  # fmt: skip
    types = tuple(map(type, values))
    if not _PLAIN.issuperset(types):
        return None
    return (target, *values, *types)
