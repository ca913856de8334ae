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

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import attrgetter, is_
from typing import Any

from tickwork.jobspec import (
    UNSET,
    JobSpec,
    _default_name,
    _first_fire,
    _job_id,
    _schedule,
    _text,
    build_record,
)
from tickwork.store.bulk_rows import json_text
from tickwork.store.job_batch import JobBatch, JobRun, Own
from tickwork.store.records import JobRecord
from tickwork.trigger_memo import TriggerMemo

_Text = tuple[str, str, int | None]
_quote = json.encoder.encode_basestring_ascii  # how the stored JSON writes a text
_PLAIN = frozenset({str, int, float, bool, type(None)})
_EMPTY = frozenset({tuple, list})


@dataclass(frozen=True, slots=True)
class _Shared:
    """The validated part of a job that other jobs of the bulk share."""

    record: JobRecord  # the first job built with it: every shared field as validated
    ref: str | None  # the python target's reference (for default names)
    tz: str
    paused: bool
    # A memoised cron expression's stored JSON up to its seed, its zone and first fire, by
    # expression (in this zone): a job's trigger text is this, its quoted id and "}".
    texts: dict[str, _Text]


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
        # building and hashing the key (a quarter of the build of a million); specs read
        # from a file hold equal objects, compared by value and type.
        self._last: tuple[Any, tuple[Any, ...], _Shared] | None = None
        self._texts: dict[str, dict[str, _Text]] = {}  # by zone, by cron expression
        self._spec_texts: dict[tuple[str, str], _Text] = {}  # stored cron specs, by memo key

    def build(self, spec: JobSpec) -> JobRecord:
        """``build_record(spec)``."""
        shared, record = self._shared_of(spec)
        if record is not None:
            return record
        assert shared is not None
        own = self._own(spec, shared)
        return JobRun(shared.record, [own]).record(own)

    def add(self, spec: JobSpec, batch: JobBatch) -> None:
        """``build_record(spec)`` appended to ``batch``: a job sharing an earlier job's
        shared part as the tuple of its own columns (no record made)."""
        shared, record = self._shared_of(spec)
        if record is None:
            assert shared is not None
            batch.append_own(shared.record, self._own(spec, shared))
        elif shared is not None:  # the first job of a shared part starts its run
            batch.append_own(record, JobRun.own(record))
        else:
            batch.append(record)

    def _shared_of(self, spec: JobSpec) -> tuple[_Shared | None, JobRecord | None]:
        """(the shared part ``spec`` has with an earlier job, None); or (None, its whole
        record) when it has none to share; or (a new shared part, its record)."""
        values = _SHARED_FIELDS(spec)
        last = self._last
        if (
            last is not None
            and (all(map(is_, values, last[1])) or _same(values, last[1]))
            and _bare(spec)
        ):
            target, seen = spec.target, last[0]
            if (
                target is seen
                or (type(target) is str and type(seen) is str and target == seen)
                or (type(target) is dict and type(seen) is tuple and _content(target) == seen)
            ):
                return last[2], None
        key = _shared_key(spec, values)
        if key is None:
            return None, self._full(spec)
        shared = self.shared.get(key)
        if shared is None:
            record = self._full(spec)
            ref = record.target.get("ref") if record.target_kind == "python" else None
            tz = spec.timezone or self.default_tz
            texts = self._texts.setdefault(tz, {})
            shared = self.shared[key] = _Shared(record, ref, tz, bool(spec.paused), texts)
            self._remember(spec, values, shared)
            return shared, record
        self._remember(spec, values, shared)
        return shared, None

    def _remember(self, spec: JobSpec, values: tuple[Any, ...], shared: _Shared) -> None:
        # A text target by identity; a dict's identity says nothing about its content (an
        # importer makes one per job): a snapshot of its content, compared in order and type.
        target = spec.target
        seen = target if type(target) is str else _content(target) if type(target) is dict else None
        self._last = (seen, values, shared) if seen is not None else None

    def _full(self, spec: JobSpec) -> JobRecord:
        return build_record(
            spec, now_us=self.now_us, default_tz=self.default_tz, by=self.by, memo=self.memo
        )

    def _own(self, spec: JobSpec, shared: _Shared) -> Own:
        """What ``build_record`` makes of the job's own fields (in its order of checks)."""
        job_id = _job_id(spec.id)
        name = _text("name", spec.name or _default_name(shared.ref, job_id), 200)
        cached = self._cached_trigger(spec, shared, job_id)
        if cached is not None:  # a cron trigger built before: only the seed differs
            zone, first, text = cached
            description = _text("description", spec.description or "", 10_000)
            paused = shared.paused
            return (
                job_id, name, description, "cron", zone, paused, None if paused else first, text
            )  # fmt: skip
        tz = shared.tz
        trigger_spec, first_fire = _schedule(spec, tz, job_id, self.now_us, self.memo)
        paused, next_fire = _first_fire(spec, tz, shared.paused, first_fire)
        description = _text("description", spec.description or "", 10_000)
        text = json_text(trigger_spec)
        zone = str(trigger_spec.get("tz", tz))
        self._keep_text(spec, shared, job_id, trigger_spec, text, first_fire)
        return (job_id, name, description, str(trigger_spec["kind"]), zone, paused, next_fire, text)

    def _cached_trigger(
        self, spec: JobSpec, shared: _Shared, job_id: str
    ) -> tuple[str, int | None, str] | None:
        """(zone, first fire, stored JSON) of a memoised cron trigger built before: a cron
        expression (its seed the job id) or a stored cron spec (its own seed)."""
        if spec.next_run_time is not UNSET or spec.trigger_args:
            return None
        trigger = spec.trigger
        seed: Any
        if type(trigger) is str:
            hit, seed = shared.texts.get(trigger), job_id
        elif type(trigger) is dict and (key := TriggerMemo.key(trigger, {}, shared.tz)):
            hit, seed = self._spec_texts.get(key), trigger.get("seed")
        else:
            return None
        if hit is None or type(seed) is not str:
            return None
        head, zone, first = hit
        return zone, first, f"{head}{_quote(seed)}}}"

    def _keep_text(
        self,
        spec: JobSpec,
        shared: _Shared,
        job_id: str,
        built: dict[str, Any],
        text: str,
        first_fire: Callable[[], int | None],
    ) -> None:
        """Remember a memoised cron trigger's stored JSON up to its seed, for
        ``_cached_trigger``."""
        trigger = spec.trigger
        if spec.next_run_time is not UNSET or spec.trigger_args or type(trigger) not in (str, dict):
            return
        key = TriggerMemo.key(trigger, {}, shared.tz)
        seed = built.get("seed")
        if key not in self.memo.entries or built["kind"] != "cron" or type(seed) is not str:
            return
        tail = _quote(seed) + "}"
        if list(built)[-1] != "seed" or not text.endswith(tail):
            return
        entry = (text[: -len(tail)], str(built.get("tz", shared.tz)), first_fire())
        if type(trigger) is str:
            if seed == job_id:
                shared.texts[trigger] = entry
        elif seed == trigger.get("seed"):  # type: ignore[union-attr]
            self._spec_texts[key] = entry


def build_records(
    specs: Sequence[JobSpec], *, now_us: int, default_tz: str, by: str | None
) -> JobBatch:
    """``build_record`` of each spec: the shared part validated once, equal cron triggers
    built once; jobs sharing a part kept as their own columns (``JobBatch``)."""
    builder = BulkBuilder(now_us=now_us, default_tz=default_tz, by=by)
    batch = JobBatch()
    add = builder.add
    for spec in specs:
        add(spec, batch)
    return batch


# What a spec shares with others beside its target, read in one C call (a million specs).
_SHARED_FIELDS = attrgetter(
    "group", "timezone", "executor", "queue", "misfire_policy", "misfire_grace_s",
    "max_catchup", "concurrency_policy", "max_instances", "timeout_s", "retries",
    "retry_backoff_s", "retry_backoff_max_s", "paused", "owner", "owner_ref", "check_target",
)  # fmt: skip
_LISTS = attrgetter("tags", "args", "secret_keys", "parameters")
_DEFAULTS = ((), (), (), ())


def _bare(spec: JobSpec) -> bool:
    """No arguments, tags, secrets or parameters (empty lists or tuples, an empty dict)."""
    lists = _LISTS(spec)
    # JobSpec's defaults are the one empty tuple, equal at once
    if lists != _DEFAULTS and (any(lists) or not _EMPTY.issuperset(map(type, lists))):
        return False
    return not spec.kwargs and type(spec.kwargs) is dict


def _same(values: tuple[Any, ...], seen: tuple[Any, ...]) -> bool:
    """Equal values of equal types (1, 1.0 and True are equal values)."""
    return values == seen and tuple(map(type, values)) == tuple(map(type, seen))


def _content(target: dict[str, Any]) -> tuple[tuple[Any, ...], tuple[type, ...]]:
    """A target mapping's items in order and their values' types (1, 1.0 and True differ)."""
    return tuple(target.items()), tuple(map(type, target.values()))


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
