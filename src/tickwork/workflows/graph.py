"""A workflow's graph, pure: its steps, the edges with their conditions, validation at save
(duplicate steps, unknown steps, self-edges and cycles are refused naming the edge), and the
rules that decide, from the states of a step's upstream steps, whether it runs, waits or is
skipped. No I/O: the store and the progression module use it."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tickwork.errors import InvalidInput

CONDITIONS = ("success", "failure", "always")
STEP_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,99}\Z")
MAX_STEPS = 500

# States of a step in a workflow run.
WAITING = "waiting"  # its upstream steps have not all finished
RUNNING = "running"  # its run is recorded (queued, claimed or running)
SUCCEEDED = "succeeded"
SKIPPED = "skipped"  # never ran: a condition on an incoming edge can no longer hold
# A run that ended any other way: its status (failed, timed_out, cancelled, lost, missed).
FAILED_STATES = frozenset({"failed", "timed_out", "cancelled", "lost", "missed"})
FINAL_STATES = FAILED_STATES | {SUCCEEDED, SKIPPED}


@dataclass(frozen=True, slots=True)
class Edge:
    upstream: str
    on: str = "success"

    def to_json(self) -> dict[str, str]:
        return {"step": self.upstream, "on": self.on}


@dataclass(frozen=True, slots=True)
class Step:
    id: str
    job: str
    after: tuple[Edge, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "job": self.job, "after": [e.to_json() for e in self.after]}


def parse_steps(raw: object) -> list[Step]:
    """Steps as a face gives them -> validated steps, in the given order.

    A step is ``{"id": "load", "job": "load_job", "after": ["extract", {"step": "check",
    "on": "failure"}]}``; ``job`` defaults to the id; an ``after`` entry is a step id (on
    success) or a mapping with ``step`` and ``on``. Refused with InvalidInput naming the step
    and the edge."""
    if not isinstance(raw, Sequence) or isinstance(raw, (str, bytes)) or not raw:
        raise InvalidInput("steps", "must be a non-empty list of steps", code="empty_steps")
    if len(raw) > MAX_STEPS:
        raise InvalidInput(
            "steps",
            f"at most {MAX_STEPS} steps",
            code="too_many_steps",
            params={"max": MAX_STEPS},
        )
    steps: list[Step] = []
    seen: set[str] = set()
    for index, item in enumerate(raw):
        where = f"steps[{index}]"
        entry = {"id": item} if isinstance(item, str) else item
        if not isinstance(entry, Mapping):
            raise InvalidInput(where, "expected a mapping with an id", code="expected_mapping")
        unknown = set(entry) - {"id", "job", "after"}
        if unknown:
            key = sorted(map(str, unknown))[0]
            raise InvalidInput(
                f"{where}.{key}",
                "unknown option (a step has id, job, after)",
                code="unknown_option",
                params={"name": key},
            )
        step_id = entry.get("id", entry.get("job"))
        if not isinstance(step_id, str) or not STEP_PATTERN.match(step_id):
            raise InvalidInput(
                f"{where}.id",
                "must be 1-100 letters, digits or _.:@- (starting with a letter or digit)",
                code="bad_step_id",
            )
        if step_id in seen:
            raise InvalidInput(
                f"steps.{step_id}",
                f"step {step_id!r} is defined twice",
                code="duplicate_step",
                params={"step": step_id},
            )
        seen.add(step_id)
        job = entry.get("job", step_id)
        if not isinstance(job, str) or not job:
            raise InvalidInput(f"steps.{step_id}.job", "must be a job id", code="bad_step_job")
        steps.append(Step(step_id, job, _edges(step_id, entry.get("after", ()))))
    check_graph(steps)
    return steps


def _edges(step_id: str, raw: object) -> tuple[Edge, ...]:
    field = f"steps.{step_id}.after"
    if raw is None:
        return ()
    if isinstance(raw, (str, Mapping)):
        raw = [raw]
    if not isinstance(raw, Sequence):
        raise InvalidInput(field, "must be a list of step ids", code="bad_after")
    edges: list[Edge] = []
    for item in raw:
        if isinstance(item, str):
            edge = Edge(item)
        elif isinstance(item, Mapping) and isinstance(item.get("step"), str):
            # YAML 1.1 (PyYAML) reads an unquoted ``on:`` key as the boolean true.
            item = {("on" if k is True else k): v for k, v in item.items()}  # noqa: PLW2901
            unknown = set(item) - {"step", "on"}
            if unknown:
                raise InvalidInput(
                    field,
                    f"unknown option {sorted(map(str, unknown))[0]!r} (an edge has step, on)",
                    code="unknown_option",
                    params={"name": sorted(map(str, unknown))[0]},
                )
            on = item.get("on", "success")
            if on not in CONDITIONS:
                raise InvalidInput(
                    f"{field}.on",
                    f"{on!r} is not one of {', '.join(CONDITIONS)}",
                    code="not_one_of",
                    params={"value": str(on), "choices": list(CONDITIONS)},
                )
            edge = Edge(str(item["step"]), str(on))
        else:
            raise InvalidInput(field, "each entry is a step id or {step, on}", code="bad_after")
        if any(e.upstream == edge.upstream for e in edges):
            raise InvalidInput(
                field,
                f"edge {edge.upstream} -> {step_id} is given twice",
                code="duplicate_edge",
                params={"edge": f"{edge.upstream} -> {step_id}"},
            )
        edges.append(edge)
    return tuple(edges)


def check_graph(steps: Sequence[Step]) -> None:
    """Refuse self-edges, edges from unknown steps and cycles, naming the edge."""
    ids = {s.id for s in steps}
    for step in steps:
        for edge in step.after:
            name = f"{edge.upstream} -> {step.id}"
            if edge.upstream == step.id:
                raise InvalidInput(
                    f"steps.{step.id}.after",
                    f"edge {name} is a self-edge (a step cannot wait for itself)",
                    code="workflow_self_edge",
                    params={"edge": name},
                )
            if edge.upstream not in ids:
                raise InvalidInput(
                    f"steps.{step.id}.after",
                    f"edge {name}: there is no step {edge.upstream!r}",
                    code="workflow_unknown_step",
                    params={"edge": name, "step": edge.upstream},
                )
    cycle = find_cycle({s.id: [e.upstream for e in s.after] for s in steps})
    if cycle is not None:
        path = " -> ".join(cycle)
        closing = f"{cycle[-2]} -> {cycle[-1]}"
        raise InvalidInput(
            f"steps.{cycle[-1]}.after",
            f"edge {closing} closes a cycle ({path})",
            code="workflow_cycle",
            params={"edge": closing, "cycle": path},
        )


def find_cycle(upstream_of: Mapping[str, Iterable[str]]) -> list[str] | None:
    """A cycle of the graph given as node -> its upstream nodes, as a path in the direction
    of the edges whose first and last node are the same (None: acyclic)."""
    downstream: dict[str, list[str]] = {n: [] for n in upstream_of}
    for node in sorted(upstream_of):
        for up in upstream_of[node]:
            downstream.setdefault(up, []).append(node)
    colour: dict[str, int] = {}  # 1: on the path, 2: done
    for start in sorted(downstream):
        if colour.get(start):
            continue
        path = [start]
        colour[start] = 1
        stack = [iter(downstream[start])]
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                colour[path.pop()] = 2
                stack.pop()
                continue
            state = colour.get(nxt, 0)
            if state == 1:
                return [*path[path.index(nxt) :], nxt]
            if state == 0:
                colour[nxt] = 1
                path.append(nxt)
                stack.append(iter(downstream.get(nxt, ())))
    return None


def steps_from_json(raw: Sequence[Mapping[str, Any]]) -> list[Step]:
    """Stored (already validated) steps."""
    return [
        Step(
            str(s["id"]),
            str(s["job"]),
            tuple(Edge(str(e["step"]), str(e.get("on", "success"))) for e in s.get("after", ())),
        )
        for s in raw
    ]


def holds(on: str, upstream_state: str) -> bool | None:
    """Whether an edge's condition holds for an upstream step in this state; None while the
    upstream step has not finished."""
    if upstream_state not in FINAL_STATES:
        return None
    if on == "always":
        return True
    if on == "success":
        return upstream_state == SUCCEEDED
    return upstream_state in FAILED_STATES  # failure: a skipped step did not fail


def decide(step: Step, states: Mapping[str, str]) -> tuple[str, str | None]:
    """What a waiting step does now: ("run", None), ("wait", None) or ("skip", reason). A step
    is skipped as soon as one condition can no longer hold, without waiting for the rest."""
    pending = False
    for edge in step.after:
        state = states[edge.upstream]
        verdict = holds(edge.on, state)
        if verdict is None:
            pending = True
        elif not verdict:
            word = {SUCCEEDED: "succeeded", SKIPPED: "skipped"}.get(state, "failed")
            return "skip", f"upstream {word}: {edge.upstream}"
    return ("wait", None) if pending else ("run", None)


def descendants(steps: Sequence[Step], roots: Iterable[str]) -> set[str]:
    """The steps downstream of ``roots`` (transitively), roots included."""
    below: dict[str, list[str]] = {s.id: [] for s in steps}
    for s in steps:
        for e in s.after:
            below[e.upstream].append(s.id)
    out: set[str] = set()
    todo = list(roots)
    while todo:
        n = todo.pop()
        if n not in out:
            out.add(n)
            todo.extend(below.get(n, ()))
    return out


def topological(steps: Sequence[Step]) -> list[Step]:
    """The steps, each after all its upstream steps (the graph is acyclic: checked at save)."""
    by_id = {s.id: s for s in steps}
    out: list[Step] = []
    done: set[str] = set()

    def visit(step: Step) -> None:
        if step.id in done:
            return
        done.add(step.id)
        for e in step.after:
            visit(by_id[e.upstream])
        out.append(step)

    for s in steps:
        visit(s)
    return out
