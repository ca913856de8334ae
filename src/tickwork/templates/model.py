"""A template: a parameterised job definition, and how a job is made from it.

``{"name", "title": {"en", "zh-CN"}, "description"?: {...}, "category"?, "parameters": [...],
"job": {...}}``. ``job`` holds the job's fields (``target``, ``trigger``, ``name``,
``description``, ``group``, ``tags``, ``timeout_s``, ``retries``, ...) where any text may name a
parameter as ``${name}`` (the value's text; ``$$`` is a dollar) and any value may be
``{"$param": "name"}`` (the value itself, with its type). A secret parameter may only be a
whole ``kwargs`` value of a Python target: the job lists it in ``secret_keys`` and the vault
seals it, like any job secret.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tickwork.errors import InvalidInput
from tickwork.templates.schema import _texts, check_schema

NAME = re.compile(r"^[a-z][a-z0-9_-]{0,62}\Z")
JOB_FIELDS = frozenset(
    {"target", "trigger", "name", "description", "group", "tags", "timezone", "timeout_s",
     "retries", "retry_backoff_s", "concurrency_policy", "max_instances", "misfire_policy",
     "executor"}
)  # fmt: skip
MAX_DEPTH = 12


@dataclass(frozen=True)
class Template:
    """A template as faces show it. ``builtin``: registered in code (its version is the
    code's); otherwise an administrator's, stored with a version that every change steps.
    ``check`` (built-ins only) refuses values that the schema alone cannot judge."""

    name: str
    version: int
    title: dict[str, str]
    parameters: list[dict[str, Any]]
    job: dict[str, Any]
    description: dict[str, str] = field(default_factory=lambda: {"en": "", "zh-CN": ""})
    category: str = "general"
    builtin: bool = False
    check: Callable[[dict[str, Any]], dict[str, Any]] | None = field(default=None, compare=False)

    def definition(self) -> dict[str, Any]:
        """The JSON form (what an administrator writes and the API returns)."""
        return {
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "category": self.category,
            "parameters": self.parameters,
            "job": self.job,
        }


def check_template(
    data: Any,
    *,
    version: int = 1,
    builtin: bool = False,
    check: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    stored: bool = False,
) -> Template:
    """A Template from its JSON form; InvalidInput naming the field (``job.target.command[2]``,
    ``parameters[0].type``) for anything wrong. ``stored``: read back from the store, where a
    template may predate a rule (check_schema)."""
    if not isinstance(data, Mapping):
        raise InvalidInput("template", "must be a mapping", code="expected_mapping")
    unknown = sorted(set(map(str, data)) - {"name", "title", "description", "category",
                                           "parameters", "job"})  # fmt: skip
    if unknown:
        raise InvalidInput(unknown[0], "is not a template field", code="unknown_option")
    name = data.get("name")
    if not isinstance(name, str) or not NAME.match(name):
        raise InvalidInput(
            "name",
            f"{name!r} is not a template name: 1-63 lower-case letters, digits, _ and -, "
            "starting with a letter",
            code="bad_template_name",
            params={"name": str(name)[:100]},
        )
    title = _texts("title", data.get("title") or name, 100)
    description = _texts("description", data.get("description") or "", 2000)
    category = data.get("category") or "general"
    if not isinstance(category, str) or not NAME.match(category):
        raise InvalidInput("category", "must be a short lower-case word", code="bad_category")
    parameters = check_schema(data.get("parameters"), stored=stored)
    job = data.get("job")
    if not isinstance(job, Mapping) or "target" not in job:
        raise InvalidInput("job", "must be a mapping with at least a target", code="template_job")
    bad = sorted(set(map(str, job)) - JOB_FIELDS)
    if bad:
        raise InvalidInput(
            f"job.{bad[0]}",
            f"is not a job field a template sets ({', '.join(sorted(JOB_FIELDS))})",
            code="unknown_option",
        )
    by_name = {p["name"]: p for p in parameters}
    used: set[str] = set()
    _walk_placeholders(job, "job", by_name, used, 0)
    unused = [n for n in by_name if n not in used]
    if unused:
        raise InvalidInput(
            f"parameters[{list(by_name).index(unused[0])}].name",
            f"{unused[0]!r} is used nowhere in the job",
            code="parameter_unused",
            params={"name": unused[0]},
        )
    return Template(
        name=name,
        version=version,
        title=title,
        description=description,
        category=category,
        parameters=parameters,
        job=dict(job),
        builtin=builtin,
        check=check,
    )


def _names_in(text: str, where: str) -> list[str]:
    out = []
    for m in string.Template.pattern.finditer(text):
        if m.group("invalid") is not None:
            raise InvalidInput(
                where,
                "holds a $ that names no parameter (write $$ for a dollar)",
                code="bad_placeholder",
            )
        named = m.group("named") or m.group("braced")
        if named:
            out.append(named)
    return out


def _walk_placeholders(
    value: Any, where: str, by_name: Mapping[str, Any], used: set[str], depth: int
) -> None:
    if depth > MAX_DEPTH:
        raise InvalidInput(where, "is nested too deeply", code="nested_too_deep",
                           params={"max": MAX_DEPTH})  # fmt: skip
    if isinstance(value, str):
        for name in _names_in(value, where):
            decl = by_name.get(name)
            if decl is None:
                raise InvalidInput(
                    where,
                    f"names ${{{name}}}, which is not a parameter",
                    code="unknown_placeholder",
                    params={"name": name},
                )
            if decl.get("secret"):
                raise _secret_place(where, name)
            used.add(name)
        return
    if isinstance(value, Mapping):
        if set(value) == {"$param"}:
            name = value["$param"]
            decl = by_name.get(name) if isinstance(name, str) else None
            if decl is None:
                raise InvalidInput(
                    f"{where}.$param",
                    f"{name!r} is not a parameter",
                    code="unknown_placeholder",
                    params={"name": str(name)},
                )
            if decl.get("secret") and not re.fullmatch(r"job\.target\.kwargs\.[A-Za-z_]\w*", where):
                raise _secret_place(where, name)
            used.add(name)
            return
        for key, item in value.items():
            _walk_placeholders(item, f"{where}.{key}", by_name, used, depth + 1)
        return
    if isinstance(value, list):
        for i, item in enumerate(value):
            _walk_placeholders(item, f"{where}[{i}]", by_name, used, depth + 1)


def _secret_place(where: str, name: str) -> InvalidInput:
    return InvalidInput(
        where,
        f"uses the secret parameter {name!r}: a secret may only be a whole value of the "
        'Python target\'s kwargs ({"$param": "..."}), where the vault seals it',
        code="secret_placement",
        params={"name": name},
    )


def render(template: Template, values: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The job fields the template gives with these (checked) values, and the secret kwargs
    to list in ``secret_keys``."""
    secrets = [p["name"] for p in template.parameters if p.get("secret")]
    secret_keys: list[str] = []

    def fill(value: Any, where: str) -> Any:
        if isinstance(value, str):
            text = {k: _as_text(v) for k, v in values.items()}
            # a parameter left out (optional, no default) renders as empty text
            for name in _names_in(value, where):
                text.setdefault(name, "")
            return string.Template(value).substitute(text)
        if isinstance(value, Mapping):
            if set(value) == {"$param"}:
                name = value["$param"]
                if name in secrets:
                    secret_keys.append(where.rsplit(".", 1)[1])
                return values.get(name)
            return {
                k: fill(v, f"{where}.{k}")
                for k, v in value.items()
                # an optional parameter left out leaves its key out (the kind's default)
                if not (
                    isinstance(v, Mapping)
                    and set(v) == {"$param"}
                    and values.get(v["$param"]) is None
                )
            }
        if isinstance(value, list):
            return [fill(v, f"{where}[{i}]") for i, v in enumerate(value)]
        return value

    fields = fill(template.job, "job")
    return fields, secret_keys


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)
