"""``tickwork users create-admin|list|reset-password|disable|enable`` and ``tickwork init``:
accounts from the command line.

Whoever can run these can read the database, so they need no login; they are how the first
admin is made (there is no default password)."""

from __future__ import annotations

import argparse
import getpass
import sys

from tickwork.cli.common import open_client, settings_from, store_options, table, when
from tickwork.errors import InvalidInput


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    common = store_options()
    group = sub.add_parser("users", help="manage user accounts")
    cmds = group.add_subparsers(dest="users_command", metavar="SUBCOMMAND", required=True)

    admin = cmds.add_parser("create-admin", parents=[common], help="create an admin user")
    admin.add_argument("username", metavar="USERNAME")
    admin.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from standard input (otherwise: prompt twice)",
    )
    admin.set_defaults(handler=_create_admin)

    ls = cmds.add_parser("list", parents=[common], help="list users")
    ls.set_defaults(handler=_list)

    reset = cmds.add_parser(
        "reset-password",
        parents=[common],
        help="set a user's password (a lost admin password); their sessions end and their "
        "API tokens are revoked",
    )
    reset.add_argument("username", metavar="USERNAME")
    reset.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from standard input (otherwise: prompt twice)",
    )
    reset.set_defaults(handler=_reset_password)

    for name, helptext in (
        ("disable", "disable a user: their sessions end and their API tokens are revoked"),
        ("enable", "enable a disabled user (revoked tokens stay revoked)"),
    ):
        cmd = cmds.add_parser(name, parents=[common], help=helptext)
        cmd.add_argument("username", metavar="USERNAME")
        cmd.set_defaults(handler=_set_disabled, disable=name == "disable")

    init = sub.add_parser(
        "init", parents=[common], help="create the data directory, its secret key and the schema"
    )
    init.set_defaults(handler=_init)


def read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Repeat it: ") != first:
        raise InvalidInput("password", "the two passwords differ")
    return first


def _create_admin(args: argparse.Namespace) -> int:
    password = read_password(args.password_stdin)
    with open_client(args) as tw:
        user = tw.accounts.create_user(args.username, password, "admin", by=tw.actor)
    print(f"created admin {user.username!r}; log in at the console or POST /api/auth/login")
    return 0


def _reset_password(args: argparse.Namespace) -> int:
    password = read_password(args.password_stdin)
    with open_client(args) as tw:
        user = tw.accounts.reset_password(args.username, password, by=tw.actor)
    print(
        f"set a new password for {user.username!r}; their sessions ended and their API tokens "
        "were revoked"
    )
    return 0


def _set_disabled(args: argparse.Namespace) -> int:
    with open_client(args) as tw:
        user = tw.accounts.set_disabled(args.username, args.disable, by=tw.actor)
    state = "disabled (sessions ended, API tokens revoked)" if user.disabled else "enabled"
    print(f"{user.username!r} is {state}")
    return 0


def _list(args: argparse.Namespace) -> int:
    with open_client(args) as tw:
        users = tw.accounts.list_users()
    rows = [
        [u.username, u.role.value, "disabled" if u.disabled else "active", when(u.created_at)]
        for u in users
    ]
    table(rows, ["USERNAME", "ROLE", "STATE", "CREATED"])
    return 0


def _init(args: argparse.Namespace) -> int:
    from tickwork.accounts.keys import create_key_file

    settings = settings_from(args)
    path, created = create_key_file(settings.data_dir)
    print(f"{'created' if created else 'kept'} the secret key {path} (mode 0600)")
    with open_client(args) as tw:
        print(f"database ready: {tw.store.db.display_url}")
        if not tw.accounts.count_users():
            print("no users yet: create the first admin with `tickwork users create-admin NAME`")
    return 0
