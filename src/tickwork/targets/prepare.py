"""Preparing a run of a non-Python job on a scheduler node, right before its executor gets it.

The dispatcher hands a stored spec here; what comes back is the spec the worker needs, with
private ``_`` fields filled in: the named connections opened (``_connection`` for http and
sql, ``_connections`` for shell and script), the script's code (``_code``, ``_version``), the
SSRF allowlist (``_allow``), the sandbox settings (``_sandbox``) and a manual run's declared
parameters (``_params``); plus the secret texts the executor masks in the run's log, result
and error. The worker never touches the store.

Connections are read at most once a second per name (a changed or removed connection reaches
runs within a second); script versions never change, so their code is kept.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tickwork.connections.sealed import Opened, open_connection
from tickwork.connections.vault import VaultError
from tickwork.targets import kinds
from tickwork.targets.base import Kind, Prepared

CACHE_S = 1.0
_SINGLE = {"http": "http", "sql": "database"}  # kinds with one `connection` of this kind


class NotRunnable(Exception):
    """The run cannot start (kind switched off, a connection or script missing): it is
    recorded failed with this reason."""


@dataclass(frozen=True, slots=True)
class RunSettings:
    """What runs of a scheduler node take from its deployment's settings."""

    kinds_off: frozenset[str] = frozenset()
    ssrf_allow: tuple[str, ...] = ()
    scripts_sandbox: str = "auto"
    scripts_user: str = "nobody"
    script_python: str | None = None
    protect: tuple[str, ...] = ()  # paths scripts must not reach (data dir, database file)
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, settings: Any) -> RunSettings:
        protect = [str(settings.data_dir)]
        url = settings.effective_database_url
        if url.startswith("sqlite:///"):
            protect.append(url.removeprefix("sqlite:///"))
        return cls(
            kinds_off=settings.kinds_off,
            ssrf_allow=settings.ssrf_allow,
            scripts_sandbox=settings.scripts_sandbox,
            scripts_user=settings.scripts_user,
            script_python=settings.script_python,
            protect=tuple(protect),
        )


class Preparer:
    def __init__(self, store: Any, settings: RunSettings) -> None:
        self.store = store
        self.settings = settings
        self._lock = threading.Lock()
        self._connections: dict[str, tuple[float, Opened | None]] = {}
        self._latest: dict[str, tuple[float, int | None]] = {}
        self._code: dict[tuple[str, int], str] = {}

    def prepare(
        self, kind_name: str, spec: Mapping[str, Any], params: Mapping[str, Any] | None
    ) -> Prepared:
        kind = kinds.get(kind_name)
        if kind.name in self.settings.kinds_off:
            raise NotRunnable(kinds.off_reason(kind))
        out = dict(spec)
        secrets: list[str] = []
        refs = kind.references(spec)
        opened = {name: self._connection(name) for name in refs.connections}
        for item in opened.values():
            secrets.extend(item.masks)
        wanted = _SINGLE.get(kind.name)
        if wanted is not None and refs.connections:
            item = opened[refs.connections[0]]
            if item.kind != wanted:
                raise NotRunnable(
                    f"connection {item.name!r} is a {item.kind} connection; a {kind.name} job "
                    f"needs a {wanted} connection"
                )
            out["_connection"] = item.fields
        elif opened:
            out["_connections"] = {name: item.fields for name, item in opened.items()}
        if refs.script is not None:
            out["_version"], out["_code"] = self._script(refs.script, refs.script_version)
            out["_sandbox"] = {
                "mode": self.settings.scripts_sandbox,
                "user": self.settings.scripts_user,
                "python": self.settings.script_python,
                "protect": list(self.settings.protect),
            }
        if kind.name == "http":
            out["_allow"] = list(self.settings.ssrf_allow)
        values = (params or {}).get("kwargs")
        if values and kind.parameter_field is not None:
            out["_params"] = dict(values)
        return Prepared(out, secrets)

    def forget(self) -> None:
        """Drop cached connections (after a change in this process)."""
        with self._lock:
            self._connections.clear()
            self._latest.clear()

    def _connection(self, name: str) -> Opened:
        now = time.monotonic()
        with self._lock:
            cached = self._connections.get(name)
        if cached is None or cached[0] < now:
            with self.store.db.read() as conn:
                record = self.store.connections.get(conn, name)
            item = None
            if record is not None:
                try:
                    item = open_connection(name, record.kind, record.public, record.secret)
                except VaultError as exc:
                    raise NotRunnable(f"connection {name!r}: {exc}") from None
            cached = (now + CACHE_S, item)
            with self._lock:
                self._connections[name] = cached
        if cached[1] is None:
            raise NotRunnable(f"connection {name!r} does not exist (it was removed?)")
        return cached[1]

    def _script(self, name: str, version: int | None) -> tuple[int, str]:
        if version is None:
            now = time.monotonic()
            with self._lock:
                latest = self._latest.get(name)
            if latest is None or latest[0] < now:
                with self.store.db.read() as conn:
                    number = self.store.scripts.latest_version(conn, name)
                latest = (now + CACHE_S, number)
                with self._lock:
                    self._latest[name] = latest
            if latest[1] is None:
                raise NotRunnable(f"script {name!r} does not exist (it was removed?)")
            version = latest[1]
        code = self._code.get((name, version))
        if code is None:
            with self.store.db.read() as conn:
                found = self.store.scripts.version(conn, name, version)
            if found is None:
                raise NotRunnable(f"script {name!r} has no version {version}")
            code = found.code
            with self._lock:
                if len(self._code) > 512:
                    self._code.clear()
                self._code[(name, version)] = code
        return version, code


def kind_of(name: str) -> Kind:
    return kinds.get(name)
