"""The ``builtin`` job kind: one of Tickwork's maintenance jobs, configured by parameters.

``{kind: builtin, name: check_slow_queries, connection: app_db, threshold_s: 5}``. The name
picks the built-in (``tickwork.builtins.catalog``), ``connection`` the named database or
Redis connection it works on, the rest are its parameters (defaults filled in when the job
is saved). A run happens in an executor's worker like every kind's and returns the built-in's
report (``tickwork.builtins.result``) as the run's result.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Mapping
from typing import Any

from tickwork.builtins.catalog import BUILTINS, Builtin
from tickwork.builtins.context import Context
from tickwork.builtins.params import check
from tickwork.targets.base import (
    Execution,
    Kind,
    Output,
    References,
    TargetFailed,
    Text,
    connection_name,
    refuse,
)


class BuiltinKind(Kind):
    name = "builtin"
    label = Text("Built-in maintenance job", "内置维护任务")

    def validate(self, spec: Mapping[str, Any]) -> dict[str, Any]:
        name = spec.get("name")
        item = BUILTINS.get(name) if isinstance(name, str) else None
        if item is None:
            raise refuse(
                "name", f"{name!r} is not a built-in; built-ins: {', '.join(BUILTINS)}",
                "not_one_of", value=str(name), choices=list(BUILTINS),
            )  # fmt: skip
        params = item.all_params()
        known = {"name", "connection", *(p.name for p in params)}
        for key in spec:
            if key not in known and key != "kind":
                raise refuse(
                    str(key),
                    f"is not a parameter of {item.name} (parameters: "
                    f"{', '.join(p.name for p in params) or 'none'})",
                    "unknown_field",
                    kind=f"builtin {item.name}",
                )
        out: dict[str, Any] = {"name": item.name}
        connection = connection_name(spec)
        if item.connection is not None:
            if connection is None:
                raise refuse(
                    "connection",
                    f"is required: the named {item.connection.replace('|', ' or ')} "
                    f"connection {item.name} works on",
                    "missing",
                )
            out["connection"] = connection
        elif connection is not None:
            raise refuse("connection", f"{item.name} uses no connection", "unknown_field",
                         kind=f"builtin {item.name}")  # fmt: skip
        for p in params:
            value = spec.get(p.name)
            if value is None:
                if p.required:
                    raise refuse(p.name, "is required", "missing")
                value = p.default
                if value is None:
                    continue
            out[p.name] = check(p, value)
        return out

    def describe(self, spec: Mapping[str, Any]) -> Text:
        item = BUILTINS.get(str(spec.get("name")))
        on = f" on {spec['connection']}" if spec.get("connection") else ""
        zh_on = f"（{spec['connection']}）" if spec.get("connection") else ""
        if item is None:
            return Text(f"built-in {spec.get('name')}{on}", f"内置任务 {spec.get('name')}{zh_on}")
        return Text(f"{item.label.en}{on}", f"{item.label.zh}{zh_on}")

    def references(self, spec: Mapping[str, Any]) -> References:
        connection = spec.get("connection")
        return References(connections=(str(connection),) if connection else ())

    def execution(self, spec: Mapping[str, Any], timeout_s: float | None) -> Execution:
        return BuiltinExecution(spec)


def runner(item: Builtin) -> Callable[[Context], None]:
    module, _, func = item.run.partition(":")
    return getattr(importlib.import_module(f"tickwork.builtins.{module}"), func)  # type: ignore[no-any-return]


class BuiltinExecution(Execution):
    def __init__(self, spec: Mapping[str, Any]) -> None:
        self.spec = spec
        self.stopped = threading.Event()
        self._context: Context | None = None
        self._lock = threading.Lock()

    def stop(self) -> None:
        self.stopped.set()
        with self._lock:
            context = self._context
        if context is not None:
            threading.Thread(target=context.interrupt, daemon=True).start()

    def run(self, out: Output) -> Any:
        item = BUILTINS.get(str(self.spec.get("name")))
        if item is None:
            raise TargetFailed(f"{self.spec.get('name')!r} is not a built-in of this version")
        connections = self.spec.get("_connections") or {}
        fields = next(iter(connections.values()), None) if connections else None
        context = Context(item, self.spec, fields, out, self.stopped)
        with self._lock:
            self._context = context
        try:
            return context.run(runner(item))
        finally:
            with self._lock:
                self._context = None


KIND = BuiltinKind()
