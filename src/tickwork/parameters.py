"""Run-time parameters: the kwargs a job declares that a manual run may set.

A job lists them in ``parameters``, each ``{"name", "type": "string" | "integer" | "number" |
"boolean", "default"?, "required"?, "minimum"?, "maximum"?, "max_length"?, "choices"?,
"help"?}``. A manual run (``POST /api/jobs/{id}/run``, ``Tickwork.run_job``) may give values
for those names only, each checked against its declaration; positional ``args`` and the job's
secret kwargs can never be overridden. Pure functions: the service layer calls them once for
every face.

A template's parameter schema (templates/schema.py) is checked by the same
``check_parameter_list``; ``DeclRules`` says what differs between the two.

A manual run's kwargs are the job's kwargs, then the declared defaults, then the values
given; a required parameter without a default must be given. Scheduled runs use the job's
kwargs only.
"""

from __future__ import annotations

import json
import keyword
import math
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tickwork.errors import InvalidInput

TYPES = ("string", "integer", "number", "boolean")
MAX_PARAMETERS = 50
MAX_CHOICES = 100
MAX_HELP = 500
MAX_STRING = 64 * 1024  # a string parameter without max_length: the kwargs limit
MAX_DEPTH = 32  # nesting of any JSON value a job or a run stores


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


def _bound(field: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInput(
            field,
            f"must be a finite number, not {value!r}",
            code="expected_number",
            params={"value": repr(value)},
        )
    return value


@dataclass(frozen=True)
class DeclRules:
    """What differs between a job's run-time ``parameters`` and a template's schema; the rest
    of a declaration's rules are one (``check_parameter_list``)."""

    types: tuple[str, ...]
    fields: tuple[str, ...]  # the keys a declaration may have, in the order they are stored
    name_max: int
    texts: tuple[tuple[str, int], ...]  # free-text fields and their length limit
    check_text: Callable[[str, Any, int], Any]
    check_value: Callable[[str, Mapping[str, Any], Any], Any]
    store_false: bool  # keep boolean flags that are false (a template's stored shape)


def check_parameter_list(
    declared: Any, rules: DeclRules, reserved: Collection[str] = ()
) -> list[dict[str, Any]]:
    """Validate a list of parameter declarations under ``rules``; the normalised list to
    store. ``reserved`` names (a job's secret_keys) cannot be parameters."""
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
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, item in enumerate(declared):
        where = f"parameters[{index}]"
        if not isinstance(item, Mapping):
            raise InvalidInput(
                where, "must be a mapping with name and type", code="parameter_shape"
            )
        entry = _check_one(where, item, rules, seen, reserved)
        seen.add(entry["name"])
        out.append({key: entry[key] for key in rules.fields if key in entry})
    return out


def _check_one(
    where: str,
    item: Mapping[str, Any],
    rules: DeclRules,
    seen: Collection[str],
    reserved: Collection[str],
) -> dict[str, Any]:
    unknown = sorted(set(map(str, item)) - set(rules.fields))
    if unknown:
        raise InvalidInput(
            f"{where}.{unknown[0]}",
            "unknown; see the parameter fields",
            code="unknown_parameter_field",
            params={"fields": sorted(rules.fields)},
        )
    name = _check_name(f"{where}.name", item.get("name"), rules.name_max)
    if name in seen:
        raise InvalidInput(
            f"{where}.name",
            f"{name!r} is declared twice",
            code="parameter_declared_twice",
            params={"name": name},
        )
    if name in reserved:
        raise InvalidInput(
            f"{where}.name",
            f"{name!r} is one of the job's secret_keys; secrets are never run-time parameters",
            code="parameter_is_secret",
            params={"name": name},
        )
    type_ = item.get("type")
    if type_ not in rules.types:
        raise InvalidInput(
            f"{where}.type",
            f"{type_!r} is not one of {', '.join(rules.types)}",
            code="not_one_of",
            params={"value": str(type_), "choices": list(rules.types)},
        )
    entry: dict[str, Any] = {"name": name, "type": type_}
    for flag in ("required", "secret"):
        if flag not in rules.fields:
            continue
        value = item.get(flag, False)
        if not isinstance(value, bool):
            raise InvalidInput(f"{where}.{flag}", "must be true or false", code="expected_boolean")
        if value or rules.store_false:
            entry[flag] = value
    secret = entry.get("secret", False)
    if secret and type_ != "string":
        raise InvalidInput(
            f"{where}.secret", "only string parameters can be secret", code="secret_needs_string"
        )
    for key, limit in rules.texts:
        if item.get(key) is not None:
            entry[key] = rules.check_text(f"{where}.{key}", item[key], limit)
            check_json(f"{where}.{key}", entry[key])  # a lone surrogate: the store can't keep it
    _check_limits(where, item, entry)
    choices = item.get("choices")
    if choices is not None:
        if secret:
            raise InvalidInput(
                f"{where}.choices",
                "a secret parameter has no choices (they would be stored in the template)",
                code="secret_choices",
            )
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
        for choice in choices:
            rules.check_value(f"{where}.choices", entry, choice)
        entry["choices"] = list(choices)
    if item.get("default") is not None:
        if secret:
            raise InvalidInput(
                f"{where}.default",
                "a secret parameter has no default (it would be stored in the template)",
                code="secret_default",
            )
        entry["default"] = rules.check_value(f"{where}.default", entry, item["default"])
    return entry


def _check_name(field: str, name: Any, limit: int) -> str:
    if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
        raise InvalidInput(
            field,
            f"{name!r} is not a Python identifier",
            code="not_identifier",
            params={"value": str(name)[:100]},
        )
    if len(name) > limit:
        raise InvalidInput(
            field,
            f"is longer than {limit} characters",
            code="text_too_long",
            params={"length": len(name), "max": limit},
        )
    return name


def _check_limits(where: str, item: Mapping[str, Any], entry: dict[str, Any]) -> None:
    """minimum/maximum (numbers only, in order) and max_length (strings only, 0-MAX_STRING)
    into ``entry``."""
    type_ = entry["type"]
    for key in ("minimum", "maximum"):
        if item.get(key) is None:
            continue
        if type_ not in ("integer", "number"):
            raise InvalidInput(
                f"{where}.{key}",
                "only integer and number parameters have bounds",
                code="bounds_need_number",
            )
        entry[key] = _bound(f"{where}.{key}", item[key])
    if "minimum" in entry and "maximum" in entry and entry["minimum"] > entry["maximum"]:
        raise InvalidInput(
            f"{where}.maximum",
            "must not be smaller than minimum",
            code="not_below_field",
            params={"other": "minimum"},
        )
    max_length = item.get("max_length")
    if max_length is None:
        return
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


def _plain_text(field: str, value: Any, limit: int) -> str:
    if not isinstance(value, str) or len(value) > limit:
        raise InvalidInput(
            field,
            f"must be text of at most {limit} characters",
            code="expected_short_text",
            params={"max": limit},
        )
    return value


def check_declarations(
    declared: Sequence[Mapping[str, Any]] | None, secret_keys: Iterable[str]
) -> list[dict[str, Any]]:
    """Validate a job's ``parameters``; the normalised list to store (keys that were not
    given are left out)."""
    return check_parameter_list(declared, JOB_RULES, frozenset(secret_keys))


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


JOB_RULES = DeclRules(
    types=TYPES,
    fields=("name", "type", "required", "minimum", "maximum", "max_length", "choices", "help",
            "default"),
    name_max=100,
    texts=(("help", MAX_HELP),),
    check_text=_plain_text,
    check_value=_check_value,
    store_false=False,
)  # fmt: skip


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
