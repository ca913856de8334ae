"""Validation of a workflow definition, once, for every face (Python API, job files, REST
API, CLI): ``WorkflowSpec`` is what a face asks for, ``build_workflow`` the record to store or
InvalidInput naming the field (a graph error names the edge)."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tickwork.errors import InvalidInput
from tickwork.jobspec import ID_PATTERN, make_trigger
from tickwork.jobspec import _text as text_field
from tickwork.store.workflows_repo import WorkflowRecord
from tickwork.triggers.base import Trigger
from tickwork.workflows.graph import find_cycle, parse_steps

MAX_DEADLINE_S = 30 * 86_400
OWNERS = ("python", "config", "api", "cli")


@dataclass(slots=True)
class WorkflowSpec:
    id: str
    steps: Sequence[Any]
    name: str | None = None
    description: str = ""
    trigger: str | Trigger | Mapping[str, Any] | None = None  # None: by hand / API only
    trigger_args: dict[str, Any] = field(default_factory=dict)
    timezone: str | None = None
    deadline_s: float | None = None
    paused: bool = False
    owner: str = "python"
    owner_ref: str | None = None


def build_workflow(
    spec: WorkflowSpec, *, now_us: int, default_tz: str, by: str | None
) -> WorkflowRecord:
    if not isinstance(spec.id, str) or not ID_PATTERN.match(spec.id):
        raise InvalidInput(
            "id",
            f"{spec.id!r} is not a valid workflow id: 1-191 characters, letters, digits and "
            "_ . : @ - (not starting with punctuation)",
            code="workflow_id_rule",
            params={"value": str(spec.id), "max": 191},
        )
    steps = parse_steps(spec.steps)
    name = text_field("name", spec.name if spec.name is not None else spec.id, 200)
    description = text_field("description", spec.description or "", 10_000)
    deadline = spec.deadline_s
    if deadline is not None:
        if isinstance(deadline, bool) or not isinstance(deadline, int | float):
            raise InvalidInput(
                "deadline_s",
                f"must be a number of seconds, not {deadline!r}",
                code="expected_number",
                params={"value": repr(deadline)},
            )
        if not 0 < deadline <= MAX_DEADLINE_S:
            raise InvalidInput(
                "deadline_s",
                f"must be more than 0 and at most {MAX_DEADLINE_S} seconds (30 days)",
                code="out_of_range",
                params={"value": deadline, "min": 0, "max": MAX_DEADLINE_S},
            )
        deadline = float(deadline)
    if spec.owner not in OWNERS:
        raise InvalidInput(
            "owner",
            f"{spec.owner!r} is not one of {', '.join(OWNERS)}",
            code="not_one_of",
            params={"value": str(spec.owner), "choices": list(OWNERS)},
        )
    tz = spec.timezone or default_tz
    trigger_spec: dict[str, Any] | None = None
    next_fire: int | None = None
    if spec.trigger is not None:
        trigger = make_trigger(spec.trigger, spec.trigger_args, tz=tz, seed=spec.id, now_us=now_us)
        trigger_spec = trigger.to_spec()
        tz = str(trigger_spec.get("tz", tz))
        next_fire = None if spec.paused else trigger.next_fire_us(now_us)
    elif spec.trigger_args:
        raise InvalidInput(
            "trigger",
            "trigger keywords given without a trigger kind",
            code="keywords_without_kind",
        )
    return WorkflowRecord(
        id=spec.id,
        name=name,
        description=description,
        steps=tuple(s.to_json() for s in steps),
        trigger=trigger_spec,
        timezone=tz,
        deadline_s=deadline,
        paused=bool(spec.paused),
        next_fire_at=next_fire,
        owner=spec.owner,
        owner_ref=spec.owner_ref,
        created_at=now_us,
        created_by=by,
        updated_at=now_us,
        updated_by=by,
    )


def check_then(job_id: str, next_ids: object, others: Mapping[str, Sequence[str]]) -> list[str]:
    """A job's ``then`` list: job ids, no repeats, not itself, and no cycle through the other
    jobs' lists (xxl-job ran a 2 -> 3 -> 2 loop for thousands of log pages). Returns it."""
    if not isinstance(next_ids, Sequence) or isinstance(next_ids, (str, bytes)):
        raise InvalidInput("then", "must be a list of job ids", code="expected_list")
    out: list[str] = []
    for item in next_ids:
        if not isinstance(item, str) or not ID_PATTERN.match(item):
            raise InvalidInput(
                "then",
                f"{item!r} is not a job id",
                code="job_id_rule",
                params={"value": str(item), "max": 191},
            )
        edge = f"{job_id} -> {item}"
        if item == job_id:
            raise InvalidInput(
                "then",
                f"edge {edge} is a self-edge (a job cannot follow itself)",
                code="workflow_self_edge",
                params={"edge": edge},
            )
        if item in out:
            raise InvalidInput(
                "then", f"edge {edge} is given twice", code="duplicate_edge", params={"edge": edge}
            )
        out.append(item)
    # then-edges point downstream: job -> next; find_cycle takes node -> upstream nodes.
    upstream: dict[str, list[str]] = {}
    graph = {**others, job_id: out}
    for parent, children in graph.items():
        upstream.setdefault(parent, [])
        for child in children:
            upstream.setdefault(child, []).append(parent)
    cycle = find_cycle(upstream)
    if cycle is not None:
        path = " -> ".join(cycle)
        closing = next(
            (f"{job_id} -> {b}" for a, b in itertools.pairwise(cycle) if a == job_id),
            f"{cycle[-2]} -> {cycle[-1]}",
        )
        raise InvalidInput(
            "then",
            f"edge {closing} closes a cycle ({path})",
            code="workflow_cycle",
            params={"edge": closing, "cycle": path},
        )
    return out
