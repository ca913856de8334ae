"""The shell kind: run a command.

``{kind: shell, command: ["pg_dump", "-Fc", "app"] | "string", shell: false, env: {}, cwd: ...,
ok_exit_codes: [0], connections: [name, ...]}``. A list is run as is (no shell parses it); a
string needs ``shell: true`` and runs under ``/bin/sh -c``. The command starts from a clean
environment (PATH, locale, ``env``, the connections it names as ``TW_CONN_<NAME>`` JSON, and
a manual run's declared parameters as ``TW_PARAM_<NAME>``), never the scheduler's own (which
holds the secret key and the database URL). It runs in a process group of its own that ends
with it (``tickwork.targets.process_run``). Admin-only; ``TICKWORK_SHELL=off`` turns the kind
off.
"""

from __future__ import annotations

import json
import os
import shlex
from collections.abc import Mapping
from typing import Any

from tickwork.targets.base import (
    Execution,
    Kind,
    References,
    Text,
    bool_field,
    only_keys,
    refuse,
    string_map,
    text_field,
)
from tickwork.targets.process_run import ProcessExecution, minimal_env

FIELDS = ("command", "shell", "env", "cwd", "ok_exit_codes", "connections")
MAX_COMMAND = 16_384
MAX_ARGS = 1000


def env_name(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name).upper()


def connection_env(connections: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """The connections a job names, handed to its command as ``TW_CONN_<NAME>`` (JSON of
    the connection's fields, secrets included: the command asked for them)."""
    return {
        f"TW_CONN_{env_name(name)}": json.dumps(fields, separators=(",", ":"), sort_keys=True)
        for name, fields in connections.items()
    }


def param_env(values: Mapping[str, Any]) -> dict[str, str]:
    return {
        f"TW_PARAM_{env_name(k)}": v if isinstance(v, str) else json.dumps(v)
        for k, v in values.items()
    }


def connection_list(spec: Mapping[str, Any]) -> list[str]:
    from tickwork.connections.kinds import check_name

    value = spec.get("connections") or []
    if not isinstance(value, list) or len(value) > 20:
        raise refuse("connections", "must be a list of at most 20 connection names", "list_type")
    return list(
        dict.fromkeys(check_name(v, f"target.connections[{i}]") for i, v in enumerate(value))
    )


def exit_codes(spec: Mapping[str, Any]) -> list[int]:
    value = spec.get("ok_exit_codes", [0])
    if not isinstance(value, list) or not value or len(value) > 256:
        raise refuse("ok_exit_codes", "must be a list of exit codes such as [0]", "list_type")
    out = []
    for code in value:
        if isinstance(code, bool) or not isinstance(code, int) or not 0 <= code <= 255:
            raise refuse(
                "ok_exit_codes", f"{code!r} is not an exit code 0-255", "out_of_range", min=0,
                max=255,
            )  # fmt: skip
        out.append(code)
    return sorted(set(out))


class ShellKind(Kind):
    name = "shell"
    label = Text("Shell command", "Shell 命令")
    runs_code = True
    switch = "TICKWORK_SHELL"
    parameter_field = "env"

    def validate(self, spec: Mapping[str, Any]) -> dict[str, Any]:
        only_keys(spec, FIELDS, self.name)
        use_shell = bool_field(spec, "shell", False)
        command = spec.get("command")
        if command is None:
            raise refuse("command", "is required", "missing")
        if isinstance(command, str):
            if not use_shell:
                raise refuse(
                    "command",
                    'a command given as one string needs "shell": true (it is then run by '
                    "/bin/sh); or give the arguments as a list",
                    "string_command_needs_shell",
                )
            text = text_field(spec, "command", required=True, limit=MAX_COMMAND)
            normalised: str | list[str] = text or ""
        elif isinstance(command, list):
            if not command or len(command) > MAX_ARGS:
                raise refuse(
                    "command", f"must hold 1-{MAX_ARGS} arguments", "list_length", max=MAX_ARGS
                )
            args: list[str] = []
            for i, arg in enumerate(command):
                if not isinstance(arg, str) or "\x00" in arg or len(arg) > MAX_COMMAND:
                    raise refuse(f"command[{i}]", "must be text without NUL", "text_type")
                args.append(arg)
            if not args[0].strip():
                raise refuse("command[0]", "names no program", "empty")
            if use_shell:
                raise refuse(
                    "shell",
                    '"shell": true takes the command as one string, not a list',
                    "shell_needs_string",
                )
            normalised = args
        else:
            raise refuse("command", "must be a list of arguments or a string", "command_type")
        cwd = text_field(spec, "cwd", limit=4096)
        if cwd is not None and not os.path.isabs(cwd):
            raise refuse("cwd", "must be an absolute path", "not_absolute")
        env = string_map(spec, "env")
        for key in env:
            if key.upper().startswith(("TICKWORK_", "TW_CONN_")):
                raise refuse(
                    f"env.{key}", "TICKWORK_* and TW_CONN_* names are reserved", "reserved_name"
                )
        out: dict[str, Any] = {"command": normalised, "shell": use_shell}
        if env:
            out["env"] = env
        if cwd:
            out["cwd"] = cwd
        codes = exit_codes(spec)
        if codes != [0]:
            out["ok_exit_codes"] = codes
        connections = connection_list(spec)
        if connections:
            out["connections"] = connections
        return out

    def describe(self, spec: Mapping[str, Any]) -> Text:
        command = spec.get("command")
        text = command if isinstance(command, str) else shlex.join(command or [])
        if len(text) > 120:
            text = text[:117] + "..."
        return Text(f"$ {text}", f"$ {text}")

    def references(self, spec: Mapping[str, Any]) -> References:
        return References(connections=tuple(spec.get("connections") or ()))

    def execution(self, spec: Mapping[str, Any], timeout_s: float | None) -> Execution:
        command = spec["command"]
        argv = ["/bin/sh", "-c", command] if isinstance(command, str) else list(command)
        env = minimal_env(
            {
                **connection_env(spec.get("_connections") or {}),
                **(spec.get("env") or {}),
                **param_env(spec.get("_params") or {}),
            },
            home=os.environ.get("HOME"),
        )
        return ProcessExecution(
            argv,
            env=env,
            cwd=spec.get("cwd"),
            ok_exit_codes=spec.get("ok_exit_codes") or (0,),
            describe="the command",
        )


KIND = ShellKind()
