"""The registry of job kinds: name -> the module that holds its ``KIND``.

A new kind (the Celery task kind, the built-ins) is a module with a ``KIND`` (a
``tickwork.targets.base.Kind``) and one line here. Modules are imported on first use, so a
node that never runs an HTTP job never imports the HTTP client.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from tickwork.errors import InvalidInput
from tickwork.targets.base import Kind

MODULES: dict[str, str] = {
    "python": "tickwork.targets.python",
    "shell": "tickwork.targets.shell",
    "http": "tickwork.targets.http",
    "sql": "tickwork.targets.sql",
    "script": "tickwork.targets.script",
    # maintenance jobs (issue 13); the kind lives with them, above the targets layer
    "builtin": "tickwork.builtins.kind",
    "celery": "tickwork.targets.celery_task",  # issue 14
}
NAMES = tuple(MODULES)
_loaded: dict[str, Kind] = {}


def get(name: str) -> Kind:
    """The kind called ``name``; InvalidInput("target.kind") for an unknown one."""
    kind = _loaded.get(name)
    if kind is not None:
        return kind
    module = MODULES.get(name) if isinstance(name, str) else None
    if module is None:
        raise InvalidInput(
            "target.kind",
            f"{name!r} is not a job kind; kinds: {', '.join(NAMES)}",
            code="not_one_of",
            params={"value": name, "choices": list(NAMES)},
        )
    kind = importlib.import_module(module).KIND
    _loaded[name] = kind
    return kind  # type: ignore[no-any-return]


def off_reason(kind: Kind) -> str:
    return (
        f"{kind.name} jobs are switched off on this deployment ({kind.switch}=off); ask an "
        "administrator"
    )


def split_target(target: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """(kind name, the rest) of a target mapping; a mapping without ``kind`` is Python's
    ``{"ref", "args", "kwargs"}`` shape."""
    name = target.get("kind", "python")
    if not isinstance(name, str):
        raise InvalidInput(
            "target.kind",
            "must be a kind name",
            code="not_one_of",
            params={"value": repr(name), "choices": list(NAMES)},
        )
    return name, {k: v for k, v in target.items() if k != "kind"}
