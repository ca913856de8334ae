"""Stored jobs -> other schedulers' configuration shapes (``tickwork export``).

Tickwork's own job file format is ``tickwork.cli.jobs``' ``jobs list --json`` entry (it
re-imports to the same job). Here: RuoYi-FastAPI's task configuration, the list its
``TaskConfigLoader.save_config`` writes (``task_id, task_name, task_func, trigger_type,
trigger_args, enabled, description``), whose ``trigger_args`` are APScheduler's keywords.

A cron expression becomes APScheduler keywords only where the meaning survives: APScheduler
numbers days of the week from Monday (0 = MON) and ANDs day-of-month with day-of-week, cron
numbers them from Sunday and ORs them. Days are written as names (``mon-fri``), and an
expression that restricts both day fields, steps through days of the week, or uses ``L``,
``W``, ``#``, ``H`` or a year is refused with the reason."""

from __future__ import annotations

import re
from typing import Any

from tickwork.errors import InvalidInput
from tickwork.store.records import JobRecord

_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")
_APS_ORDER = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_NICKNAMES = {
    "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}  # fmt: skip
_NAMES = re.compile(r"MON|TUE|WED|THU|FRI|SAT|SUN|JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC")


def _day(token: str) -> str:
    if token.isdigit():
        value = int(token)
        if value > 7:
            raise ValueError(f"day-of-week {value}")
        return _DAYS[value]
    return token.lower()[:3]


def _days(field: str) -> str:
    out = []
    for item in field.split(","):
        if "/" in item:
            raise ValueError(
                "steps through days of the week mean other days in APScheduler (0 = MON)"
            )
        low, sep, high = item.partition("-")
        if not sep:
            out.append(_day(low))
            continue
        first, last = _day(low), _day(high)
        if _APS_ORDER.index(first) > _APS_ORDER.index(last):
            raise ValueError(f"{item}: the range wraps past Sunday in APScheduler's week")
        out.append(f"{first}-{last}")
    return ",".join(out)


def cron_keywords(expr: str) -> dict[str, Any]:
    """A 5- or 6-field cron expression as APScheduler's keyword arguments (ValueError: why
    it does not carry over)."""
    fields = _NICKNAMES.get(expr.strip(), expr).split()
    if len(fields) not in (5, 6):
        raise ValueError("only 5- and 6-field expressions carry over")
    names = ["minute", "hour", "day", "month", "day_of_week"]
    if len(fields) == 6:
        names.insert(0, "second")
    values = dict(zip(names, fields, strict=True))
    for name in list(values):
        if values[name] == "?":
            values[name] = "*"
        if re.search(r"[LWH#?]", _NAMES.sub("", values[name].upper())):
            raise ValueError(
                f"{name} {values[name]!r} uses an extension APScheduler reads otherwise"
            )
    if values["day"] != "*" and not values["day"].startswith("*") and values["day_of_week"] != "*":
        raise ValueError(
            "both day fields are restricted: cron runs when either matches, APScheduler only "
            "when both do"
        )
    out: dict[str, Any] = {k: v for k, v in values.items() if v != "*"}
    if "day_of_week" in out:
        out["day_of_week"] = _days(out["day_of_week"])
    out.setdefault("second", "0")
    return out


def task_config(record: JobRecord) -> dict[str, Any]:
    """One job as an entry of RuoYi-FastAPI's task configuration (InvalidInput: why not)."""
    if record.target_kind != "python":
        raise InvalidInput("target", f"a {record.target_kind} job has no task_func")
    if record.target.get("args") or record.target.get("kwargs"):
        raise InvalidInput("target", "the task configuration has no place for arguments")
    ref = str(record.target["ref"])
    module, _, func = ref.partition(":")
    if "." in func:
        raise InvalidInput("target", f"{ref} is a method; the configuration names functions")
    spec = record.trigger
    kind = spec.get("kind")
    args: dict[str, Any]
    if kind == "cron":
        if "fields" in spec:
            args = dict(spec["fields"])
        else:
            try:
                args = cron_keywords(str(spec["expr"]))
            except ValueError as exc:
                raise InvalidInput("trigger", f"{spec['expr']!r}: {exc}") from None
    elif kind == "interval":
        args = {k: spec[k] for k in ("weeks", "days", "hours", "minutes", "seconds") if spec.get(k)}
    elif kind == "date":
        args = {"run_date": spec["run_date"]}
    else:
        raise InvalidInput("trigger", f"{kind} triggers do not carry over")
    for key in ("start_date", "end_date", "jitter"):
        if spec.get(key) is not None:
            args[key] = spec[key]
    if spec.get("tz"):
        args["timezone"] = spec["tz"]
    return {
        "task_id": record.id,
        "task_name": record.name,
        "task_func": f"{module}.{func}",
        "trigger_type": kind,
        "trigger_args": args,
        "enabled": not record.paused,
        "description": record.description,
    }
