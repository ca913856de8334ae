"""Records to response shapes and request shapes to facade arguments. Secrets are masked
here on the way out, and a masked value sent back keeps the stored secret on the way in."""

from __future__ import annotations

import base64
import binascii
import json
import re
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, TypeVar

from fastapi import Response
from pydantic import BaseModel

from tickwork.accounts.records import ApiToken, User
from tickwork.api import schemas as s
from tickwork.api.convert_targets import keep_secrets, patch_target, target_fields, target_out
from tickwork.audit import AuditEvent, redact_kwargs, redacted_params
from tickwork.clock import us_to_datetime
from tickwork.engine.trigger_cache import spec_key, trigger_of
from tickwork.errors import BadParameter, InvalidInput
from tickwork.executors.redact import MASK
from tickwork.parameters import declared_of
from tickwork.stats import RunStats, StatsReport
from tickwork.store.records import JobRecord, RunRecord
from tickwork.triggers.base import to_us
from tickwork.triggers.zones import resolve_tz, us_to_local

_POLICY_FIELDS = tuple(s.PoliciesIn.model_fields)
M = TypeVar("M", bound=BaseModel)


def json_response(model: BaseModel, status_code: int = 200) -> Response:
    """A response serialized once, by Pydantic in Rust: list routes return these, so FastAPI
    does not validate and encode their many items a second time."""
    return Response(model.model_dump_json(), status_code=status_code, media_type="application/json")


# -- instants and cursors ----------------------------------------------------------------------
def iso(us: int | None) -> str | None:
    return None if us is None else us_to_datetime(us).isoformat()


def iso_required(us: int) -> str:
    return us_to_datetime(us).isoformat()


def micros(moment: datetime | None, field: str = "instant") -> int | None:
    """Epoch microseconds of an aware instant; one that falls outside years 1-9999 once
    in UTC (``0001-01-01T00:00+01:00``) is a BadParameter naming ``field``."""
    if moment is None:
        return None
    try:
        value = to_us(moment)
    except (OverflowError, ValueError):
        value = _MIN_US - 1
    if not _MIN_US <= value <= _MAX_US:
        raise BadParameter(
            field, "is outside the years 1-9999 once in UTC", code="outside_calendar"
        )
    return value


_MIN_US = to_us(datetime(1, 1, 1, tzinfo=UTC))
_MAX_US = to_us(datetime(9999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC))


_MAX_ROW_ID = 2**63 - 1
_MAX_CURSOR_US = 2**62  # far beyond any instant the calendar allows, within BIGINT
_ASCII_DIGITS = re.compile(r"[0-9]{1,19}")


def encode_cursor(value: str | int) -> str:
    return base64.urlsafe_b64encode(str(value).encode()).decode().rstrip("=")


def _not_ours(why: str = "is not a cursor this API returned") -> BadParameter:
    return BadParameter("cursor", why, code="bad_cursor")


def decode_cursor(cursor: str | None) -> str | None:
    if cursor is None or cursor == "":
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        text = base64.b64decode(padded.encode("ascii"), altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeError, ValueError):
        text = ""
    if not text:
        raise _not_ours()
    return text


def encode_key_cursor(value: Any, last_id: str) -> str:
    """The cursor of a page in a non-id order: the last row's sort value and id."""
    return encode_cursor(json.dumps([value, last_id], separators=(",", ":")))


def decode_key_cursor(cursor: str | None, sort: str = "name") -> tuple[Any, str] | None:
    """(sort value, last id) of a cursor of ``sort``'s order; anything else is refused (a
    value of the wrong type would reach the database as a comparison it cannot make)."""
    text = decode_cursor(cursor)
    if text is None:
        return None
    try:
        value, last_id = json.loads(text)
    except (ValueError, TypeError, RecursionError):
        raise _not_ours("is not a cursor of this sort order") from None
    if not isinstance(last_id, str) or len(last_id) > 191:
        raise _not_ours("is not a cursor of this sort order")
    if sort.lstrip("-") == "next_fire_at":
        fits = value is None or (type(value) is int and -_MAX_CURSOR_US <= value <= _MAX_CURSOR_US)
    else:
        fits = isinstance(value, str) and len(value) <= 200
    if not fits:
        raise _not_ours("is not a cursor of this sort order")
    return value, last_id


def decode_int_cursor(cursor: str | None) -> int | None:
    text = decode_cursor(cursor)
    if text is None:
        return None
    if not _ASCII_DIGITS.fullmatch(text) or not 1 <= int(text) <= _MAX_ROW_ID:
        raise _not_ours()
    return int(text)


# -- jobs --------------------------------------------------------------------------------------
def job_state(record: JobRecord) -> str:
    if record.paused:
        return "paused"
    return "completed" if record.next_fire_at is None else "scheduled"


@lru_cache(maxsize=4096)
def _describe(key: str) -> tuple[str, str]:
    import json

    try:
        trigger = trigger_of(json.loads(key))
        return trigger.describe("en"), trigger.describe("zh")
    except Exception:  # a stored spec that no longer parses still lists
        return "", ""


def job_out(record: JobRecord, last: RunRecord | None) -> s.JobOut:
    en, zh = _describe(spec_key(record.trigger))
    expr = record.trigger.get("expr")
    try:
        zone = resolve_tz(record.timezone)
    except Exception:
        zone = resolve_tz("UTC")
    # model_construct: the values come from the store, already validated; skipping a second
    # validation of 50 nested objects is a fifth of a list page's time.
    build = _construct
    return build(
        s.JobOut,
        id=record.id,
        name=record.name,
        description=record.description,
        group=record.group,
        tags=list(record.tags),
        target=target_out(record),
        trigger=build(
            s.TriggerOut,
            kind=record.trigger_kind,
            expr=expr if isinstance(expr, str) else None,
            spec=record.trigger,
            description=build(s.Description, en=en, zh=zh),
        ),
        timezone=record.timezone,
        executor=record.executor,
        queue=record.queue,
        policies=build(s.Policies, **{f: getattr(record, f) for f in _POLICY_FIELDS}),
        secret_keys=list(record.secret_keys),
        parameters=[build(s.ParameterOut, **p) for p in declared_of(record.target)],
        state=job_state(record),
        paused=record.paused,
        next_fire_at=(
            None
            if record.next_fire_at is None
            else us_to_local(record.next_fire_at, zone).isoformat()
        ),
        last_run=None
        if last is None
        else build(
            s.LastRun,
            id=last.id,
            status=last.status,
            scheduled_for=iso_required(last.scheduled_for),
            finished_at=iso(last.finished_at),
            duration_s=last.duration_s,
        ),
        version=record.version,
        owner=record.owner,
        owner_ref=record.owner_ref,
        created_at=iso_required(record.created_at),
        created_by=record.created_by,
        updated_at=iso_required(record.updated_at),
        updated_by=record.updated_by,
    )


def _construct(model: type[M], **fields: Any) -> M:
    return model.model_construct(**fields)


def trigger_fields(trigger: s.TriggerIn, timezone: str | None) -> dict[str, Any]:
    """JobSpec's ``trigger`` and ``trigger_args`` from the API's trigger shape."""
    given = [name for name in ("expr", "args", "spec") if getattr(trigger, name) is not None]
    if len(given) > 1:
        raise InvalidInput(
            "trigger",
            f"give one of expr, args or spec, not {' and '.join(given)}",
            code="trigger_one_of",
            params={"given": given},
        )
    if trigger.spec is not None:
        spec = dict(trigger.spec)
        if timezone:
            spec["tz"] = timezone
        return {"trigger": spec, "trigger_args": {}}
    if trigger.expr is not None:
        if trigger.kind != "cron":
            raise InvalidInput(
                "trigger.expr",
                f"a {trigger.kind} trigger takes args, not expr",
                code="trigger_takes_args",
                params={"kind": trigger.kind},
            )
        return {"trigger": trigger.expr, "trigger_args": {}}
    if trigger.args is None and trigger.kind != "date":
        raise InvalidInput(
            "trigger",
            f"a {trigger.kind} trigger needs expr or args",
            code="trigger_needs_args",
            params={"kind": trigger.kind},
        )
    return {"trigger": trigger.kind, "trigger_args": dict(trigger.args or {})}


def spec_fields(body: s.JobIn, old: JobRecord | None) -> dict[str, Any]:
    """Every JobSpec field a whole definition gives (defaults for what it leaves out)."""
    from tickwork.jobspec import JobSpec

    base = JobSpec(target="x:y")  # the defaults of whatever the body leaves out
    policies = {}
    for name in _POLICY_FIELDS:
        value = getattr(body.policies, name)
        policies[name] = getattr(base, name) if value is None else value
    fields: dict[str, Any] = {
        "name": body.name,
        "description": body.description,
        "group": body.group,
        "tags": body.tags,
        **target_fields(body.target, old, body.secret_keys),
        "timezone": body.timezone,
        "executor": body.executor,
        "queue": body.queue,
        "secret_keys": body.secret_keys,
        "parameters": [p.model_dump(exclude_none=True) for p in body.parameters],
        "paused": body.paused,
        **policies,
        **trigger_fields(body.trigger, body.timezone),
    }
    return fields


def patch_fields(body: s.JobPatch, old: JobRecord) -> dict[str, Any]:
    given = body.model_fields_set
    fields: dict[str, Any] = {}
    simple = ("name", "description", "group", "tags", "executor", "queue", "secret_keys", "paused")
    for name in simple:
        if name in given and getattr(body, name) is not None:
            fields[name] = getattr(body, name)
    if "timezone" in given and body.timezone is not None:
        fields["timezone"] = body.timezone
    if body.parameters is not None:
        fields["parameters"] = [p.model_dump(exclude_none=True) for p in body.parameters]
    secret_keys = fields.get("secret_keys", list(old.secret_keys))
    if body.target is not None:
        for key, value in patch_target(body.target, old, secret_keys).items():
            fields.setdefault(key, value)
    if body.policies is not None:
        for name in body.policies.model_fields_set:
            fields[name] = getattr(body.policies, name)
    if body.trigger is not None:
        fields.update(trigger_fields(body.trigger, fields.get("timezone")))
    return fields


# -- runs --------------------------------------------------------------------------------------
def run_out(record: RunRecord, secret_keys: list[str] | None = None) -> s.RunOut:
    return s.RunOut(**_run_fields(record, secret_keys))


def run_detail(record: RunRecord, secret_keys: list[str] | None = None) -> s.RunDetail:
    return s.RunDetail(
        **_run_fields(record, secret_keys),
        traceback=record.traceback,
        log_size=len(record.log or ""),
    )


def _run_fields(record: RunRecord, secret_keys: list[str] | None) -> dict[str, Any]:
    params = record.params
    if params is not None:
        # Without the job (removed) every override is masked: it may have been a secret.
        if secret_keys is None and isinstance(params.get("kwargs"), dict):
            params = redacted_params(params, params["kwargs"].keys())
        else:
            params = redacted_params(params, secret_keys or [])
    return {
        "id": record.id,
        "job_id": record.job_id,
        "scheduled_for": iso_required(record.scheduled_for),
        "due_at": iso_required(record.due_at),
        "attempt": record.attempt,
        "retry_of": record.retry_of,
        "reason": record.reason,
        "status": record.status,
        "node_id": record.node_id,
        "cancel_requested": bool(record.cancel_requested),
        "created_at": iso_required(record.created_at),
        "started_at": iso(record.started_at),
        "finished_at": iso(record.finished_at),
        "duration_s": record.duration_s,
        "result": record.result,
        "error": record.error,
        "params": params,
        "triggered_by": record.triggered_by,
        "fires": record.fires,
        "last_scheduled_for": iso(record.last_scheduled_for),
    }


def stats_out(report: StatsReport, secrets: dict[str, list[str]]) -> s.StatsOut:
    def one(st: RunStats) -> s.RunStatsOut:
        return s.RunStatsOut(
            job_id=st.job_id,
            runs=st.runs,
            by_status=st.by_status,
            success_rate=st.success_rate,
            duration_min_s=st.duration_min_s,
            duration_avg_s=st.duration_avg_s,
            duration_max_s=st.duration_max_s,
            duration_p95_s=st.duration_p95_s,
            last_status=st.last_status,
            last_run_id=st.last_run_id,
            slow_threshold_s=st.slow_threshold_s,
            slow_runs=st.slow_runs,
            slowest=[run_out(r, secrets.get(r.job_id)) for r in st.slowest],
        )

    return s.StatsOut(
        since=iso(report.since),
        until=iso(report.until),
        total=one(report.total),
        jobs=[one(j) for j in report.jobs],
    )


# -- accounts and audit ------------------------------------------------------------------------
def user_out(user: User) -> s.UserOut:
    return s.UserOut(
        id=user.id,
        username=user.username,
        role=user.role.value,
        disabled=user.disabled,
        created_at=iso_required(user.created_at),
        created_by=user.created_by,
        updated_at=iso_required(user.updated_at),
    )


def token_out(token: ApiToken, now_us: int) -> s.TokenOut:
    return s.TokenOut(
        id=token.id,
        name=token.name,
        user_id=token.user_id,
        username=token.username,
        role=token.role.value,
        created_at=iso_required(token.created_at),
        expires_at=iso(token.expires_at),
        last_used_at=iso(token.last_used_at),
        revoked_at=iso(token.revoked_at),
        active=token.active(now_us),
    )


def audit_out(event: AuditEvent) -> s.AuditOut:
    return s.AuditOut(
        id=event.id,
        at=iso_required(event.at),
        actor=event.actor,
        action=event.action,
        job_id=event.job_id,
        run_id=event.run_id,
        subject=event.subject,
        before=event.before,
        after=event.after,
        detail=event.detail,
    )


__all__ = ["MASK", "keep_secrets", "redact_kwargs"]
