"""What a rule and a channel are, and the checks of their definitions (before anything is
written, naming the field)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tickwork.errors import InvalidInput

SEVERITIES = ("info", "warning", "critical")
SCOPES = ("job", "group", "tag", "all")
LANGUAGES = ("en", "zh-CN")
# Rule kinds. Failure kinds set the rule-and-job pair alerting; a recovery rule fires on the
# job's first success after one of them.
FAILURE_KINDS = (
    "failed",
    "consecutive_failures",
    "error_rate",
    "timed_out",
    "lost",
    "missed",
)
RULE_KINDS = (*FAILURE_KINDS, "long_run", "recovery", "finding")
FAILED_STATUSES = frozenset({"failed", "timed_out", "lost"})
ENDED_STATUSES = ("succeeded", "failed", "timed_out", "lost")
MAX_DEDUPE_S = 30 * 86_400
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}\Z")
_HHMM = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])\Z")


@dataclass(frozen=True, slots=True)
class Quiet:
    start_min: int  # minutes after local midnight
    end_min: int
    timezone: str

    def to_json(self) -> dict[str, str]:
        return {
            "start": f"{self.start_min // 60:02d}:{self.start_min % 60:02d}",
            "end": f"{self.end_min // 60:02d}:{self.end_min % 60:02d}",
            "timezone": self.timezone,
        }


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    kind: str
    scope: str = "all"
    scope_value: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    severity: str = "warning"
    dedupe_s: int = 3600
    quiet: Quiet | None = None
    channels: tuple[str, ...] = ()
    enabled: bool = True
    description: str = ""
    version: int = 1
    created_at: int = 0
    created_by: str | None = None
    updated_at: int = 0
    updated_by: str | None = None

    def covers(self, job_id: str, group: str | None, tags: frozenset[str]) -> bool:
        if self.scope == "all":
            return True
        if self.scope == "job":
            return job_id == self.scope_value
        if self.scope == "group":
            return group == self.scope_value
        return self.scope_value in tags


def _refuse(
    field_: str, reason: str, *, code: str = "invalid_value", params: dict[str, Any] | None = None
) -> InvalidInput:
    return InvalidInput(field_, reason, code=code, params=params)


def check_id(value: Any, field_: str = "id") -> str:
    if not isinstance(value, str) or not _ID.match(value):
        raise _refuse(
            field_,
            "must be 1-63 letters, digits, '_', '.' or '-', starting with a letter or digit",
            code="bad_alert_name",
        )
    return value


def one_of(value: Any, choices: tuple[str, ...], field_: str) -> str:
    if value not in choices:
        raise _refuse(
            field_,
            f"{value!r} is not one of {', '.join(choices)}",
            code="not_one_of",
            params={"value": str(value), "choices": list(choices)},
        )
    return str(value)


def number(
    params: Mapping[str, Any],
    key: str,
    *,
    low: float,
    high: float,
    default: float | None = None,
    integer: bool = False,
    prefix: str = "params.",
) -> float | None:
    value = params.get(key, default)
    if value is None:
        return None
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if ok and integer:
        ok = float(value).is_integer()
    if not ok or not low <= float(value) <= high:
        kind = "a whole number" if integer else "a number"
        raise _refuse(
            f"{prefix}{key}",
            f"must be {kind} from {low:g} to {high:g}",
            code="out_of_range",
            params={
                "value": value if isinstance(value, int | float) else str(value),
                "min": low,
                "max": high,
            },
        )
    return float(value)


# Each kind's parameters: name -> (low, high, default, integer). Others are refused.
_PARAMS: dict[str, dict[str, tuple[float, float, float | None, bool]]] = {
    "failed": {},
    "timed_out": {},
    "lost": {},
    "recovery": {},
    "consecutive_failures": {"count": (2, 1000, 3, True)},
    "error_rate": {
        "rate": (0.01, 1, 0.1, False),
        "window_s": (60, 30 * 86_400, 3600, True),
        "min_runs": (1, 100_000, 10, True),
    },
    "long_run": {
        "threshold_s": (0.001, 30 * 86_400, None, False),
        "p95_factor": (1, 1000, None, False),
        "min_samples": (5, 10_000, 20, True),
    },
    "missed": {"grace_s": (0, 30 * 86_400, 300, True)},
    "finding": {"above": (-1e18, 1e18, None, False)},
}
_TEXT_PARAMS = {"finding": ("finding_kind", "min_severity", "metric")}


def check_params(kind: str, params: Any) -> dict[str, Any]:
    if params is None:
        params = {}
    if not isinstance(params, Mapping):
        raise _refuse("params", "must be an object", code="wrong_type")
    numeric = _PARAMS[kind]
    texts = _TEXT_PARAMS.get(kind, ())
    unknown = sorted(set(params) - set(numeric) - set(texts))
    if unknown:
        raise _refuse(
            f"params.{unknown[0]}",
            f"is not a parameter of a {kind} rule"
            + (f" (it takes {', '.join([*numeric, *texts])})" if numeric or texts else ""),
            code="unknown_alert_field",
            params={"name": unknown[0]},
        )
    out: dict[str, Any] = {}
    for key, (low, high, default, integer) in numeric.items():
        value = number(params, key, low=low, high=high, default=default, integer=integer)
        if value is not None:
            out[key] = int(value) if integer else value
    for key in texts:
        value = params.get(key)
        if value is None:
            continue
        if not isinstance(value, str) or not value or len(value) > 100:
            raise _refuse(f"params.{key}", "must be text of 1-100 characters", code="text_type")
        out[key] = value
    if kind == "long_run" and ("threshold_s" in out) == ("p95_factor" in out):
        raise _refuse(
            "params.threshold_s",
            "give either threshold_s (seconds) or p95_factor (k x the job's p95)",
            code="missing",
        )
    if kind == "finding":
        out["min_severity"] = one_of(
            out.get("min_severity", "warning"), SEVERITIES, "params.min_severity"
        )
        if ("metric" in out) != ("above" in out):
            raise _refuse("params.above", "metric and above go together", code="missing")
    return out


def check_quiet(value: Any) -> Quiet | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise _refuse("quiet", "must be an object with start, end and timezone", code="wrong_type")
    bounds = []
    for key in ("start", "end"):
        text = value.get(key)
        match = _HHMM.match(text) if isinstance(text, str) else None
        if match is None:
            raise _refuse(f"quiet.{key}", "must be a time HH:MM (24 h)", code="bad_time")
        bounds.append(int(match[1]) * 60 + int(match[2]))
    if bounds[0] == bounds[1]:
        raise _refuse("quiet.end", "must differ from quiet.start", code="quiet_empty")
    zone = value.get("timezone", "UTC")
    from tickwork.triggers.zones import resolve_tz

    try:
        resolve_tz(zone, "quiet.timezone")
    except Exception:
        raise _refuse(
            "quiet.timezone", f"{zone!r} is not an IANA time zone", code="bad_zone"
        ) from None
    return Quiet(bounds[0], bounds[1], str(zone))


def build_rule(body: Mapping[str, Any], *, now: int, by: str | None) -> Rule:
    """A rule from its JSON form (the API's and the CLI's), checked."""
    known = {
        "id", "kind", "scope", "scope_value", "params", "severity", "dedupe_s", "quiet",
        "channels", "enabled", "description",
    }  # fmt: skip
    unknown = sorted(set(body) - known)
    if unknown:
        raise _refuse(
            unknown[0],
            "is not a field of a rule",
            code="unknown_alert_field",
            params={"name": unknown[0]},
        )
    rule_id = check_id(body.get("id"))
    kind = one_of(body.get("kind"), RULE_KINDS, "kind")
    scope = one_of(body.get("scope", "all"), SCOPES, "scope")
    scope_value = body.get("scope_value")
    if scope == "all":
        scope_value = None
    elif not isinstance(scope_value, str) or not scope_value or len(scope_value) > 191:
        raise _refuse("scope_value", f"names the {scope} the rule covers", code="missing")
    severity = one_of(body.get("severity", "warning"), SEVERITIES, "severity")
    # A recovery is said once per failure episode already: no window by default.
    default_dedupe = 0 if kind == "recovery" else 3600
    dedupe = number(
        body, "dedupe_s", low=0, high=MAX_DEDUPE_S, default=default_dedupe, integer=True, prefix=""
    )
    channels = body.get("channels", [])
    if not isinstance(channels, list) or not all(isinstance(c, str) for c in channels):
        raise _refuse("channels", "must be a list of channel names", code="wrong_type")
    if len(set(channels)) != len(channels) or len(channels) > 20:
        raise _refuse("channels", "names each channel once, at most 20", code="channels_repeated")
    enabled = body.get("enabled", True)
    if not isinstance(enabled, bool):
        raise _refuse("enabled", "must be true or false", code="wrong_type")
    description = body.get("description") or ""
    if not isinstance(description, str) or len(description) > 2000:
        raise _refuse("description", "must be text of at most 2000 characters", code="text_type")
    return Rule(
        id=rule_id,
        kind=kind,
        scope=scope,
        scope_value=scope_value,
        params=check_params(kind, body.get("params")),
        severity=severity,
        dedupe_s=int(dedupe or 0),
        quiet=check_quiet(body.get("quiet")),
        channels=tuple(channels),
        enabled=enabled,
        description=description,
        created_at=now,
        created_by=by,
        updated_at=now,
        updated_by=by,
    )


def rule_to_body(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "kind": rule.kind,
        "scope": rule.scope,
        "scope_value": rule.scope_value,
        "params": dict(rule.params),
        "severity": rule.severity,
        "dedupe_s": rule.dedupe_s,
        "quiet": rule.quiet.to_json() if rule.quiet else None,
        "channels": list(rule.channels),
        "enabled": rule.enabled,
        "description": rule.description,
    }


def severity_rank(value: str) -> int:
    return SEVERITIES.index(value) if value in SEVERITIES else 0
