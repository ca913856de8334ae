"""``tickwork db upgrade``: apply schema migrations (every start does it as well)."""

from __future__ import annotations

import argparse

from tickwork.cli.common import settings_from, store_options
from tickwork.store import Store


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    group = sub.add_parser("db", help="database schema")
    cmds = group.add_subparsers(dest="db_command", metavar="SUBCOMMAND", required=True)
    up = cmds.add_parser("upgrade", parents=[store_options()], help="apply migrations")
    up.set_defaults(handler=_upgrade)


def _upgrade(args: argparse.Namespace) -> int:
    store = Store(settings_from(args).effective_database_url)
    try:
        revision = store.upgrade()
        print(f"schema at revision {revision} on {store.db.display_url}")
    finally:
        store.close()
    return 0
