"""The target options of ``tickwork jobs add``: a Python reference, or ``--shell``, ``--http``,
``--sql``, ``--script`` (or any kind as ``--target-json``), turned into the target mapping the
facade validates."""

from __future__ import annotations

import argparse
import json
from typing import Any

from tickwork.errors import InvalidInput


def add_options(add: argparse.ArgumentParser) -> None:
    add.add_argument(
        "target", metavar="TARGET", nargs="?", help="package.module:function (a Python job)"
    )
    kind = add.add_argument_group("other kinds (instead of TARGET)")
    kind.add_argument("--shell", metavar="COMMAND", help="a shell command, run by /bin/sh -c")
    kind.add_argument("--http", metavar="URL", help="an HTTP request (a path with --connection)")
    kind.add_argument("--sql", metavar=("CONNECTION", "STATEMENT"), nargs=2, help="a SQL statement")
    kind.add_argument("--script", metavar="NAME", help="a stored script (tickwork scripts push)")
    kind.add_argument("--target-json", metavar="JSON", help='any kind: {"kind": "shell", ...}')
    opts = add.add_argument_group("options of those kinds")
    opts.add_argument("--env", action="append", default=[], metavar="NAME=VALUE")
    opts.add_argument("--cwd", help="--shell: the working directory")
    opts.add_argument("--ok-exit-codes", metavar="0,1", help="--shell: accepted exit codes")
    opts.add_argument("--method", default=None, help="--http: GET (default), POST, ...")
    opts.add_argument("--header", action="append", default=[], metavar="NAME:VALUE")
    opts.add_argument("--json-body", metavar="JSON", help="--http: a JSON body")
    opts.add_argument("--body", help="--http: a text body")
    opts.add_argument("--expect-status", metavar="200-299,404", help="--http: accepted status")
    opts.add_argument("--connection", help="--http: a named HTTP connection")
    opts.add_argument("--params", metavar="JSON", help="--sql: bound parameters {name: value}")
    opts.add_argument("--read-only", action="store_true", help="--sql: a read-only transaction")
    opts.add_argument("--statement-timeout", type=float, metavar="S", help="--sql: seconds")
    opts.add_argument("--version", type=int, dest="script_version", help="--script: pin it")
    opts.add_argument(
        "--connections", metavar="A,B", help="--shell/--script: connections handed to it"
    )


def _json(text: str, field: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(field, f"not valid JSON: {exc}", code="json_invalid") from None


def _pairs(items: list[str], sep: str, field: str) -> dict[str, str]:
    out = {}
    for item in items:
        key, found, value = item.partition(sep)
        if not found or not key.strip():
            raise InvalidInput(field, f"{item!r} is not NAME{sep}VALUE", code="invalid_value")
        out[key.strip()] = value.strip() if sep == ":" else value
    return out


def target_of(args: argparse.Namespace, script_language: Any) -> str | dict[str, Any]:
    """The target the options describe; ``script_language(name)`` looks a script up."""
    given = [
        name
        for name in ("target", "shell", "http", "sql", "script", "target_json")
        if getattr(args, name) not in (None, "")
    ]
    if len(given) != 1:
        raise InvalidInput(
            "target",
            "give exactly one of TARGET, --shell, --http, --sql, --script or --target-json",
            code="one_target",
        )
    which = given[0]
    if which == "target":
        return str(args.target)
    if which == "target_json":
        target = _json(args.target_json, "--target-json")
        if not isinstance(target, dict):
            raise InvalidInput("--target-json", "must be a JSON object", code="mapping_type")
        return target
    env = _pairs(args.env, "=", "--env")
    connections = [c.strip() for c in (args.connections or "").split(",") if c.strip()]
    out: dict[str, Any]
    if which == "shell":
        out = {"kind": "shell", "command": args.shell, "shell": True}
        if args.cwd:
            out["cwd"] = args.cwd
        if args.ok_exit_codes:
            try:
                out["ok_exit_codes"] = [int(c) for c in args.ok_exit_codes.split(",")]
            except ValueError:
                raise InvalidInput(
                    "--ok-exit-codes", "must be numbers such as 0,1", code="invalid_value"
                ) from None
    elif which == "http":
        out = {"kind": "http", "url": args.http, "method": (args.method or "GET").upper()}
        headers = _pairs(args.header, ":", "--header")
        if headers:
            out["headers"] = headers
        if args.json_body is not None:
            out["json"] = _json(args.json_body, "--json-body")
        if args.body is not None:
            out["body"] = args.body
        if args.expect_status:
            out["expect_status"] = [s.strip() for s in args.expect_status.split(",")]
        if args.connection:
            out["connection"] = args.connection
    elif which == "sql":
        connection, statement = args.sql
        out = {"kind": "sql", "connection": connection, "statement": statement}
        if args.params:
            out["params"] = _json(args.params, "--params")
        if args.read_only:
            out["read_only"] = True
        if args.statement_timeout is not None:
            out["timeout_s"] = args.statement_timeout
    else:
        out = {"kind": "script", "script": args.script, "language": script_language(args.script)}
        if args.script_version is not None:
            out["version"] = args.script_version
    if env and which in ("shell", "script"):
        out["env"] = env
    if connections and which in ("shell", "script"):
        out["connections"] = connections
    return out
