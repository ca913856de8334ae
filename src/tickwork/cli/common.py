"""Options every database-using command shares, and output helpers."""

from __future__ import annotations

import argparse
import json
import os
import sys
import unicodedata
from collections.abc import Sequence
from datetime import tzinfo
from pathlib import Path
from typing import Any, TextIO

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
        help="where the default SQLite database lives (env TICKWORK_DATA_DIR; default: "
        "./.tickwork when the working directory has one, else ~/.local/share/tickwork)",
    )
    return parent


def settings_from(args: argparse.Namespace) -> Settings:
    return Settings.from_env().with_overrides(
        database_url=getattr(args, "database_url", None), data_dir=getattr(args, "data_dir", None)
    )


def new_database_note(settings: Settings) -> str | None:
    """What to tell the user when opening ``settings``' database will create a new, empty
    SQLite file (a mistyped directory otherwise shows an empty list and says nothing)."""
    if settings.database_url is not None:
        return None
    path = settings.data_dir / "tickwork.db"
    if path.exists():
        return None
    return (
        f"note: created a new, empty database {path}\n"
        "  (no database was there; give --data-dir DIR or --database-url URL, or set "
        "TICKWORK_DATA_DIR, to use another)"
    )


def open_client(args: argparse.Namespace) -> Any:
    """A Tickwork facade that does not run a scheduler node (client of the database)."""
    from tickwork.service import Tickwork

    settings = settings_from(args)
    note = new_database_note(settings)
    tw = Tickwork(settings=settings, check_targets=False)
    if note:
        print(note, file=sys.stderr)
    tw.actor = f"cli:{tw.actor.removeprefix('local:')}"  # who the audit trail names
    return tw


def when(us: int | None, zone: tzinfo | None = None) -> str:
    if us is None:
        return "-"
    moment = us_to_datetime(us)
    return (moment.astimezone(zone) if zone else moment).isoformat(timespec="seconds")


def display_width(text: str) -> int:
    """Columns ``text`` takes in a terminal: East Asian wide and full-width characters take
    two, combining marks none."""
    width = 0
    for ch in text:
        if unicodedata.combining(ch):
            continue
        width += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return width


def pad(text: str, width: int) -> str:
    return text + " " * max(0, width - display_width(text))


def table(rows: Sequence[Sequence[str]], headers: Sequence[str]) -> None:
    widths = [display_width(h) for h in headers]
    for row in rows:
        widths = [max(w, display_width(c)) for w, c in zip(widths, row, strict=True)]
    line = "  ".join(pad(h, w) for h, w in zip(headers, widths, strict=True))
    print(line.rstrip())
    for row in rows:
        print("  ".join(pad(c, w) for c, w in zip(row, widths, strict=True)).rstrip())


def dump_json(value: Any) -> None:
    json.dump(value, sys.stdout, ensure_ascii=False, indent=2, default=str)
    print()


class Progress:
    """``label: done/total`` on stderr for long operations: rewritten in place on a terminal;
    elsewhere one line per step when TICKWORK_PROGRESS=1 (logs stay clean otherwise)."""

    def __init__(self, label: str, total: int, stream: TextIO | None = None) -> None:
        self.label = label
        self.total = total
        self.done = 0
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty()
        self.lines = not self.live and os.environ.get("TICKWORK_PROGRESS") == "1"

    def advance(self, n: int) -> None:
        self.done = min(self.total, self.done + n)
        text = f"{self.label}: {self.done:,}/{self.total:,}"
        if self.total:
            text += f" ({100 * self.done // self.total}%)"
        if self.live:
            self.stream.write("\r" + text)
            if self.done >= self.total:
                self.stream.write("\n")
        elif self.lines:
            self.stream.write(text + "\n")
        self.stream.flush()


def put_on_import_path(*folders: Path) -> list[str]:
    """Put ``folders`` (the working directory by default) first on the import path, as
    ``python -m`` and ``celery worker`` do, so jobs naming the user's modules resolve; child
    processes (the process executor, subprocesses) get them too."""
    paths = [str(p.resolve()) for p in (folders or (Path.cwd(),))]
    for path in reversed(paths):
        if path in sys.path:
            sys.path.remove(path)
        sys.path.insert(0, path)
    current = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    os.environ["PYTHONPATH"] = os.pathsep.join(dict.fromkeys([*paths, *current]))
    return paths
