"""Options every database-using command shares, and output helpers."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import tzinfo
from pathlib import Path
from typing import Any

from tickwork.clock import us_to_datetime
from tickwork.settings import Settings


def store_options() -> argparse.ArgumentParser:
    """A parent parser with --database-url and --data-dir (also TICKWORK_* variables)."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument(
        "--database-url",
        metavar="URL",
        help="sqlite:///file.db, postgresql://..., mysql://... (env TICKWORK_DATABASE_URL; "
        "default: SQLite in the data directory)",
    )
    parent.add_argument(
        "--data-dir",
        type=Path,
        metavar="DIR",
        help="where the default SQLite database lives (env TICKWORK_DATA_DIR)",
    )
    return parent


def settings_from(args: argparse.Namespace) -> Settings:
    return Settings.from_env().with_overrides(
        database_url=getattr(args, "database_url", None), data_dir=getattr(args, "data_dir", None)
    )


def open_client(args: argparse.Namespace) -> Any:
    """A Tickwork facade that does not run a scheduler node (client of the database)."""
    from tickwork.service import Tickwork

    tw = Tickwork(settings=settings_from(args), check_targets=False)
    tw.actor = f"cli:{tw.actor.removeprefix('local:')}"  # who the audit trail names
    return tw


def when(us: int | None, zone: tzinfo | None = None) -> str:
    if us is None:
        return "-"
    moment = us_to_datetime(us)
    return (moment.astimezone(zone) if zone else moment).isoformat(timespec="seconds")


def table(rows: Sequence[Sequence[str]], headers: Sequence[str]) -> None:
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    print(line.rstrip())
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def dump_json(value: Any) -> None:
    json.dump(value, sys.stdout, ensure_ascii=False, indent=2, default=str)
    print()
