"""The script kind: code written in the console or the API, stored with versions, run in a
sandboxed child process.

``{kind: script, language: python | bash, script: name, version?: n, env?: {}, connections?:
[...], limits?: {cpu_s, memory_mb, file_mb, open_files}}``: without ``version`` a run takes the
latest version. A script never runs in the server (no ``exec``): a scheduler node writes the
version's code to a fresh directory and starts it through ``sandbox_boot``, which applies
resource limits (CPU seconds, address space, file size, open files, no core dumps), Landlock
(only system directories readable, only its own directory writable: the data directory,
``/proc`` and home directories are out of reach) and, on a node running as root, an
unprivileged user. The environment is clean: a PATH, a locale, ``HOME``/``TMPDIR`` in its
directory, ``env``, the named connections as ``TW_CONN_<NAME>`` and a manual run's declared
parameters as ``TW_PARAM_<NAME>``; never a TICKWORK_* variable, the database URL or the
scheduler's credentials. ``TICKWORK_SCRIPTS=off`` turns the kind off.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import stat
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tickwork.errors import InvalidInput
from tickwork.targets import sandbox_boot
from tickwork.targets.base import (
    Execution,
    Kind,
    Output,
    References,
    TargetFailed,
    Text,
    only_keys,
    refuse,
    string_map,
)
from tickwork.targets.process_run import ProcessExecution, minimal_env
from tickwork.targets.shell import connection_env, connection_list, env_name, param_env

FIELDS = ("language", "script", "version", "env", "connections", "limits")
LANGUAGES = {"python": "script.py", "bash": "script.sh"}
MIB = 1024 * 1024
# limit name -> (default, low, high)
LIMITS: dict[str, tuple[int, int, int]] = {
    "cpu_s": (600, 1, 86_400),
    "memory_mb": (1024, 64, 65_536),
    "file_mb": (64, 0, 65_536),
    "open_files": (256, 16, 65_536),
}
READ_ONLY = ["/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin", "/etc"]
DEVICES = ["/dev/null", "/dev/zero", "/dev/urandom", "/dev/random"]


def check_script_name(value: Any, field: str = "target.script") -> str:
    from tickwork.connections.kinds import NAME

    if not isinstance(value, str) or not NAME.match(value):
        raise InvalidInput(
            field,
            f"{value!r} is not a script name: 1-63 lower-case letters, digits, _ and -, "
            "starting with a letter",
            code="bad_script_name",
            params={"name": str(value)[:100]},
        )
    return value


def check_language(value: Any, field: str = "language") -> str:
    if value not in LANGUAGES:
        raise refuse(
            field, f"{value!r} is not one of {', '.join(LANGUAGES)}", "not_one_of",
            choices=list(LANGUAGES),
        )  # fmt: skip
    return str(value)


class ScriptKind(Kind):
    name = "script"
    label = Text("Script", "脚本")
    runs_code = True
    switch = "TICKWORK_SCRIPTS"
    parameter_field = "env"

    def validate(self, spec: Mapping[str, Any]) -> dict[str, Any]:
        only_keys(spec, FIELDS, self.name)
        out: dict[str, Any] = {
            "language": check_language(spec.get("language")),
            "script": check_script_name(spec.get("script")),
        }
        version = spec.get("version")
        if version is not None:
            if isinstance(version, bool) or not isinstance(version, int) or version < 1:
                raise refuse("version", f"{version!r} is not a version number", "bad_version")
            out["version"] = version
        env = string_map(spec, "env")
        for key in env:
            if key.upper().startswith(("TICKWORK_", "TW_CONN_", "TW_PARAM_")):
                raise refuse(
                    f"env.{key}", "TICKWORK_* and TW_* names are reserved", "reserved_name"
                )
        if env:
            out["env"] = env
        connections = connection_list(spec)
        if connections:
            out["connections"] = connections
        limits = spec.get("limits") or {}
        if not isinstance(limits, Mapping):
            raise refuse("limits", "must be a mapping of cpu_s, memory_mb, file_mb, open_files")
        chosen: dict[str, int] = {}
        for key, value in limits.items():
            if key not in LIMITS:
                raise refuse(
                    f"limits.{key}",
                    "is not a limit (cpu_s, memory_mb, file_mb, open_files)",
                    "unknown_field",
                )
            _, low, high = LIMITS[key]
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise refuse(
                    f"limits.{key}", f"{value!r} is out of range {low}-{high}", "out_of_range",
                    min=low, max=high,
                )  # fmt: skip
            chosen[key] = value
        if chosen:
            out["limits"] = chosen
        return out

    def describe(self, spec: Mapping[str, Any]) -> Text:
        version = spec.get("version")
        en = f"{spec.get('language')} script {spec.get('script')}" + (
            f" v{version}" if version else " (latest)"
        )
        zh = f"{spec.get('language')} 脚本 {spec.get('script')}" + (
            f" v{version}" if version else "（最新版本）"
        )
        return Text(en, zh)

    def references(self, spec: Mapping[str, Any]) -> References:
        return References(
            connections=tuple(spec.get("connections") or ()),
            script=str(spec["script"]),
            script_version=spec.get("version"),
        )

    def execution(self, spec: Mapping[str, Any], timeout_s: float | None) -> Execution:
        return ScriptExecution(spec)


def _usable_by_others(path: str) -> bool:
    """Whether another user can reach and run ``path`` (every directory above it searchable)."""
    real = Path(os.path.realpath(path))
    try:
        if not real.stat().st_mode & stat.S_IXOTH:
            return False
        return all(parent.stat().st_mode & stat.S_IXOTH for parent in real.parents)
    except OSError:
        return False


def _beneath(path: str, roots: list[str]) -> str | None:
    real = os.path.realpath(path)
    for root in roots:
        top = os.path.realpath(root)
        if real == top or real.startswith(top.rstrip("/") + "/"):
            return root
    return None


class ScriptExecution(Execution):
    """Sets up the script's directory and sandbox, then runs it as a ProcessExecution."""

    def __init__(self, spec: Mapping[str, Any]) -> None:
        self.spec = spec
        self.process: ProcessExecution | None = None
        self._stopped = False

    def stop(self) -> None:
        self._stopped = True
        if self.process is not None:
            self.process.stop()

    def run(self, out: Output) -> Any:
        workdir = tempfile.mkdtemp(prefix="tickwork-script-")
        try:
            self.process = self._prepare(workdir)
        except BaseException:
            shutil.rmtree(workdir, ignore_errors=True)
            raise
        if self._stopped:
            self.process.stop()
        return self.process.run(out)

    def _prepare(self, workdir: str) -> ProcessExecution:
        spec = self.spec
        language = str(spec["language"])
        code = spec.get("_code")
        if not isinstance(code, str):
            raise TargetFailed("the script's code was not found")
        sandbox = dict(spec.get("_sandbox") or {})
        mode = sandbox.get("mode", "auto")
        path = os.path.join(workdir, LANGUAGES[language])
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(code)
        limits = {**{k: v[0] for k, v in LIMITS.items()}, **(spec.get("limits") or {})}
        config: dict[str, Any] = {
            "limits": {
                "cpu": limits["cpu_s"],
                "as": limits["memory_mb"] * MIB,
                "fsize": limits["file_mb"] * MIB,
                "nofile": limits["open_files"],
                "core": 0,
            },
            "cwd": workdir,
        }
        # Both layers by default; "user": "" or "landlock": false turn one off (tests prove
        # each layer alone).
        switch_user = mode == "auto" and os.geteuid() == 0 and sandbox.get("user") != ""
        python = sandbox.get("python") or sys.executable
        if switch_user and language == "python" and not _usable_by_others(python):
            fallback = shutil.which("python3", path="/usr/local/bin:/usr/bin:/bin")
            if fallback is None or not _usable_by_others(fallback):
                raise TargetFailed(
                    f"the script user cannot run {python}; set TICKWORK_SCRIPT_PYTHON to an "
                    "interpreter every user can run (e.g. /usr/bin/python3)"
                )
            python = fallback
        interpreter = [python, "-I", path] if language == "python" else ["/bin/bash", path]
        if mode == "auto":
            abi = sandbox_boot.landlock_abi() if sandbox.get("landlock", True) else 0
            if abi < 1 and not switch_user:
                raise TargetFailed(
                    "no sandbox for scripts on this node: the kernel has no Landlock and the "
                    "node does not run as root (to switch to an unprivileged user); set "
                    "TICKWORK_SCRIPTS_SANDBOX=none to run scripts without one (they can then "
                    "read what the scheduler's user can)"
                )
            if abi >= 1:
                config["landlock"] = self._fence(workdir, python, sandbox)
            if switch_user:
                name = sandbox.get("user") or "nobody"
                try:
                    entry = pwd.getpwnam(name)
                except KeyError:
                    raise TargetFailed(f"the script user {name!r} does not exist") from None
                config["uid"], config["gid"] = entry.pw_uid, entry.pw_gid
                os.chown(workdir, entry.pw_uid, entry.pw_gid)
                os.chown(path, entry.pw_uid, entry.pw_gid)
        os.chmod(workdir, 0o700)
        extra = {
            **connection_env(spec.get("_connections") or {}),
            **(spec.get("env") or {}),
            **param_env(spec.get("_params") or {}),
            "PYTHONUNBUFFERED": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        config["env"] = minimal_env(extra, home=workdir)
        boot = [sys.executable, "-I", "-S", sandbox_boot.__file__, "--", *interpreter]
        return ProcessExecution(
            boot,
            env={"TICKWORK_SANDBOX": json.dumps(config)},
            cwd=workdir,
            describe="the script",
            cleanup=lambda: shutil.rmtree(workdir, ignore_errors=True),
        )

    def _fence(self, workdir: str, python: str, sandbox: Mapping[str, Any]) -> dict[str, Any]:
        """Landlock's allowed paths; refused if a protected path would be inside them."""
        read_only = list(READ_ONLY)
        for prefix in {sys.prefix, sys.base_prefix, str(Path(os.path.realpath(python)).parents[1])}:
            if prefix not in read_only:
                read_only.append(prefix)
        for protected in sandbox.get("protect") or []:
            inside = _beneath(str(protected), read_only)
            if inside is not None:
                raise TargetFailed(
                    f"{protected} is inside {inside}, which scripts may read: keep the data "
                    "directory and the database outside it"
                )
        return {"ro": read_only, "rw": [workdir, *DEVICES]}


KIND = ScriptKind()
__all__ = ["KIND", "env_name"]
