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
from operator import attrgetter, is_
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
_EMPTY = frozenset({tuple, list})


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
        # The last shared part used, with the very objects it was found from: specs made
        # in a loop hold the same objects, and comparing identities is cheaper than
        # building and hashing the key (a quarter of the build of a million).
        self._last: tuple[str, tuple[Any, ...], _Shared] | None = None

    def build(self, spec: JobSpec) -> JobRecord:
        values = _SHARED_FIELDS(spec)
        last = self._last
        if (
            last is not None
            and spec.target is last[0]
            and all(map(is_, values, last[1]))
            and _bare(spec)
        ):
            return self._from_shared(spec, last[2])
        key = _shared_key(spec, values)
        if key is None:
            return self._full(spec)
        shared = self.shared.get(key)
        if shared is None:
            record = self._full(spec)
            ref = record.target.get("ref") if record.target_kind == "python" else None
            tz = spec.timezone or self.default_tz
            shared = self.shared[key] = _Shared(record, ref, tz, bool(spec.paused))
            self._remember(spec, values, shared)
            return record
        self._remember(spec, values, shared)
        return self._from_shared(spec, shared)

    def _remember(self, spec: JobSpec, values: tuple[Any, ...], shared: _Shared) -> None:
        # Only a text target: a dict's identity says nothing about its content.
        self._last = (spec.target, values, shared) if type(spec.target) is str else None

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


# What a spec shares with others beside its target, read in one C call (a million specs).
_SHARED_FIELDS = attrgetter(
    "group", "timezone", "executor", "queue", "misfire_policy", "misfire_grace_s",
    "max_catchup", "concurrency_policy", "max_instances", "timeout_s", "retries",
    "retry_backoff_s", "retry_backoff_max_s", "paused", "owner", "owner_ref", "check_target",
)  # fmt: skip
_LISTS = attrgetter("tags", "args", "secret_keys", "parameters")


def _bare(spec: JobSpec) -> bool:
    """No arguments, tags, secrets or parameters (empty lists or tuples, an empty dict)."""
    lists = _LISTS(spec)
    return (
        not any(lists)
        and _EMPTY.issuperset(map(type, lists))
        and not spec.kwargs
        and type(spec.kwargs) is dict
    )


def _shared_key(spec: JobSpec, values: tuple[Any, ...]) -> tuple[Any, ...] | None:
    """The key of a spec's shared part (``values``: its _SHARED_FIELDS), or None when it
    holds more than plain values. The types are part of it: 1, 1.0 and True are equal keys
    but not equally valid values."""
    if not _bare(spec):
        return None
    target: Any = spec.target
    if type(target) is dict:
        if not _PLAIN.issuperset(map(type, target.values())):
            return None
        target = tuple((k, type(v), v) for k, v in target.items())
    elif type(target) is not str:
        return None  # a callable: its reference is worked out each time
    types = tuple(map(type, values))
    if not _PLAIN.issuperset(types):
        return None
    return (target, *values, *types)
