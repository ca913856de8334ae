"""A template's parameter schema, and the values a job made from it gives.

Each parameter is ``{"name", "type": "string" | "integer" | "number" | "boolean" |
"connection", "default"?, "required"?, "secret"?, "help"?: {"en", "zh-CN"}, "label"?: {"en",
"zh-CN"}, "choices"?, "minimum"?, "maximum"?, "max_length"?}``. A ``connection`` is the name
of a named connection (the console offers a list). Pure: errors name the field
(``parameters[2].type``, ``params.keep``) and nothing is written before they pass.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tickwork.errors import InvalidInput
from tickwork.parameters import MAX_HELP, MAX_STRING, DeclRules, _check_value, check_parameter_list

TYPES = ("string", "integer", "number", "boolean", "connection")
LANGS = ("en", "zh-CN")


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


def check_schema(declared: Any, *, stored: bool = False) -> list[dict[str, Any]]:
    """The normalised parameter list of a template; InvalidInput naming the field.
    ``stored``: one read back from the store, which may predate a bound (see _clamped)."""
    if stored and isinstance(declared, list):
        declared = [_clamped(item) for item in declared]
    return check_parameter_list(declared, TEMPLATE_RULES)


def _clamped(item: Any) -> Any:
    """A template saved before max_length was bounded to 0-MAX_STRING still loads, with its
    max_length brought into the bound (values never could pass the kwargs limit anyway); one
    saved before a secret parameter's choices were refused loads without them."""
    if isinstance(item, Mapping) and item.get("secret") is True and "choices" in item:
        item = {k: v for k, v in item.items() if k != "choices"}
    value = item.get("max_length") if isinstance(item, Mapping) else None
    if isinstance(value, int) and not isinstance(value, bool) and not 0 <= value <= MAX_STRING:
        return {**item, "max_length": min(max(value, 0), MAX_STRING)}
    return item


def check_value(field: str, decl: Mapping[str, Any], value: Any) -> Any:
    """One value against its declaration (a connection is a connection name)."""
    if decl["type"] == "connection":
        from tickwork.connections.kinds import check_name

        return check_name(value, field)
    return _check_value(field, decl, value)


TEMPLATE_RULES = DeclRules(
    types=TYPES,
    fields=("name", "type", "required", "secret", "label", "help", "minimum", "maximum",
            "max_length", "choices", "default"),
    name_max=63,
    texts=(("label", 100), ("help", MAX_HELP)),
    check_text=_texts,
    check_value=check_value,
    store_false=True,  # stored templates have required and secret always
)  # fmt: skip


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
