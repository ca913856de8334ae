"""``tickwork db upgrade|backup|restore``: the schema (every start migrates as well), and
backups of Tickwork's own tables (``tickwork.store.backup``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tickwork.cli.common import settings_from, store_options
from tickwork.store import Store


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    group = sub.add_parser("db", help="database schema, backup and restore")
    cmds = group.add_subparsers(dest="db_command", metavar="SUBCOMMAND", required=True)
    up = cmds.add_parser("upgrade", parents=[store_options()], help="apply migrations")
    up.set_defaults(handler=_upgrade)
    back = cmds.add_parser(
        "backup",
        parents=[store_options()],
        help="back up Tickwork's tables (SQLite: a SQLite file; others: a portable dump)",
    )
    back.add_argument("path", type=Path, metavar="PATH")
    back.add_argument(
        "--portable",
        action="store_true",
        help="write the portable JSON-lines dump from SQLite too (to move to another database)",
    )
    back.set_defaults(handler=_backup)
    rest = cmds.add_parser(
        "restore", parents=[store_options()], help="restore a backup into an empty database"
    )
    rest.add_argument("path", type=Path, metavar="PATH")
    rest.add_argument(
        "--stop-nodes",
        action="store_true",
        help="tell the nodes running on the target database to stop, then restore",
    )
    rest.set_defaults(handler=_restore)


def _upgrade(args: argparse.Namespace) -> int:
    store = Store(settings_from(args).effective_database_url)
    try:
        revision = store.upgrade()
        print(f"schema at revision {revision} on {store.db.display_url}")
    finally:
        store.close()
    return 0


def _backup(args: argparse.Namespace) -> int:
    from tickwork.store.backup import backup

    store = Store(settings_from(args).effective_database_url)
    try:
        store.upgrade()
        done = backup(store, args.path, portable=args.portable)
    finally:
        store.close()
    total = sum(done.counts.values())
    what = "SQLite backup" if done.kind == "sqlite" else "portable dump"
    print(f"{what} {done.path}: {total:,} rows, schema revision {done.revision}")
    return 0


def _restore(args: argparse.Namespace) -> int:
    from tickwork.clock import SystemClock
    from tickwork.store.backup import RestoreRefused, restore

    if not args.path.is_file():
        print(f"error: {args.path}: no such file", file=sys.stderr)
        return 2
    store = Store(settings_from(args).effective_database_url)
    try:
        done = restore(store, args.path, now_us=SystemClock().now_us(), stop_nodes=args.stop_nodes)
    except RestoreRefused as exc:
        print(f"error: {exc} (nothing was written)", file=sys.stderr)
        return 1
    finally:
        store.close()
    rows = ", ".join(f"{n} {t.removeprefix('tw_')}" for t, n in done.counts.items() if n)
    print(f"restored {args.path} into {store.db.display_url}: {rows}; counts verified")
    return 0
