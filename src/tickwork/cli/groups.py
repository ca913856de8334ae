"""``tickwork groups list|show|add|grant|pause|resume|run``: groups of jobs from the command
line. Like ``tickwork users``, whoever can run these can read the database, so they act as
an admin (the audit names ``cli:<user>@<host>``)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from tickwork.accounts.access import GRANT_ROLES
from tickwork.accounts.records import Principal
from tickwork.accounts.roles import Role
from tickwork.cli.common import dump_json, open_client, store_options, table, when
from tickwork.errors import InvalidInput, NotFound
from tickwork.groups.model import DEFAULT_FIELDS


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    common = store_options()
    group = sub.add_parser("groups", help="groups of jobs: defaults, members, bulk actions")
    cmds = group.add_subparsers(dest="groups_command", metavar="SUBCOMMAND", required=True)

    ls = cmds.add_parser("list", parents=[common], help="list groups with their job counts")
    ls.add_argument("--json", action="store_true", help="print JSON")
    ls.set_defaults(handler=_list)

    show = cmds.add_parser("show", parents=[common], help="a group, its members and its jobs")
    show.add_argument("name", metavar="GROUP")
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(handler=_show)

    add = cmds.add_parser("add", parents=[common], help="declare a group")
    add.add_argument("name", metavar="GROUP")
    add.add_argument("--description", default="")
    add.add_argument("--owner", metavar="USERNAME", help="who answers for it (a user)")
    add.add_argument("--timezone", metavar="ZONE", help="for new jobs that name none")
    add.add_argument(
        "--default",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help=f"a default for new jobs of the group, repeatable; FIELD is one of "
        f"{', '.join(DEFAULT_FIELDS)}; VALUE is JSON or text (timeout_s=300)",
    )
    add.set_defaults(handler=_add)

    grant = cmds.add_parser(
        "grant",
        parents=[common],
        help="give a user a role in a group (it replaces their global role there; none hides "
        "the group from them)",
    )
    grant.add_argument("name", metavar="GROUP")
    grant.add_argument("username", metavar="USERNAME")
    grant.add_argument("role", metavar="ROLE", nargs="?", choices=GRANT_ROLES)
    grant.add_argument(
        "--revoke", action="store_true", help="take the grant away (the global role holds again)"
    )
    grant.set_defaults(handler=_grant)

    for name, helptext in (
        ("pause", "pause every job of a group"),
        ("resume", "resume every job of a group"),
        ("run", "run every job of a group now"),
    ):
        cmd = cmds.add_parser(name, parents=[common], help=helptext)
        cmd.add_argument("name", metavar="GROUP")
        cmd.add_argument(
            "--dry-run", action="store_true", help="only say how many jobs it would touch"
        )
        cmd.set_defaults(handler=_act, action=name)


def _as_admin(tw: Any) -> Principal:
    """The command line's principal: an admin named like the audit names the command."""
    return Principal(0, tw.actor, Role.ADMIN, via="cli")


def _list(args: argparse.Namespace) -> int:
    with open_client(args) as tw:
        groups = tw.list_groups()
    if args.json:
        dump_json([_summary(g) for g in groups])
        return 0
    rows = [
        [
            g.record.name,
            str(g.jobs),
            str(g.paused),
            g.record.timezone or "-",
            g.record.owner or "-",
            g.record.description.splitlines()[0][:60] if g.record.description else "",
        ]
        for g in groups
    ]
    table(rows, ["GROUP", "JOBS", "PAUSED", "TIMEZONE", "OWNER", "DESCRIPTION"])
    return 0


def _summary(g: Any) -> dict[str, Any]:
    return {
        **g.record.public(),
        "declared": g.record.declared,
        "jobs": g.jobs,
        "paused": g.paused,
    }


def _show(args: argparse.Namespace) -> int:
    with open_client(args) as tw:
        summary = tw.get_group(args.name)
        members = tw.accounts.group_members(args.name)
        jobs = tw.get_jobs(group=args.name)
    if args.json:
        dump_json({**_summary(summary), "members": members, "job_ids": [j.id for j in jobs]})
        return 0
    record = summary.record
    print(f"group        {record.name}{'' if record.declared else '  (only named by jobs)'}")
    print(f"description  {record.description or '-'}")
    print(f"owner        {record.owner or '-'}")
    print(f"timezone     {record.timezone or '-'}")
    defaults = ", ".join(f"{k}={v}" for k, v in sorted(record.defaults.items()))
    print(f"defaults     {defaults or '-'}")
    print(f"jobs         {summary.jobs} ({summary.paused} paused)")
    if record.declared:
        print(f"updated      {when(record.updated_at)} by {record.updated_by or '-'}")
    print()
    if members:
        table([[m["username"], m["role"]] for m in members], ["MEMBER", "ROLE"])
    else:
        print("no grants: every user has their global role in this group")
    if jobs:
        print()
        table(
            [[j.id, j.name, "paused" if j.paused else "active"] for j in jobs],
            ["JOB", "NAME", "STATE"],
        )
    return 0


def _parse_default(text: str) -> tuple[str, Any]:
    name, sep, raw = text.partition("=")
    if not sep or not name.strip():
        raise InvalidInput("--default", f"{text!r} is not FIELD=VALUE", code="bad_value")
    try:
        value = json.loads(raw)
    except ValueError:
        value = raw
    return name.strip(), value


def _add(args: argparse.Namespace) -> int:
    defaults = dict(_parse_default(item) for item in args.default)
    with open_client(args) as tw:
        record = tw.add_group(
            args.name,
            description=args.description,
            owner=args.owner,
            timezone=args.timezone,
            defaults=defaults,
            by=tw.actor,
        )
    print(f"declared group {record.name!r}")
    return 0


def _grant(args: argparse.Namespace) -> int:
    if args.revoke == (args.role is not None):
        raise InvalidInput("ROLE", f"give a ROLE ({', '.join(GRANT_ROLES)}) or --revoke")
    with open_client(args) as tw:
        user = tw.accounts.find_user(args.username)
        if user is None:
            raise NotFound("user", args.username)
        if args.revoke:
            tw.accounts.remove_grant(user.id, args.name, by=_as_admin(tw))
            print(f"{user.username!r} has their global role ({user.role.value}) in {args.name!r}")
        else:
            tw.accounts.set_grant(user.id, args.name, args.role, by=_as_admin(tw))
            print(f"{user.username!r} is {args.role} in group {args.name!r}")
    return 0


def _act(args: argparse.Namespace) -> int:
    with open_client(args) as tw:
        touch = tw.group_touch(args.name, args.action)
        verb = {"pause": "pause", "resume": "resume", "run": "run"}[args.action]
        if args.dry_run:
            print(
                f"would {verb} {touch.jobs} jobs of group {args.name!r} "
                f"({touch.changes} would change)"
            )
            return 0
        if args.action == "pause":
            tw.pause_group(args.name, by=tw.actor)
        elif args.action == "resume":
            tw.resume_group(args.name, by=tw.actor)
        else:
            run_ids = tw.run_group(args.name, by=tw.actor)
            print(f"queued {len(run_ids)} runs of group {args.name!r}: {run_ids}")
            return 0
    print(f"{verb}d {touch.jobs} jobs of group {args.name!r} ({touch.changes} changed)")
    return 0
