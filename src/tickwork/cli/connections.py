"""``tickwork connections list|show|add|update|test|remove``: named connections. Secrets are
read from stdin or a prompt (never from the command line, which other users can see) and are
never printed."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from typing import Any

from tickwork.cli.common import dump_json, open_client, store_options, table
from tickwork.connections.kinds import FIELDS, KINDS
from tickwork.errors import InvalidInput


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    common = store_options()
    group = sub.add_parser("connections", help="named connections (database, redis, http, smtp)")
    cmds = group.add_subparsers(dest="connections_command", metavar="SUBCOMMAND", required=True)

    ls = cmds.add_parser("list", parents=[common], help="list connections (secrets masked)")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(handler=_list)

    show = cmds.add_parser("show", parents=[common], help="one connection (secrets masked)")
    show.add_argument("name", metavar="NAME")
    show.set_defaults(handler=_show)

    for name, helptext in (("add", "add a connection"), ("update", "change a connection")):
        cmd = cmds.add_parser(name, parents=[common], help=helptext)
        cmd.add_argument("name", metavar="NAME")
        if name == "add":
            cmd.add_argument("kind", choices=KINDS)
        cmd.add_argument(
            "--set", action="append", default=[], metavar="FIELD=VALUE",
            help="a public field: url, base_url, auth_header, host, port, security, username, "
            "from_addr (see docs/targets.md)",
        )  # fmt: skip
        cmd.add_argument(
            "--secret", action="append", default=[], metavar="FIELD",
            help="a secret field (password, auth_value) read from stdin, one line each, or "
            "prompted for",
        )  # fmt: skip
        cmd.add_argument("--description")
        cmd.set_defaults(handler=_add if name == "add" else _update)

    test = cmds.add_parser("test", parents=[common], help="try a connection")
    test.add_argument("name", metavar="NAME")
    test.set_defaults(handler=_test)

    remove = cmds.add_parser("remove", parents=[common], help="remove an unused connection")
    remove.add_argument("name", metavar="NAME")
    remove.set_defaults(handler=_remove)


def _fields(args: argparse.Namespace) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for item in args.set:
        key, found, value = item.partition("=")
        if not found:
            raise InvalidInput("--set", f"{item!r} is not FIELD=VALUE", code="invalid_value")
        if key == "port":
            try:
                fields[key] = int(value)
            except ValueError:
                raise InvalidInput(
                    "port", f"{value!r} is not a port", code="invalid_value"
                ) from None
        elif key == "headers":
            fields[key] = json.loads(value)
        else:
            fields[key] = value
    for name in args.secret:
        if sys.stdin.isatty():
            value = getpass.getpass(f"{name}: ")
        else:
            value = sys.stdin.readline().rstrip("\n")
        fields[name] = value
    return fields


def _print(view: Any) -> None:
    print(f"{view.name} ({view.kind}) version {view.version}")
    if view.description:
        print(f"  {view.description}")
    for key, value in view.fields.items():
        print(f"  {key}: {value if value is not None else '-'}")
    if view.used_by:
        print(f"  used by: {', '.join(view.used_by)}")


def _list(args: argparse.Namespace) -> int:
    with open_client(args) as tw:
        views = tw.connections()
        if args.json:
            dump_json([_as_dict(v) for v in views])
            return 0
        rows = [
            [v.name, v.kind, _summary(v.kind, v.fields), ", ".join(v.used_by) or "-"] for v in views
        ]
        table(rows, ["NAME", "KIND", "WHERE", "USED BY"])
    return 0


def _as_dict(view: Any) -> dict[str, Any]:
    return {name: getattr(view, name) for name in view.__slots__}


def _summary(kind: str, fields: dict[str, Any]) -> str:
    keys = {"database": "url", "redis": "url", "http": "base_url", "smtp": "host", "amqp": "url"}
    key = keys[kind]
    return str(fields.get(key, ""))


def _show(args: argparse.Namespace) -> int:
    with open_client(args) as tw:
        _print(tw.connection(args.name))
    return 0


def _add(args: argparse.Namespace) -> int:
    fields = _fields(args)
    with open_client(args) as tw:
        view = tw.add_connection(
            args.name, args.kind, fields, description=args.description, by=tw.actor
        )
        print("added ", end="")
        _print(view)
    return 0


def _update(args: argparse.Namespace) -> int:
    fields = _fields(args)
    with open_client(args) as tw:
        view = tw.update_connection(args.name, fields, description=args.description, by=tw.actor)
        print("updated ", end="")
        _print(view)
    return 0


def _test(args: argparse.Namespace) -> int:
    with open_client(args) as tw:
        result = tw.test_connection(args.name, by=tw.actor)
    status = "ok" if result["ok"] else "FAILED"
    print(f"{args.name}: {status}: {result['message']} ({result['elapsed_ms']:.0f} ms)")
    return 0 if result["ok"] else 1


def _remove(args: argparse.Namespace) -> int:
    with open_client(args) as tw:
        tw.remove_connection(args.name, by=tw.actor)
    print(f"removed {args.name}")
    return 0


__all__ = ["FIELDS", "register"]
