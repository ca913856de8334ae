"""Validation of job definitions, once, for every face: Python API, CLI, REST API, job files.

``JobSpec`` is what a face asks for; ``build_record`` checks every field, fills the defaults
and returns the ``JobRecord`` to store, or raises ``InvalidInput`` naming the field. Nothing is
written before this has passed.
"""

from __future__ import annotations

import json
import math
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from tickwork.errors import InvalidInput, TriggerError
from tickwork.models import ConcurrencyPolicy, MisfirePolicy
from tickwork.parameters import SURROGATE, check_declarations, check_json
from tickwork.queue_names import queue_name
from tickwork.store.records import JobRecord
from tickwork.targets import is_coroutine_target, kinds, ref_of, resolve
from tickwork.targets.kinds import split_target
from tickwork.trigger_memo import TriggerMemo
from tickwork.triggers import Trigger, from_keywords, from_spec
from tickwork.triggers import cron as cron_trigger
from tickwork.triggers.base import to_us

ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,190}\Z")
TRIGGER_KINDS = ("cron", "interval", "date")
EXECUTORS = ("thread", "process", "asyncio")
OWNERS = ("code", "python", "config", "api", "cli", "builtin")
_MAX_JSON = 64 * 1024  # bytes of args + kwargs
_MISFIRE_POLICIES = tuple(p.value for p in MisfirePolicy)
_CONCURRENCY_POLICIES = tuple(p.value for p in ConcurrencyPolicy)
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # below 32, not \t \n \r
DAY_S = 86_400
# Upper bounds of every duration (seconds) and count of a job. Beyond them a value is a typo
# or an attack: 1e10 s of timeout overflowed the executor's timer thread, 1e303 s of misfire
# grace and a 1e15 s backoff overflowed the instants the engine computes from them.
LIMITS: dict[str, float] = {
    "timeout_s": 30 * DAY_S,  # a run may take a month
    "misfire_grace_s": 365 * DAY_S,
    "retry_backoff_s": DAY_S,
    "retry_backoff_max_s": 7 * DAY_S,
    "interval_s": 100 * 365 * DAY_S,  # the period of an interval trigger
    "jitter_s": DAY_S,
    "max_catchup": 100_000,
    "max_instances": 10_000,
    "retries": 100,
}


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()


@dataclass(slots=True)
class JobSpec:
    """A job as a face describes it. ``target`` is a callable, a ``"pkg.mod:func"`` reference
    or a mapping with a ``kind`` (``{"kind": "shell", "command": [...]}``; see
    tickwork.targets). ``trigger`` is a kind ("cron", "interval", "date") with
    ``trigger_args``, a cron expression, a Trigger object, or a stored spec dict."""

    target: str | Callable[..., Any] | Mapping[str, Any]
    trigger: str | Trigger | Mapping[str, Any] | None = None
    trigger_args: dict[str, Any] = field(default_factory=dict)
    id: str | None = None
    name: str | None = None
    description: str = ""
    group: str = "default"
    tags: Sequence[str] = ()
    args: Sequence[Any] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    timezone: str | None = None
    executor: str | None = None
    queue: str | None = None  # a Celery queue name: the runs go to Celery workers
    misfire_policy: str = MisfirePolicy.RUN_ONCE.value
    misfire_grace_s: float | None = None
    max_catchup: int = 100
    concurrency_policy: str = ConcurrencyPolicy.ALLOW.value
    max_instances: int = 1
    timeout_s: float | None = None
    retries: int = 0
    retry_backoff_s: float = 10.0
    retry_backoff_max_s: float = 600.0
    secret_keys: Sequence[str] = ()
    parameters: Sequence[Mapping[str, Any]] = ()  # what a manual run may set (parameters.py)
    paused: bool = False
    next_run_time: datetime | Any | None = UNSET  # APScheduler: a first fire; None = paused
    owner: str = "python"
    owner_ref: str | None = None
    check_target: bool = True  # import the target to check it exists (not in the API server)


def from_apscheduler(
    *,
    coalesce: Any = UNSET,
    misfire_grace_time: Any = UNSET,
    misfire_policy: str | None = None,
) -> dict[str, Any]:
    """Map APScheduler's ``coalesce`` and ``misfire_grace_time`` onto Tickwork's policy.

    coalesce=True -> run_once, coalesce=False -> run_all; APScheduler's None grace means no
    limit, as Tickwork's does."""
    out: dict[str, Any] = {}
    if misfire_policy is not None:
        out["misfire_policy"] = misfire_policy
    elif coalesce is not UNSET:
        out["misfire_policy"] = "run_once" if coalesce else "run_all"
    if misfire_grace_time is not UNSET:
        out["misfire_grace_s"] = misfire_grace_time
    return out


_BEFORE_ANY_DATE = -(2**62)  # epoch microseconds before any date a trigger can hold


def build_record(
    spec: JobSpec,
    *,
    now_us: int,
    default_tz: str,
    by: str | None,
    memo: TriggerMemo | None = None,
) -> JobRecord:
    """Validate ``spec`` and build the record to store (next_fire_at computed from now).
    ``memo``: bulk builders share the built schedules of equal cron triggers (trigger_memo)."""
    kind, target_ref, kind_spec, is_coroutine = _target(spec, memo)
    job_id = _job_id(spec.id)
    name = _text("name", spec.name or _default_name(target_ref, job_id), 200)
    tz = spec.timezone or default_tz
    trigger_spec, first_fire = _schedule(spec, tz, job_id, now_us, memo)
    executor = spec.executor or ("asyncio" if is_coroutine else "thread")
    if executor == "default":
        executor = "thread"
    _choice("executor", executor, EXECUTORS)
    _choice("misfire_policy", spec.misfire_policy, _MISFIRE_POLICIES)
    _choice("concurrency_policy", spec.concurrency_policy, _CONCURRENCY_POLICIES)
    _choice("owner", spec.owner, OWNERS)
    if kind_spec is not None and target_ref is not None:  # python, as a mapping
        args, kwargs = _arguments(
            kind_spec.get("args", spec.args), kind_spec.get("kwargs", spec.kwargs)
        )
    else:
        args, kwargs = _arguments(spec.args, spec.kwargs)
    secret_keys = [_text("secret_keys", k, 100) for k in spec.secret_keys]
    if kind != "python":
        _no_python_arguments(kind, args, kwargs, secret_keys)
    for key in secret_keys:
        if key not in kwargs:
            raise InvalidInput(
                "secret_keys",
                f"{key!r} is not one of the job's kwargs",
                code="secret_not_kwarg",
                params={"key": key},
            )
    parameters = (
        []
        if not spec.parameters and type(spec.parameters) in (tuple, list)
        else check_declarations(spec.parameters, secret_keys)
    )
    target: dict[str, Any]
    if kind == "python":
        target = {"ref": target_ref, "args": args, "kwargs": kwargs}
    else:
        target = dict(kind_spec or {})
    if parameters:
        target["parameters"] = parameters
    backoff = _number("retry_backoff_s", spec.retry_backoff_s, minimum=0.001)
    backoff_max = _number("retry_backoff_max_s", spec.retry_backoff_max_s, minimum=0.001)
    if backoff_max < backoff:
        raise InvalidInput(
            "retry_backoff_max_s",
            "must not be smaller than retry_backoff_s",
            code="not_below_field",
            params={"other": "retry_backoff_s"},
        )

    paused, next_fire = _first_fire(spec, tz, bool(spec.paused), first_fire)

    return JobRecord(
        id=job_id,
        name=name,
        description=_text("description", spec.description or "", 10_000),
        group=_text("group", spec.group or "default", 100),
        tags=_tags(spec.tags),
        target_kind=kind,
        target=target,
        trigger_kind=str(trigger_spec["kind"]),
        trigger=trigger_spec,
        timezone=str(trigger_spec.get("tz", tz)),
        executor=executor,
        misfire_policy=spec.misfire_policy,
        misfire_grace_s=_optional_number("misfire_grace_s", spec.misfire_grace_s, minimum=0),
        max_catchup=_integer("max_catchup", spec.max_catchup, 0, int(LIMITS["max_catchup"])),
        concurrency_policy=spec.concurrency_policy,
        max_instances=_integer(
            "max_instances", spec.max_instances, 1, int(LIMITS["max_instances"])
        ),
        timeout_s=_optional_number("timeout_s", spec.timeout_s, minimum=0.001),
        retries=_integer("retries", spec.retries, 0, int(LIMITS["retries"])),
        retry_backoff_s=backoff,
        retry_backoff_max_s=backoff_max,
        secret_keys=secret_keys,
        paused=paused,
        owner=spec.owner,
        owner_ref=spec.owner_ref,
        version=1,
        next_fire_at=next_fire,
        created_at=now_us,
        created_by=by,
        updated_at=now_us,
        updated_by=by,
        queue=queue_name(spec.queue),
    )


def _schedule(
    spec: JobSpec, tz: str, job_id: str, now_us: int, memo: TriggerMemo | None
) -> tuple[dict[str, Any], Callable[[], int | None]]:
    """The trigger's stored spec, and its first fire after now (computed when asked)."""
    key = None
    if memo is not None and memo.now_us == now_us and spec.next_run_time is UNSET:
        key = memo.key(spec.trigger, spec.trigger_args, tz)
    if key is not None:
        seed = memo.seed_of(spec.trigger, job_id)  # type: ignore[union-attr]
        try:
            shared, first = memo.get(key, seed)  # type: ignore[union-attr]
            return shared, lambda: first
        except KeyError:
            pass
    trigger = make_trigger(spec.trigger, spec.trigger_args, tz=tz, seed=job_id, now_us=now_us)
    trigger_spec = trigger.to_spec()
    _check_trigger_bounds(trigger_spec)

    def first_fire() -> int | None:
        next_fire = trigger.next_fire_us(now_us)
        if next_fire is None and trigger_spec["kind"] == "date":
            # A one-off job whose time has already passed is still owed its fire: the
            # loop claims it at once and its misfire policy decides (run_once runs it,
            # skip or a passed grace time records it missed). Never silently completed.
            next_fire = trigger.next_fire_us(_BEFORE_ANY_DATE)
        return next_fire

    if key is not None:
        first = first_fire()
        memo.put(key, seed, trigger_spec, first)  # type: ignore[union-attr]
        return trigger_spec, lambda: first
    return trigger_spec, first_fire


def make_trigger(
    trigger: str | Trigger | Mapping[str, Any] | None,
    trigger_args: Mapping[str, Any],
    *,
    tz: str,
    seed: str,
    now_us: int,
) -> Trigger:
    """Any accepted trigger form -> a Trigger. Interval triggers without a start date start
    one interval from now, as in APScheduler."""
    args = dict(trigger_args)
    try:
        if isinstance(trigger, Trigger):
            if args:
                raise TriggerError(
                    "trigger",
                    "trigger keywords given with a trigger object",
                    code="keywords_with_trigger",
                )
            return trigger
        if isinstance(trigger, Mapping):
            return from_spec(trigger)
        if trigger is None:
            if args:
                raise TriggerError(
                    "trigger",
                    "trigger keywords given without a trigger kind",
                    code="keywords_without_kind",
                )
            # APScheduler: no trigger means run once, now.
            return from_keywords("date", run_date=_utc(now_us), timezone=tz)
        if not isinstance(trigger, str):
            raise TriggerError(
                "trigger",
                f"unsupported trigger {type(trigger).__name__}",
                code="unsupported_trigger",
                params={"type": type(trigger).__name__},
            )
        if trigger not in TRIGGER_KINDS:
            # A cron expression: "0 2 * * *", "0 0 9 * * 1", "@daily".
            start, end, jitter = (args.pop(k, None) for k in ("start_date", "end_date", "jitter"))
            zone = args.pop("timezone", None) or tz
            if args:
                raise TriggerError(
                    next(iter(args)),
                    "not accepted with a cron expression",
                    code="not_with_cron_expression",
                )
            return cron_trigger(trigger, zone, seed, start_date=start, end_date=end, jitter=jitter)
        args.setdefault("timezone", tz)
        if trigger != "date":
            args.setdefault("seed", seed)
        if trigger == "interval" and args.get("start_date") is None:
            args["start_date"] = _utc(now_us) + _interval_length(args)
        if trigger == "date" and args.get("run_date") is None:
            args["run_date"] = _utc(now_us)
        return from_keywords(trigger, **args)
    except TriggerError as exc:
        if exc.field.startswith("trigger"):
            raise
        raise TriggerError(
            f"trigger.{exc.field}", exc.reason, code=exc.code, params=exc.params
        ) from None
    except (OverflowError, RecursionError) as exc:  # a number or a structure far out of range
        raise TriggerError(
            "trigger",
            f"a value is out of range ({exc})",
            code="trigger_value_out_of_range",
            params={"error": str(exc)},
        ) from None


def same_schedule_ignoring_default_start(stored: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    """True when two interval specs differ only in the start date Tickwork filled in."""
    if stored.get("kind") != "interval" or new.get("kind") != "interval":
        return False
    strip = ("start_date",)
    return {k: v for k, v in stored.items() if k not in strip} == {
        k: v for k, v in new.items() if k not in strip
    }


# -- field checks -------------------------------------------------------------------------------
def _target(
    spec: JobSpec, memo: TriggerMemo | None = None
) -> tuple[str, str | None, dict[str, Any] | None, bool]:
    """(kind, python reference or None, the mapping's spec or None, is a coroutine)."""
    target = spec.target
    if isinstance(target, Mapping):
        name, rest = split_target(target)
        if name != "python":
            return name, None, kinds.get(name).validate(rest), False
        for key in rest:
            if key not in ("ref", "args", "kwargs"):
                raise InvalidInput(
                    f"target.{key}",
                    "is not a field of a python target (ref, args, kwargs)",
                    code="unknown_field",
                    params={"kind": "python"},
                )
        ref_spec = JobSpec(target=rest.get("ref"), check_target=spec.check_target)  # type: ignore[arg-type]
        ref, is_coroutine = _python_target(ref_spec)
        return "python", ref, rest, is_coroutine
    if memo is not None and type(target) is str:
        checked = (target, spec.check_target)
        known = memo.targets.get(checked)
        if known is None:
            known = memo.targets[checked] = _python_target(spec)  # a pure check of the ref
        return "python", known[0], None, known[1]
    ref, is_coroutine = _python_target(spec)
    return "python", ref, None, is_coroutine


def _no_python_arguments(
    kind: str, args: list[Any], kwargs: dict[str, Any], secrets: list[str]
) -> None:
    """Positional and keyword arguments, and kwargs secrets, belong to Python targets; other
    kinds take their values in their spec and their credentials from named connections."""
    if args or kwargs:
        raise InvalidInput(
            "args" if args else "kwargs",
            f"a {kind} job takes no Python arguments; put values in its target",
            code="python_only",
            params={"kind": kind},
        )
    if secrets:
        raise InvalidInput(
            "secret_keys",
            f"a {kind} job keeps its credentials in named connections, not secret kwargs",
            code="python_only",
            params={"kind": kind},
        )


def _python_target(spec: JobSpec) -> tuple[str, bool]:
    target = spec.target
    if callable(target):
        ref = ref_of(target)
        return ref, is_coroutine_target(ref)
    if not isinstance(target, str) or not target:
        raise InvalidInput(
            "target",
            "give a callable or a 'package.module:function' reference",
            code="target_required",
        )
    if spec.check_target:
        resolve(target)
        return target, is_coroutine_target(target)
    if target.count(":") != 1 or not all(
        p.isidentifier() for p in target.replace(":", ".").split(".")
    ):
        raise InvalidInput(
            "target",
            f"{target!r} must look like 'package.module:function'",
            code="target_form",
            params={"value": target},
        )
    return target, False


def _job_id(value: str | None) -> str:
    if value is None or value == "":
        return uuid.uuid4().hex
    if not isinstance(value, str) or not ID_PATTERN.match(value):
        raise InvalidInput(
            "id",
            f"{value!r} is not a valid job id: 1-191 characters, letters, digits and "
            "_ . : @ - (not starting with punctuation)",
            code="job_id_rule",
            params={"value": str(value), "max": 191},
        )
    return value


def _default_name(ref: str | None, job_id: str) -> str:
    return (ref or "").partition(":")[2] or job_id


def _text(name: str, value: Any, limit: int) -> str:
    if not isinstance(value, str):
        raise InvalidInput(
            name,
            f"must be text, not {type(value).__name__}",
            code="expected_text",
            params={"value": repr(value)},
        )
    if len(value) <= limit and value.isprintable():
        return value  # no control characters, no surrogates: the checks below would pass
    if len(value) > limit:
        raise InvalidInput(
            name,
            f"is {len(value)} characters long; the limit is {limit}",
            code="text_too_long",
            params={"length": len(value), "max": limit},
        )
    if _CONTROL_CHARS.search(value):
        raise InvalidInput(name, "contains control characters", code="control_characters")
    if SURROGATE.search(value):
        raise InvalidInput(
            name, "holds a lone UTF-16 surrogate, which is not text", code="lone_surrogate"
        )
    return value


def _tags(tags: Sequence[str]) -> list[str]:
    if not tags and type(tags) in (tuple, list):
        return []
    if isinstance(tags, str):
        raise InvalidInput(
            "tags", "must be a list of tags, not a single string", code="tags_not_list"
        )
    out = [_text("tags", t, 100).strip() for t in tags]
    if any(not t for t in out):
        raise InvalidInput("tags", "a tag must not be empty", code="empty_tag")
    if len(out) > 50:
        raise InvalidInput(
            "tags",
            f"{len(out)} tags; the limit is 50",
            code="too_many_items",
            params={"count": len(out), "max": 50},
        )
    return list(dict.fromkeys(out))


def _choice(name: str, value: Any, allowed: Sequence[str]) -> None:
    if value not in allowed:
        raise InvalidInput(
            name,
            f"{value!r} is not one of {', '.join(allowed)}",
            code="not_one_of",
            params={"value": str(value), "choices": list(allowed)},
        )


def _number(name: str, value: Any, *, minimum: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(
            name,
            f"must be a number, not {value!r}",
            code="expected_number",
            params={"value": repr(value)},
        )
    if not math.isfinite(value) or value < minimum:
        raise InvalidInput(
            name,
            f"must be a finite number >= {minimum:g}, not {value!r}",
            code="expected_number_min",
            params={"value": repr(value), "min": minimum},
        )
    limit = LIMITS.get(name)
    if limit is not None and value > limit:
        raise InvalidInput(
            name,
            f"{value!r} is above the limit of {limit:,.0f} seconds",
            code="above_limit_seconds",
            params={"value": value, "max": limit},
        )
    return float(value)


def _optional_number(name: str, value: Any, *, minimum: float) -> float | None:
    return None if value is None else _number(name, value, minimum=minimum)


def _check_trigger_bounds(spec: Mapping[str, Any]) -> None:
    """The period of an interval trigger and any trigger's jitter stay within LIMITS."""
    from tickwork.triggers.interval import UNITS_US

    if spec.get("kind") == "interval":
        period_s = sum(float(spec.get(name) or 0) * unit / 1e6 for name, unit in UNITS_US)
        if period_s > LIMITS["interval_s"]:
            raise InvalidInput(
                "trigger.interval",
                f"the period is {period_s:,.0f} s; the limit is "
                f"{LIMITS['interval_s']:,.0f} s (100 years)",
                code="interval_too_long",
                params={"value": period_s, "max": LIMITS["interval_s"]},
            )
    jitter = spec.get("jitter")
    if isinstance(jitter, int | float) and jitter > LIMITS["jitter_s"]:
        raise InvalidInput(
            "trigger.jitter",
            f"{jitter!r} is above the limit of {LIMITS['jitter_s']:,.0f} seconds",
            code="above_limit_seconds",
            params={"value": jitter, "max": LIMITS["jitter_s"]},
        )


def _integer(name: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(
            name,
            f"must be a whole number, not {value!r}",
            code="expected_integer",
            params={"value": repr(value)},
        )
    if not low <= value <= high:
        raise InvalidInput(
            name,
            f"{value} is out of range {low}-{high}",
            code="out_of_range",
            params={"value": value, "min": low, "max": high},
        )
    return value


def _arguments(args: Any, kwargs: Any) -> tuple[list[Any], dict[str, Any]]:
    if not args and not kwargs and type(args) in (tuple, list) and type(kwargs) is dict:
        return [], {}  # most jobs (a million are added in bulk): no ABC checks
    if isinstance(args, str | bytes) or not isinstance(args, Sequence):
        raise InvalidInput("args", "must be a list", code="expected_list")
    if not isinstance(kwargs, Mapping) or not all(isinstance(k, str) for k in kwargs):
        raise InvalidInput(
            "kwargs", "must be a mapping with text keys", code="expected_mapping_text_keys"
        )
    out = (list(args), dict(kwargs))
    if not out[0] and not out[1]:
        return out  # nothing to check (most jobs: a million are added in bulk)
    for name, value in (("args", out[0]), ("kwargs", out[1])):
        check_json(name, value)
        try:
            text = json.dumps(value, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise InvalidInput(
                name,
                f"must be JSON-serialisable: {exc}",
                code="not_json_serialisable",
                params={"error": str(exc)},
            ) from None
        if len(text) > _MAX_JSON:
            raise InvalidInput(
                name,
                f"is {len(text)} bytes as JSON; the limit is {_MAX_JSON}",
                code="json_too_large",
                params={"size": len(text), "max": _MAX_JSON},
            )
    return out


def _interval_length(args: Mapping[str, Any]) -> timedelta:
    try:
        return timedelta(
            weeks=float(args.get("weeks", 0)),
            days=float(args.get("days", 0)),
            hours=float(args.get("hours", 0)),
            minutes=float(args.get("minutes", 0)),
            seconds=float(args.get("seconds", 0)),
        )
    except (TypeError, ValueError, OverflowError):
        return timedelta(0)  # the interval trigger itself reports the bad field


def _first_fire(
    spec: JobSpec, tz: str, paused: bool, first_fire: Callable[[], int | None]
) -> tuple[bool, int | None]:
    """(paused, next fire): APScheduler's ``next_run_time`` (None pauses) over the trigger's
    first fire, and none while paused."""
    next_fire: int | None
    if spec.next_run_time is UNSET:
        next_fire = first_fire()
    elif spec.next_run_time is None:
        paused, next_fire = True, None
    else:
        next_fire = _instant("next_run_time", spec.next_run_time, tz)
    return paused, None if paused else next_fire


def _instant(name: str, value: Any, tz: str) -> int:
    from tickwork.triggers import date as date_trigger

    try:
        moment = date_trigger(value, tz).to_spec()["run_date"]
    except TriggerError as exc:
        raise InvalidInput(name, exc.reason, code=exc.code, params=exc.params) from None
    return to_us(datetime.fromisoformat(moment))


def _utc(us: int) -> datetime:
    from tickwork.clock import us_to_datetime

    return us_to_datetime(us)
