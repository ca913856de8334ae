"""Celery beat's ``beat_schedule`` -> Tickwork jobs of the celery kind.

Each entry becomes a job with the entry's name as its id, publishing the same task by name to
the same app, with the same args, kwargs, queue and options; ``crontab`` becomes a cron
trigger in the app's time zone, ``timedelta`` (or a number of seconds, or ``schedule``) an
interval trigger. What has no faithful equivalent is refused with the reason, never guessed:
``solar`` (sunrise and sunset at a place), a crontab that restricts both day fields (beat
requires both to match, cron either), custom schedule classes.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from tickwork.jobspec import ID_PATTERN
from tickwork.targets.celery_task import OPTIONS

_ID_CHARS = re.compile(r"[^A-Za-z0-9_.:@-]+")


@dataclass(frozen=True, slots=True)
class Planned:
    """One beat entry turned into a job (``spec`` holds add_job's arguments)."""

    entry: str
    job_id: str
    target: dict[str, Any]
    trigger: str  # a cron expression, or "interval" with trigger_args
    trigger_args: dict[str, Any]
    timezone: str
    describe: str
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Refused:
    entry: str
    reason: str


def plan(app: Any, app_ref: str) -> tuple[list[Planned], list[Refused]]:
    """The jobs ``app.conf.beat_schedule`` becomes, and the entries that cannot move."""
    schedule = app.conf.beat_schedule or {}
    # beat's zone: the app's timezone setting, else UTC (enable_utc, the default)
    tz = str(app.conf.timezone) if app.conf.timezone else "UTC"
    planned: list[Planned] = []
    refused: list[Refused] = []
    for name, entry in schedule.items():
        try:
            planned.append(_entry(app, app_ref, str(name), entry, tz))
        except _Refuse as exc:
            refused.append(Refused(str(name), str(exc)))
    return planned, refused


class _Refuse(Exception):
    pass


def _entry(app: Any, app_ref: str, name: str, entry: Any, tz: str) -> Planned:
    if not isinstance(entry, Mapping):
        raise _Refuse("an entry must be a mapping with 'task' and 'schedule'")
    task = entry.get("task")
    if not isinstance(task, str) or not task:
        raise _Refuse("it names no task")
    notes: list[str] = []
    trigger, trigger_args, text = _trigger(entry.get("schedule"))
    zone = tz
    options = dict(entry.get("options") or {})
    queue = options.pop("queue", None) or _task_queue(app, task)
    passed = {k: v for k, v in options.items() if k in OPTIONS}
    for key in sorted(set(options) - set(passed)):
        notes.append(f"option {key!r} is not carried over (Tickwork passes {', '.join(OPTIONS)})")
    if entry.get("relative"):
        notes.append("relative=True is not carried over: the interval counts from the job's start")
    target: dict[str, Any] = {"kind": "celery", "task": task, "app": app_ref}
    if queue:
        target["queue"] = str(queue)
    args = list(entry.get("args") or ())
    kwargs = dict(entry.get("kwargs") or {})
    if args:
        target["args"] = args
    if kwargs:
        target["kwargs"] = kwargs
    if passed:
        target["options"] = passed
    return Planned(
        entry=name,
        job_id=_job_id(name),
        target=target,
        trigger=trigger,
        trigger_args=trigger_args,
        timezone=zone,
        describe=f"{task}{f' on queue {queue}' if queue else ''}, {text}",
        notes=notes,
    )


def _trigger(value: Any) -> tuple[str, dict[str, Any], str]:
    from celery.schedules import crontab, schedule, solar

    if isinstance(value, solar):
        raise _Refuse(
            "solar schedules (a sun event at a place) have no Tickwork trigger; "
            "use a cron time for the place's season instead"
        )
    if isinstance(value, crontab):
        fields = [
            _field(value._orig_minute),
            _field(value._orig_hour),
            _field(value._orig_day_of_month),
            _field(value._orig_month_of_year),
            _field(value._orig_day_of_week),
        ]
        if fields[2] != "*" and fields[4] != "*":
            raise _Refuse(
                f"crontab({' '.join(fields)}) restricts both day fields: beat runs when both "
                "match, cron when either does; split it into two jobs or drop one day field"
            )
        expr = " ".join(fields)
        return expr, {}, f"cron {expr}"
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    elif type(value) is schedule:
        seconds = value.run_every.total_seconds()
    else:
        raise _Refuse(f"a schedule of type {type(value).__name__} has no Tickwork trigger")
    if seconds <= 0:
        raise _Refuse(f"an interval of {seconds:g} s is not positive")
    return "interval", {"seconds": seconds}, f"every {seconds:g} s"


def _field(value: Any) -> str:
    """A crontab field as beat was given it (a string, a number, or a set of numbers)."""
    if isinstance(value, set | frozenset | list | tuple):
        return ",".join(str(v) for v in sorted(value))
    return str(value).replace(" ", "")


def _task_queue(app: Any, task: str) -> str | None:
    """The queue beat would send ``task`` to without an option: the task's own
    (``@app.task(queue="dataset")``, seed 003's style), else the app's ``task_routes``."""
    with warnings.catch_warnings():
        # Celery 5.5+ warns that the queue task attribute goes away in 6.0 when it binds
        # such a task; it still routes by it, and so does this importer.
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        from celery.exceptions import CDeprecationWarning

        warnings.simplefilter("ignore", CDeprecationWarning)
        registered = app.tasks.get(task)
    queue = getattr(registered, "queue", None) if registered is not None else None
    if queue:
        return str(queue)
    try:
        routed = app.amqp.router.route({}, task, (), {})
    except Exception:  # a router of the user's that needs the task object: no queue
        return None
    name = getattr(routed.get("queue"), "name", None)
    return str(name) if name and name != app.conf.task_default_queue else None


def _job_id(name: str) -> str:
    if ID_PATTERN.match(name):
        return name
    cleaned = _ID_CHARS.sub("-", name).strip("-._:@") or "beat-entry"
    return cleaned[:190]
