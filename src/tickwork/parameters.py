"""Run-time parameters: the kwargs a job declares that a manual run may set.

A job lists them in ``parameters``, each ``{"name", "type": "string" | "integer" | "number" |
"boolean", "default"?, "required"?, "minimum"?, "maximum"?, "max_length"?, "choices"?,
"help"?}``. A manual run (``POST /api/jobs/{id}/run``, ``Tickwork.run_job``) may give values
for those names only, each checked against its declaration; positional ``args`` and the job's
secret kwargs can never be overridden. Pure functions: the service layer calls them once for
every face.

A manual run's kwargs are the job's kwargs, then the declared defaults, then the values
given; a required parameter without a default must be given. Scheduled runs use the job's
kwargs only.
"""

from __future__ import annotations

import json
import keyword
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from tickwork.errors import InvalidInput

TYPES = ("string", "integer", "number", "boolean")
MAX_PARAMETERS = 50
MAX_CHOICES = 100
MAX_HELP = 500
MAX_STRING = 64 * 1024  # a string parameter without max_length: the kwargs limit
MAX_DEPTH = 32  # nesting of any JSON value a job or a run stores
_KEYS = frozenset(
    {"name", "type", "default", "required", "minimum", "maximum", "max_length", "choices",
     "help"}
)  # fmt: skip


SURROGATE = re.compile("[\ud800-\udfff]")  # lone surrogates: not text any store can keep


def json_depth(value: Any, limit: int = MAX_DEPTH) -> int:
    """How deeply ``value`` nests lists and dicts (a scalar is 0), counted without recursion
    and stopping once past ``limit``."""
    return _walk(value, limit)[0]


def _walk(value: Any, limit: int) -> tuple[int, bool]:
    """(depth, holds a lone surrogate) of a JSON value, without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if SURROGATE.search(item):
                return deepest, True
            continue
        if isinstance(item, Mapping):
            children: Iterable[Any] = [*item.keys(), *item.values()]
        elif isinstance(item, list | tuple):
            children = item
        else:
            continue
        depth += 1
        if depth > deepest:
            deepest = depth
            if deepest > limit:
                return deepest, False
        stack.extend((child, depth) for child in children)
    return deepest, False


def check_json(field: str, value: Any, limit: int = MAX_DEPTH) -> None:
    """Refuse a JSON value nested deeper than ``limit`` or holding a lone surrogate."""
    depth, surrogate = _walk(value, limit)
    if depth > limit:
        raise InvalidInput(
            field,
            f"is nested more than {limit} levels deep",
            code="nested_too_deep",
            params={"max": limit},
        )
    if surrogate:
        raise InvalidInput(
            field, "holds a lone UTF-16 surrogate, which is not text", code="lone_surrogate"
        )


def _fits(type_: str, value: Any) -> bool:
    if type_ == "boolean":
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False
    if type_ == "integer":
        return isinstance(value, int)
    if type_ == "number":
        return isinstance(value, int | float) and math.isfinite(value)
    return isinstance(value, str)


def _bound(field: str, value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInput(
            field,
            f"must be a finite number, not {value!r}",
            code="expected_number",
            params={"value": repr(value)},
        )
    return value


def check_declarations(
    declared: Sequence[Mapping[str, Any]] | None, secret_keys: Iterable[str]
) -> list[dict[str, Any]]:
    """Validate a job's ``parameters``; the normalised list to store (keys that were not
    given are left out)."""
    if declared is None:
        return []
    if isinstance(declared, str | bytes | Mapping) or not isinstance(declared, Sequence):
        raise InvalidInput(
            "parameters", "must be a list of parameter declarations", code="parameters_not_list"
        )
    if len(declared) > MAX_PARAMETERS:
        raise InvalidInput(
            "parameters",
            f"{len(declared)} parameters; the limit is {MAX_PARAMETERS}",
            code="too_many_items",
            params={"count": len(declared), "max": MAX_PARAMETERS},
        )
    secrets = set(secret_keys)
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, item in enumerate(declared):
        where = f"parameters[{index}]"
        if not isinstance(item, Mapping):
            raise InvalidInput(
                where, "must be a mapping with name and type", code="parameter_shape"
            )
        unknown = sorted(set(map(str, item)) - _KEYS)
        if unknown:
            raise InvalidInput(
                f"{where}.{unknown[0]}",
                "unknown; see the parameter fields",
                code="unknown_parameter_field",
                params={"fields": sorted(_KEYS)},
            )
        name = item.get("name")
        if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
            raise InvalidInput(
                f"{where}.name",
                f"{name!r} is not a Python identifier",
                code="not_identifier",
                params={"value": str(name)},
            )
        if len(name) > 100:
            raise InvalidInput(
                f"{where}.name",
                "is longer than 100 characters",
                code="text_too_long",
                params={"length": len(name), "max": 100},
            )
        if name in seen:
            raise InvalidInput(
                f"{where}.name",
                f"{name!r} is declared twice",
                code="parameter_declared_twice",
                params={"name": name},
            )
        if name in secrets:
            raise InvalidInput(
                f"{where}.name",
                f"{name!r} is one of the job's secret_keys; secrets are never run-time parameters",
                code="parameter_is_secret",
                params={"name": name},
            )
        seen.add(name)
        type_ = item.get("type")
        if type_ not in TYPES:
            raise InvalidInput(
                f"{where}.type",
                f"{type_!r} is not one of {', '.join(TYPES)}",
                code="not_one_of",
                params={"value": str(type_), "choices": list(TYPES)},
            )
        entry: dict[str, Any] = {"name": name, "type": type_}
        required = item.get("required", False)
        if not isinstance(required, bool):
            raise InvalidInput(
                f"{where}.required", "must be true or false", code="expected_boolean"
            )
        if required:
            entry["required"] = True
        low = _bound(f"{where}.minimum", item.get("minimum"))
        high = _bound(f"{where}.maximum", item.get("maximum"))
        if (low is not None or high is not None) and type_ not in ("integer", "number"):
            raise InvalidInput(
                f"{where}.minimum",
                "only integer and number parameters have bounds",
                code="bounds_need_number",
            )
        if low is not None and high is not None and low > high:
            raise InvalidInput(
                f"{where}.maximum",
                "must not be smaller than minimum",
                code="not_below_field",
                params={"other": "minimum"},
            )
        if low is not None:
            entry["minimum"] = low
        if high is not None:
            entry["maximum"] = high
        max_length = item.get("max_length")
        if max_length is not None:
            if type_ != "string":
                raise InvalidInput(
                    f"{where}.max_length",
                    "only string parameters have a length",
                    code="length_needs_string",
                )
            if (
                isinstance(max_length, bool)
                or not isinstance(max_length, int)
                or not (0 <= max_length <= MAX_STRING)
            ):
                raise InvalidInput(
                    f"{where}.max_length",
                    f"must be a whole number 0-{MAX_STRING}",
                    code="expected_integer_in_range",
                    params={"min": 0, "max": MAX_STRING},
                )
            entry["max_length"] = max_length
        choices = item.get("choices")
        if choices is not None:
            if isinstance(choices, str | bytes) or not isinstance(choices, Sequence) or not choices:
                raise InvalidInput(
                    f"{where}.choices", "must be a non-empty list", code="expected_nonempty_list"
                )
            if len(choices) > MAX_CHOICES:
                raise InvalidInput(
                    f"{where}.choices",
                    f"at most {MAX_CHOICES} choices",
                    code="too_many_items",
                    params={"count": len(choices), "max": MAX_CHOICES},
                )
            entry["choices"] = list(choices)
            for choice in entry["choices"]:
                _check_value(f"{where}.choices", {**entry, "choices": None}, choice)
        help_text = item.get("help")
        if help_text is not None:
            if not isinstance(help_text, str) or len(help_text) > MAX_HELP:
                raise InvalidInput(
                    f"{where}.help",
                    f"must be text of at most {MAX_HELP} characters",
                    code="expected_short_text",
                    params={"max": MAX_HELP},
                )
            entry["help"] = help_text
        if "default" in item and item["default"] is not None:
            entry["default"] = _check_value(f"{where}.default", entry, item["default"])
        out.append(entry)
    return out


def _check_value(field: str, decl: Mapping[str, Any], value: Any) -> Any:
    type_ = decl["type"]
    if not _fits(type_, value):
        raise InvalidInput(
            field,
            f"must be a{'n' if type_[0] in 'ai' else ''} {type_}, not {value!r}",
            code="parameter_type",
            params={"kind": type_, "value": repr(value)},
        )
    if type_ in ("integer", "number"):
        low, high = decl.get("minimum"), decl.get("maximum")
        if low is not None and value < low:
            raise InvalidInput(
                field,
                f"{value!r} is below the minimum {low!r}",
                code="below_minimum",
                params={"value": value, "min": low},
            )
        if high is not None and value > high:
            raise InvalidInput(
                field,
                f"{value!r} is above the maximum {high!r}",
                code="above_maximum",
                params={"value": value, "max": high},
            )
    if type_ == "string":
        if SURROGATE.search(value):
            raise InvalidInput(
                field, "holds a lone UTF-16 surrogate, which is not text", code="lone_surrogate"
            )
        limit = decl.get("max_length", MAX_STRING)
        if len(value) > limit:
            raise InvalidInput(
                field,
                f"is {len(value)} characters long; the limit is {limit}",
                code="text_too_long",
                params={"length": len(value), "max": limit},
            )
    choices = decl.get("choices")
    if choices is not None and value not in choices:
        shown = ", ".join(json.dumps(c, ensure_ascii=False) for c in choices[:20])
        raise InvalidInput(
            field,
            f"{value!r} is not one of {shown}",
            code="not_one_of",
            params={"value": value, "choices": list(choices[:20])},
        )
    return value


def check_run_params(
    params: Mapping[str, Any] | None,
    declared: Sequence[Mapping[str, Any]],
    secret_keys: Iterable[str],
) -> dict[str, Any] | None:
    """The params to store with a manual run: ``{"kwargs": {...}}`` with the declared
    defaults and the given values, or None when there are none. Refuses positional args,
    secret kwargs, undeclared names, and values outside their declaration."""
    if params is not None and not isinstance(params, Mapping):
        raise InvalidInput("params", "must be a mapping with 'kwargs'", code="run_params_shape")
    given = dict(params or {})
    unknown = sorted(set(map(str, given)) - {"args", "kwargs"})
    if unknown:
        raise InvalidInput(
            f"params.{unknown[0]}", "unknown; a run takes kwargs only", code="run_params_shape"
        )
    args = given.get("args")
    if args not in (None, [], ()):
        raise InvalidInput(
            "params.args",
            "a run cannot replace the job's positional arguments; "
            "declare keyword parameters on the job instead",
            code="run_args_fixed",
        )
    kwargs = given.get("kwargs")
    if kwargs is None:
        kwargs = {}
    if not isinstance(kwargs, Mapping):
        raise InvalidInput("params.kwargs", "must be a mapping", code="expected_mapping")
    secrets = set(secret_keys)
    by_name = {d["name"]: d for d in declared}
    out: dict[str, Any] = {}
    for name, value in kwargs.items():
        field = f"params.kwargs.{name}"
        if name in secrets:
            raise InvalidInput(
                field, "is a secret of the job and cannot be set by a run", code="run_param_secret"
            )
        decl = by_name.get(name)
        if decl is None:
            declared_names = ", ".join(by_name) or "none"
            raise InvalidInput(
                field,
                f"is not a parameter this job declares (declared: {declared_names})",
                code="not_declared",
                params={"declared": list(by_name)},
            )
        out[name] = _check_value(field, decl, value)
    for name, decl in by_name.items():
        if name in out:
            continue
        if "default" in decl:
            out[name] = decl["default"]
        elif decl.get("required"):
            raise InvalidInput(
                f"params.kwargs.{name}", "is required for a manual run", code="required_for_run"
            )
    return {"kwargs": out} if out else None


def declared_of(target: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The parameters a stored job target declares ([] for none)."""
    value = target.get("parameters")
    return list(value) if isinstance(value, list) else []
