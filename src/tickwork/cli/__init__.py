"""The ``tickwork`` command. Each subcommand group lives in its own module and registers itself."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from tickwork import __version__
from tickwork.errors import InvalidInput, TickworkError

# Each entry adds one subcommand group to the parser; its handlers return an exit status.
Registrar = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None]


def _registrars() -> list[Registrar]:
    from tickwork.cli import (
        alerts,  # issue 12
        connections,
        cron,
        db,
        export,
        forecast,
        groups,
        imports,
        jobs,
        runs,
        scripts,
        secrets,
        serve,
        templates,
        users,
        worker,  # issue 14: Celery
        workflows,
    )
    from tickwork.cli import builtins as builtins_cli

    return [
        serve.register,
        jobs.register,
        runs.register,
        cron.register,
        db.register,
        users.register,
        secrets.register,
        connections.register,
        scripts.register,
        # built-in maintenance jobs (issue 13)
        builtins_cli.register,
        imports.register,
        export.register,
        workflows.register,
        forecast.register,
        templates.register,
        groups.register,
        worker.register,
        alerts.register,
    ]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tickwork",
        description="Tickwork: scheduled tasks with exact cron, run history, API and console.",
    )
    parser.add_argument("--version", action="version", version=f"tickwork {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for register in _registrars():
        register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    from tickwork.cli.common import put_on_import_path

    put_on_import_path()  # the working directory, as `python -m` has it: users' job modules
    try:
        return handler(args)
    except InvalidInput as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except TickworkError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
