"""A template's parameter schema, and the values a job made from it gives.

Each parameter is ``{"name", "type": "string" | "integer" | "number" | "boolean" |
"connection", "default"?, "required"?, "secret"?, "help"?: {"en", "zh-CN"}, "label"?: {"en",
"zh-CN"}, "choices"?, "minimum"?, "maximum"?, "max_length"?}``. A ``connection`` is the name
of a named connection (the console offers a list). Pure: errors name the field
(``parameters[2].type``, ``params.keep``) and nothing is written before they pass.
"""

from __future__ import annotations

import keyword
from collections.abc import Mapping, Sequence
from typing import Any

from tickwork.errors import InvalidInput
from tickwork.parameters import MAX_CHOICES, MAX_HELP, MAX_PARAMETERS, _check_value

TYPES = ("string", "integer", "number", "boolean", "connection")
LANGS = ("en", "zh-CN")
_KEYS = frozenset(
    {"name", "type", "default", "required", "secret", "help", "label", "choices", "minimum",
     "maximum", "max_length"}
)  # fmt: skip


def _texts(field: str, value: Any, limit: int = MAX_HELP) -> dict[str, str]:
    """``{"en": ..., "zh-CN": ...}`` (a plain string counts for both)."""
    if isinstance(value, str):
        value = {"en": value, "zh-CN": value}
    if not isinstance(value, Mapping) or set(value) - set(LANGS) or "en" not in value:
        raise InvalidInput(
            field,
            'must be {"en": "...", "zh-CN": "..."} (English required)',
            code="bilingual_text",
        )
    out = {}
    for lang in LANGS:
        text = value.get(lang, value["en"])
        if not isinstance(text, str) or len(text) > limit:
            raise InvalidInput(
                f"{field}.{lang}",
                f"must be text of at most {limit} characters",
                code="expected_short_text",
                params={"max": limit},
            )
        out[lang] = text
    return out


def check_schema(declared: Any) -> list[dict[str, Any]]:
    """The normalised parameter list of a template; InvalidInput naming the field."""
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
        unknown = sorted(set(map(str, item)) - _KEYS)
        if unknown:
            raise InvalidInput(
                f"{where}.{unknown[0]}",
                "unknown; see the parameter fields",
                code="unknown_parameter_field",
                params={"fields": sorted(_KEYS)},
            )
        name = item.get("name")
        if (
            not isinstance(name, str)
            or not name.isidentifier()
            or keyword.iskeyword(name)
            or len(name) > 63
        ):
            raise InvalidInput(
                f"{where}.name",
                f"{name!r} is not a name (letters, digits and _, at most 63)",
                code="not_identifier",
                params={"value": str(name)[:100]},
            )
        if name in seen:
            raise InvalidInput(
                f"{where}.name",
                f"{name!r} is declared twice",
                code="parameter_declared_twice",
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
        for flag in ("required", "secret"):
            value = item.get(flag, False)
            if not isinstance(value, bool):
                raise InvalidInput(
                    f"{where}.{flag}", "must be true or false", code="expected_boolean"
                )
            entry[flag] = value
        if entry["secret"] and type_ != "string":
            raise InvalidInput(
                f"{where}.secret",
                "only string parameters can be secret",
                code="secret_needs_string",
            )
        for key in ("label", "help"):
            if item.get(key) is not None:
                entry[key] = _texts(
                    f"{where}.{key}", item[key], 100 if key == "label" else MAX_HELP
                )
        for key in ("minimum", "maximum"):
            value = item.get(key)
            if value is None:
                continue
            if type_ not in ("integer", "number"):
                raise InvalidInput(
                    f"{where}.{key}",
                    "only integer and number parameters have bounds",
                    code="bounds_need_number",
                )
            _check_value(f"{where}.{key}", {"type": "number"}, value)
            entry[key] = value
        if "minimum" in entry and "maximum" in entry and entry["minimum"] > entry["maximum"]:
            raise InvalidInput(
                f"{where}.maximum",
                "must not be smaller than minimum",
                code="not_below_field",
                params={"other": "minimum"},
            )
        if item.get("max_length") is not None:
            value = item["max_length"]
            if type_ != "string" or isinstance(value, bool) or not isinstance(value, int):
                raise InvalidInput(
                    f"{where}.max_length",
                    "only string parameters have a length (a whole number)",
                    code="length_needs_string",
                )
            entry["max_length"] = value
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
            for choice in choices:
                check_value(f"{where}.choices", entry, choice)
            entry["choices"] = list(choices)
        if item.get("default") is not None:
            if entry["secret"]:
                raise InvalidInput(
                    f"{where}.default",
                    "a secret parameter has no default (it would be stored in the template)",
                    code="secret_default",
                )
            entry["default"] = check_value(f"{where}.default", entry, item["default"])
        out.append(entry)
    return out


def check_value(field: str, decl: Mapping[str, Any], value: Any) -> Any:
    """One value against its declaration (a connection is a connection name)."""
    if decl["type"] == "connection":
        from tickwork.connections.kinds import check_name

        return check_name(value, field)
    return _check_value(field, decl, value)


def check_values(
    schema: Sequence[Mapping[str, Any]],
    given: Mapping[str, Any] | None,
    *,
    kept: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The values a job gets: each given one checked against its declaration (the field
    is ``params.<name>``), then the defaults; a required one without either is refused.
    ``kept`` holds values a job already has (a rollout keeps them)."""
    if given is not None and not isinstance(given, Mapping):
        raise InvalidInput(
            "params", "must be a mapping of parameter values", code="expected_mapping"
        )
    by_name = {d["name"]: d for d in schema}
    out: dict[str, Any] = {}
    for name, value in (given or {}).items():
        decl = by_name.get(str(name))
        if decl is None:
            raise InvalidInput(
                f"params.{name}",
                f"is not a parameter of this template (parameters: {', '.join(by_name) or 'none'})",
                code="not_template_parameter",
                params={"declared": list(by_name)},
            )
        if value is None:
            continue
        out[name] = check_value(f"params.{name}", decl, value)
    for name, decl in by_name.items():
        if name in out:
            continue
        if kept is not None and kept.get(name) is not None:
            out[name] = kept[name]
        elif "default" in decl:
            out[name] = decl["default"]
        elif decl.get("required"):
            raise InvalidInput(
                f"params.{name}", "is required by the template", code="required_parameter"
            )
    return out


def coerce_text(decl: Mapping[str, Any], text: str) -> Any:
    """A value given as text (the CLI's ``--param k=v``) in the declared type."""
    import json

    type_ = decl["type"]
    if type_ in ("string", "connection"):
        return text
    try:
        value = json.loads(text)
    except ValueError:
        return text  # check_value names the field and the type
    return value
