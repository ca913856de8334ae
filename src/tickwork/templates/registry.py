"""Built-in templates: registered in code, listed with the administrators' own.

Other parts of Tickwork (the maintenance built-ins) and deployments add theirs with
``register``::

    from tickwork.templates.registry import register

    register({"name": "vacuum", "title": {"en": "Vacuum", "zh-CN": "清理"},
              "parameters": [...], "job": {...}}, version=1)

A registered template's name cannot be taken by an administrator's template.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

from tickwork.templates.model import Template, check_template

_lock = threading.Lock()
_registered: dict[str, Template] = {}
_state = {"loaded": False}


def register(
    definition: Mapping[str, Any] | Template,
    *,
    version: int = 1,
    check: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    replace: bool = False,
) -> Template:
    """Add a built-in template (validated like an administrator's; InvalidInput naming the
    field). ``check`` gets the checked values and returns them (or raises InvalidInput
    naming ``params.<name>``) for rules the schema cannot say. ``version``: step it when
    the definition changes, so the jobs made from it can be rolled out."""
    if isinstance(definition, Template):
        template = definition
    else:
        template = check_template(definition, version=version, builtin=True, check=check)
    with _lock:
        if template.name in _registered and not replace:
            raise ValueError(f"a built-in template {template.name!r} is registered already")
        _registered[template.name] = template
    return template


def _load() -> None:
    with _lock:
        if _state["loaded"]:
            return
        _state["loaded"] = True
    from tickwork.builtins import templates  # noqa: F401  (one per maintenance built-in)
    from tickwork.templates import builtin  # noqa: F401  (registers the shipped ones)


def builtin(name: str) -> Template | None:
    _load()
    return _registered.get(name)


def builtins() -> list[Template]:
    _load()
    return sorted(_registered.values(), key=lambda t: t.name)
