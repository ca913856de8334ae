"""``tickwork scripts list|show|push|history``: scripts with their versions."""

from __future__ import annotations

import argparse
from pathlib import Path

from tickwork.cli.common import open_client, store_options, table, when
from tickwork.errors import InvalidInput

_LANGUAGE_BY_SUFFIX = {".py": "python", ".sh": "bash", ".bash": "bash"}


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    common = store_options()
    group = sub.add_parser("scripts", help="scripts run by script jobs, with their versions")
    cmds = group.add_subparsers(dest="scripts_command", metavar="SUBCOMMAND", required=True)

    ls = cmds.add_parser("list", parents=[common], help="list scripts")
    ls.set_defaults(handler=_list)

    show = cmds.add_parser("show", parents=[common], help="print a script's code")
    show.add_argument("name", metavar="NAME")
    show.add_argument("--version", type=int, help="this version (default: the latest)")
    show.set_defaults(handler=_show)

    push = cmds.add_parser("push", parents=[common], help="save FILE as a new version")
    push.add_argument("file", metavar="FILE", type=Path)
    push.add_argument("--name", help="the script's name (default: the file's name)")
    push.add_argument("--language", choices=("python", "bash"), help="default: by suffix")
    push.add_argument("--message", "-m", default="", help="what changed")
    push.add_argument("--description")
    push.set_defaults(handler=_push)

    history = cmds.add_parser("history", parents=[common], help="a script's versions")
    history.add_argument("name", metavar="NAME")
    history.set_defaults(handler=_history)


def _list(args: argparse.Namespace) -> int:
    with open_client(args) as tw:
        rows = [
            [r.name, r.language, str(r.latest_version), when(r.updated_at), ", ".join(u) or "-"]
            for r, u in tw.scripts()
        ]
    table(rows, ["NAME", "LANGUAGE", "VERSION", "UPDATED", "USED BY"])
    return 0


def _show(args: argparse.Namespace) -> int:
    with open_client(args) as tw:
        if args.version is None:
            _, version, _ = tw.script(args.name)
        else:
            version = tw.script_version(args.name, args.version)
    print(version.code, end="" if version.code.endswith("\n") else "\n")
    return 0


def _push(args: argparse.Namespace) -> int:
    path: Path = args.file
    try:
        code = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput("FILE", f"cannot read {path}: {exc}", code="unreadable") from None
    name = args.name or path.stem.lower().replace(".", "-")
    language = args.language or _LANGUAGE_BY_SUFFIX.get(path.suffix.lower())
    with open_client(args) as tw:
        existing = {r.name: r for r, _ in tw.scripts()}
        if name in existing:
            language = args.language
        elif language is None:
            raise InvalidInput(
                "--language", "is needed for a new script (python or bash)", code="missing"
            )
        version = tw.push_script(
            name,
            code,
            language=language,
            message=args.message,
            description=args.description,
            by=tw.actor,
        )
    print(f"{name}: version {version.version} ({version.sha256[:12]})")
    return 0


def _history(args: argparse.Namespace) -> int:
    with open_client(args) as tw:
        versions = tw.script_history(args.name)
    rows = [
        [str(v.version), when(v.created_at), v.author or "-", v.message or "-", v.sha256[:12]]
        for v in versions
    ]
    table(rows, ["VERSION", "CREATED", "AUTHOR", "MESSAGE", "SHA256"])
    return 0
