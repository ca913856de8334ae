"""Workflows in job files: a top-level ``workflows:`` list beside ``jobs:``, and a job's
``then:`` list::

    jobs:
      - {id: extract, target: app.etl:extract, cron: "0 2 * * *", then: [notify]}
    workflows:
      - id: nightly_etl
        cron: "0 2 * * *"          # optional (or interval / trigger); none: run by hand
        deadline_s: 3600
        steps:
          - id: extract
          - id: load
            after: [extract]
          - {id: alert, job: notify, after: [{step: load, on: failure}]}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tickwork.errors import InvalidInput
from tickwork.jobfiles import read_document
from tickwork.workflows.spec import WorkflowSpec

_OPTIONS = {"id", "name", "description", "steps", "timezone", "deadline_s", "paused", "enabled"}
_TRIGGERS = ("cron", "interval", "trigger")


@dataclass
class WorkflowParts:
    workflows: list[WorkflowSpec] = field(default_factory=list)
    # job id -> its then list (unchecked); every job of the file is here ([] without one)
    then: dict[str, Any] = field(default_factory=dict)


def read_workflow_parts(source: str) -> WorkflowParts:
    label = Path(source).name
    data = read_document(source)
    out = WorkflowParts()
    if not isinstance(data, Mapping):
        return out  # a bare list of jobs: no workflows
    for key in ("jobs", "tasks"):
        for entry in data.get(key) or ():
            if isinstance(entry, Mapping) and "id" in entry:
                out.then[str(entry["id"])] = entry.get("then", [])
    raw = data.get("workflows")
    if raw is None:
        return out
    if not isinstance(raw, list):
        raise InvalidInput(f"{label}: workflows", "expected a list of workflows")
    seen: set[str] = set()
    for index, entry in enumerate(raw):
        where = f"{label}: workflow #{index + 1}"
        if not isinstance(entry, Mapping) or "id" not in entry:
            raise InvalidInput(where, "expected a mapping with an id")
        where = f"{label}: workflow {entry['id']!r}"
        try:
            spec = _spec(entry)
        except InvalidInput as exc:
            raise InvalidInput(
                f"{where}: {exc.field}", exc.reason, code=exc.code, params=exc.params
            ) from None
        if spec.id in seen:
            raise InvalidInput(f"{where}: id", "is defined twice in this file")
        seen.add(spec.id)
        out.workflows.append(spec)
    return out


def _spec(entry: Mapping[str, Any]) -> WorkflowSpec:
    triggers = [k for k in _TRIGGERS if k in entry]
    if len(triggers) > 1:
        raise InvalidInput("trigger", "give at most one of cron, interval, trigger")
    for key in entry:
        if key not in _OPTIONS and key not in _TRIGGERS:
            raise InvalidInput(str(key), "unknown workflow option")
    if "steps" not in entry:
        raise InvalidInput("steps", "missing (a list of steps)")
    spec = WorkflowSpec(
        id=str(entry["id"]),
        steps=entry["steps"],
        name=entry.get("name"),
        description=entry.get("description", ""),
        timezone=entry.get("timezone"),
        deadline_s=entry.get("deadline_s"),
        paused=bool(entry.get("paused", False)) or not bool(entry.get("enabled", True)),
    )
    if triggers:
        spec.trigger, spec.trigger_args = split_trigger(triggers[0], entry[triggers[0]])
    return spec


def split_trigger(kind: str, value: Any) -> tuple[str | dict[str, Any], dict[str, Any]]:
    """A trigger as a file or a request gives it (``cron: "0 2 * * *"``, ``interval:
    {minutes: 30}``, ``trigger: {kind: cron, hour: 2}`` or a stored spec with ``tz``) as
    ``make_trigger``'s trigger and keywords."""
    if kind == "cron":
        if not isinstance(value, str):
            raise InvalidInput("cron", "must be a cron expression string", code="expected_text")
        return value, {}
    if kind == "interval":
        if not isinstance(value, Mapping):
            raise InvalidInput(
                "interval", "must be a mapping such as {minutes: 30}", code="expected_mapping"
            )
        return "interval", dict(value)
    if isinstance(value, str):
        return value, {}  # a cron expression
    if not isinstance(value, Mapping) or "kind" not in value:
        raise InvalidInput(
            "trigger",
            "must be a cron expression or a mapping with a kind (cron, interval)",
            code="expected_mapping",
        )
    if "tz" in value:
        return dict(value), {}  # a stored spec, taken whole
    args = dict(value)
    return str(args.pop("kind")), args
