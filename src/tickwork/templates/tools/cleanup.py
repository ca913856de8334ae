"""Log cleanup, as the ``log-cleanup`` template's shell job runs it: remove the files that
match a glob in a directory inside an allowed root and are older than an age.

Confined to the root: the directory and every match are resolved (symbolic links followed)
and must stay inside the root's real path, or the cleanup refuses (the directory) or leaves
the file alone and says so (a match). A symbolic link that matches is removed as a link (what
it points to is never touched), and only when the link itself lies inside the root. Only
regular files and links are removed, never directories. A dry run lists what would go.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path


class CleanupRefused(Exception):
    """The cleanup would leave its root; nothing was removed."""


@dataclass
class Cleanup:
    removed: list[Path] = field(default_factory=list)  # or, in a dry run, would be
    kept_young: int = 0
    outside: list[Path] = field(default_factory=list)  # matches that resolve outside the root
    bytes: int = 0


def inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def check_pattern(pattern: str) -> str:
    parts = Path(pattern).parts
    if not pattern or Path(pattern).is_absolute() or ".." in parts:
        raise CleanupRefused(f"the glob {pattern!r} must be relative and without '..'")
    return pattern


def cleanup(
    root: Path, directory: Path, pattern: str, *, older_than_s: float, now_s: float, dry_run: bool
) -> Cleanup:
    real_root = root.resolve(strict=True)
    if not directory.is_absolute():
        directory = root / directory
    real_dir = directory.resolve(strict=True)
    if not inside(real_dir, real_root):
        raise CleanupRefused(f"{directory} resolves to {real_dir}, outside the root {real_root}")
    check_pattern(pattern)
    out = Cleanup()
    for match in sorted(real_dir.glob(pattern)):
        try:
            info = match.lstat()
        except FileNotFoundError:
            continue
        if not (stat.S_ISREG(info.st_mode) or stat.S_ISLNK(info.st_mode)):
            continue
        # The place of the entry itself (its parent resolved): a match reached through a
        # linked directory that leads out of the root is refused.
        where = match.parent.resolve() / match.name
        if not inside(where, real_root):
            out.outside.append(match)
            continue
        if not stat.S_ISLNK(info.st_mode) and not inside(match.resolve(), real_root):
            out.outside.append(match)
            continue
        if now_s - info.st_mtime <= older_than_s:
            out.kept_young += 1
            continue
        out.removed.append(match)
        out.bytes += info.st_size
        if not dry_run:
            os.unlink(match)  # a link goes as a link; its target stays
    return out
