"""The target contract: what every job kind (python, shell, http, sql, script; later celery and
the built-ins) provides, in one place.

A kind is a :class:`Kind`: it **validates** a spec (pure: refuses bad input with
``InvalidInput("target.<field>", ...)`` before anything is written, and returns the normalised
spec to store in the job's ``target`` column, its name in ``target_kind``), **describes** it in
English and Chinese for lists, names the **references** it needs (connections, a script), and
turns a stored spec into an :class:`Execution` that runs in an executor's worker and returns
the run's result (or raises :class:`TargetFailed`). Between the two, the scheduler node's
dispatcher **prepares** a run (``tickwork.targets.prepare``): it opens the connections' secrets
and fetches the script's code, so an execution never touches the store.

The Python kind (``"pkg.mod:func"``) keeps its own fast path in the executors; its
:class:`Kind` serves validation and description.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from tickwork.errors import InvalidInput


class Output(Protocol):
    """Where an execution writes what its run prints (the run's log)."""

    def write(self, text: str, /) -> None: ...


class TargetFailed(Exception):
    """A run ended unsuccessfully with a result worth keeping (an exit code, an HTTP status):
    the run is ``failed`` with ``message`` as its error and ``result`` as its result."""

    def __init__(self, message: str, result: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.result = result


class Execution(ABC):
    """One run of a non-Python target, inside an executor's worker (a thread, or a worker
    process of the process executor). Never in the API server."""

    @abstractmethod
    def run(self, out: Output) -> Any:
        """Do the work; return the result (JSON-able) or raise TargetFailed."""

    def stop(self) -> None:  # noqa: B027 - optional: most executions end on their own timeout
        """Make :meth:`run` end soon (a timeout or a cancel). Called from another thread or a
        signal handler: never blocks."""


@dataclass(frozen=True, slots=True)
class Text:
    """A text in both languages the faces speak."""

    en: str
    zh: str


@dataclass(frozen=True, slots=True)
class References:
    """What a spec refers to by name, checked when a job is saved and resolved at run time."""

    connections: tuple[str, ...] = ()
    script: str | None = None
    script_version: int | None = None


@dataclass(slots=True)
class Prepared:
    """A run's spec as the worker gets it (connections and code filled in), and the secret
    texts to mask in everything the run leaves behind."""

    spec: dict[str, Any]
    secrets: list[str] = field(default_factory=list)


class Kind(ABC):
    """One job kind. Instances are stateless singletons (``tickwork.targets.kinds``)."""

    name: ClassVar[str]
    label: ClassVar[Text]
    # Runs commands or code an administrator wrote: admin-only, and a setting turns it off.
    runs_code: ClassVar[bool] = False
    switch: ClassVar[str | None] = None  # the environment variable that turns it off
    # Where a manual run's declared parameters go ("env", "params"), None: nowhere.
    parameter_field: ClassVar[str | None] = None

    @abstractmethod
    def validate(self, spec: Mapping[str, Any]) -> dict[str, Any]:
        """The normalised spec to store (without ``kind``); InvalidInput naming the field."""

    @abstractmethod
    def describe(self, spec: Mapping[str, Any]) -> Text:
        """One line for lists ("GET https://example.com/health")."""

    def references(self, spec: Mapping[str, Any]) -> References:
        return References()

    @abstractmethod
    def execution(self, spec: Mapping[str, Any], timeout_s: float | None) -> Execution:
        """The execution of a prepared spec (in the worker)."""


# -- helpers every kind uses to refuse bad input -------------------------------------------------
def where(name: str) -> str:
    return f"target.{name}"


def refuse(field: str, reason: str, code: str = "invalid_value", /, **params: Any) -> InvalidInput:
    """InvalidInput naming ``target.<field>``, with its code and params."""
    return InvalidInput(where(field), reason, code=code, params=params)


def only_keys(spec: Mapping[str, Any], known: Sequence[str], kind: str) -> None:
    for key in spec:
        if key not in known and key != "kind":
            raise refuse(
                str(key),
                f"is not a field of a {kind} target (fields: {', '.join(known)})",
                "unknown_field",
                kind=kind,
            )


def text_field(
    spec: Mapping[str, Any],
    name: str,
    *,
    required: bool = False,
    limit: int = 1000,
    default: str | None = None,
) -> str | None:
    value = spec.get(name, default)
    if value is None:
        if required:
            raise refuse(name, "is required", "missing")
        return None
    if not isinstance(value, str):
        raise refuse(name, f"must be text, not {type(value).__name__}", "text_type")
    if required and not value.strip():
        raise refuse(name, "must not be empty", "empty")
    if len(value) > limit:
        raise refuse(
            name, f"is {len(value)} characters long; the limit is {limit}", "too_long", max=limit
        )
    if "\x00" in value:
        raise refuse(name, "contains a NUL character", "control_chars")
    return value


def bool_field(spec: Mapping[str, Any], name: str, default: bool) -> bool:
    value = spec.get(name, default)
    if not isinstance(value, bool):
        raise refuse(name, f"must be true or false, not {value!r}", "bool_type")
    return value


def number_field(
    spec: Mapping[str, Any], name: str, *, low: float, high: float, default: float | None
) -> float | None:
    value = spec.get(name, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise refuse(name, f"must be a number, not {value!r}", "number_type")
    if not low <= value <= high:
        raise refuse(
            name, f"{value!r} is out of range {low:g}-{high:g}", "out_of_range", min=low, max=high
        )
    return float(value)


def string_map(
    spec: Mapping[str, Any], name: str, *, key_limit: int = 200, value_limit: int = 8192
) -> dict[str, str]:
    """A mapping of text to text (headers, environment variables, query parameters)."""
    value = spec.get(name) or {}
    if not isinstance(value, Mapping):
        raise refuse(name, "must be a mapping of names to text", "mapping_type")
    if len(value) > 100:
        raise refuse(name, f"has {len(value)} entries; the limit is 100", "too_many", max=100)
    out: dict[str, str] = {}
    for key, item in value.items():
        if not isinstance(key, str) or not key or len(key) > key_limit:
            raise refuse(name, f"{key!r} is not a valid name", "bad_name", name=str(key))
        if isinstance(item, bool) or not isinstance(item, str | int | float):
            raise refuse(f"{name}.{key}", "must be text or a number", "text_type")
        text = str(item)
        if len(text) > value_limit or "\x00" in text:
            raise refuse(
                f"{name}.{key}", f"must be at most {value_limit} characters without NUL",
                "too_long", max=value_limit,
            )  # fmt: skip
        out[key] = text
    return out


def connection_name(spec: Mapping[str, Any], name: str = "connection") -> str | None:
    from tickwork.connections.kinds import check_name

    value = spec.get(name)
    return None if value is None else check_name(value, where(name))
