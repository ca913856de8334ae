"""Database backup, as the ``db-backup`` template's shell job runs it.

The connection's fields come from the environment the shell kind gives the command
(``TW_CONN_<NAME>``, JSON): never from the command line, and the password is handed to the
dump tool the way it reads it without a command line either (``PGPASSWORD`` for pg_dump, a
private ``--defaults-extra-file`` for mysqldump / mariadb-dump). Each dump is written to a
temporary name, checked, then renamed, so a failed or half-written dump never counts as a
backup and never rotates a good one away.

* PostgreSQL: ``pg_dump -Fc``, checked by ``pg_restore --list`` (the archive's table of
  contents reads back);
* MySQL / MariaDB: ``mysqldump --single-transaction`` (``mariadb-dump`` where that is the
  tool), checked by the ``-- Dump completed`` trailer the tool writes only at a clean end;
* SQLite: the online backup API (``sqlite3.Connection.backup``), checked by
  ``PRAGMA integrity_check``.

Rotation keeps the ``keep`` newest backups of the connection and removes those older than
``max_age_s`` (0: no age limit); the newest is never removed. Times come from the caller
(``now``), so tests move them.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

SUFFIX = {"postgresql": ".dump", "mysql": ".sql", "sqlite": ".sqlite3"}
STAMP = "%Y%m%dT%H%M%SZ"


class BackupError(Exception):
    """The backup failed; the message says why (no secret in it)."""


@dataclass(frozen=True)
class Backup:
    path: Path
    size: int
    sha256: str
    removed: list[Path]


def dialect_of(url: str) -> str:
    backend = make_url(url).get_backend_name()
    if backend in ("postgresql", "postgres"):
        return "postgresql"
    if backend in ("mysql", "mariadb"):
        return "mysql"
    if backend == "sqlite":
        return "sqlite"
    raise BackupError(
        f"database {backend!r} cannot be backed up: PostgreSQL, MySQL/MariaDB, SQLite"
    )


def connection_fields(name: str, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The named connection's fields, from the variable the shell kind sets."""
    import json

    env = os.environ if environ is None else environ
    var = "TW_CONN_" + "".join(c if c.isalnum() else "_" for c in name).upper()
    raw = env.get(var)
    if raw is None:
        raise BackupError(f"connection {name!r} is not in the environment ({var}): "
                          "the job must name it in its connections")  # fmt: skip
    fields = json.loads(raw)
    if not isinstance(fields, dict) or not isinstance(fields.get("url"), str):
        raise BackupError(f"connection {name!r} is not a database connection")
    return fields


def prefix_of(name: str) -> str:
    return f"{name}-"


def backup(
    name: str,
    fields: Mapping[str, Any],
    directory: Path,
    *,
    now: datetime,
    keep: int,
    max_age_s: float,
    timeout_s: float | None = None,
) -> Backup:
    """Dump the connection's database into ``directory``, check it, then rotate."""
    url = make_url(str(fields["url"]))
    dialect = dialect_of(str(fields["url"]))
    directory.mkdir(parents=True, exist_ok=True)
    final = directory / f"{prefix_of(name)}{now.astimezone(UTC).strftime(STAMP)}{SUFFIX[dialect]}"
    if final.exists():
        raise BackupError(f"{final.name} exists already (two backups in one second)")
    fd, tmp_name = tempfile.mkstemp(prefix=".partial-", dir=directory)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        password = fields.get("password") or url.password
        if dialect == "postgresql":
            _pg_dump(url, None if password is None else str(password), tmp, timeout_s)
        elif dialect == "mysql":
            _mysqldump(url, None if password is None else str(password), tmp, timeout_s)
        else:
            _sqlite_backup(Path(url.database or ""), tmp)
        os.replace(tmp, final)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    digest = hashlib.sha256(final.read_bytes()).hexdigest()
    (final.parent / (final.name + ".sha256")).write_text(f"{digest}  {final.name}\n")
    removed = rotate(directory, name, keep=keep, max_age_s=max_age_s, now=now)
    return Backup(final, final.stat().st_size, digest, removed)


def _run(argv: list[str], env: dict[str, str], timeout_s: float | None, **kw: Any) -> str:
    try:
        done = subprocess.run(
            argv, env=env, timeout=timeout_s, capture_output=True, check=False, **kw
        )
    except FileNotFoundError:
        raise BackupError(f"{argv[0]} is not installed on this node") from None
    except subprocess.TimeoutExpired:
        raise BackupError(f"{argv[0]} took longer than {timeout_s} s") from None
    err = done.stderr.decode(errors="replace").strip() if isinstance(done.stderr, bytes) else ""
    if done.returncode != 0:
        raise BackupError(f"{Path(argv[0]).name} exited with {done.returncode}: {err[-2000:]}")
    out = done.stdout
    return out.decode(errors="replace") if isinstance(out, bytes) else ""


def _base_env() -> dict[str, str]:
    keep = ("PATH", "LANG", "LC_ALL", "HOME", "TMPDIR", "TZ")
    return {k: os.environ[k] for k in keep if k in os.environ}


def _pg_dump(url: Any, password: str | None, out: Path, timeout_s: float | None) -> None:
    env = _base_env()
    env.update({"PGHOST": url.host or "localhost", "PGDATABASE": url.database or ""})
    if url.port:
        env["PGPORT"] = str(url.port)
    if url.username:
        env["PGUSER"] = url.username
    if password is not None:
        env["PGPASSWORD"] = password  # read by libpq: never on a command line
    _run(["pg_dump", "-Fc", "--no-password", "-f", str(out)], env, timeout_s)
    listing = _run(["pg_restore", "--list", str(out)], _base_env(), timeout_s)
    if "Archive created at" not in listing:
        raise BackupError("the dump's table of contents does not read back (pg_restore --list)")


def mysql_dump_tool() -> str:
    for tool in ("mariadb-dump", "mysqldump"):
        if shutil.which(tool):
            return tool
    raise BackupError("neither mariadb-dump nor mysqldump is installed on this node")


def _mysqldump(url: Any, password: str | None, out: Path, timeout_s: float | None) -> None:
    lines = ["[client]", f"host={url.host or 'localhost'}"]
    if url.port:
        lines.append(f"port={url.port}")
    if url.username:
        lines.append(f"user={url.username}")
    if password is not None:
        lines.append(f"password={password}")
    with tempfile.TemporaryDirectory(prefix="tw-mysql-") as private:
        defaults = Path(private) / "client.cnf"
        fd = os.open(defaults, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write("\n".join(lines) + "\n")
        argv = [
            mysql_dump_tool(),
            f"--defaults-extra-file={defaults}",  # first: the password is read from it
            "--single-transaction",
            "--routines",
            "--triggers",
            "--events",
            "--skip-lock-tables",
            "--no-tablespaces",  # needs the PROCESS privilege, which a backup user lacks
            f"--result-file={out}",
            url.database or "",
        ]
        _run(argv, _base_env(), timeout_s)
    with out.open("rb") as fh:
        fh.seek(max(0, out.stat().st_size - 200))
        tail = fh.read()
    if b"-- Dump completed" not in tail:
        raise BackupError("the dump has no '-- Dump completed' trailer: it did not finish")


def _sqlite_backup(source: Path, out: Path) -> None:
    if not source.is_file():
        raise BackupError(f"the SQLite database {source} does not exist")
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(out)
        try:
            src.backup(dst)  # the online backup API: consistent while others write
            result = dst.execute("PRAGMA integrity_check").fetchone()
        finally:
            dst.close()
    finally:
        src.close()
    if not result or result[0] != "ok":
        raise BackupError(f"the copy fails PRAGMA integrity_check: {result}")


def backups(directory: Path, name: str) -> list[tuple[datetime, Path]]:
    """This connection's finished backups in ``directory``, oldest first (by the instant
    in their name)."""
    out = []
    prefix = prefix_of(name)
    for path in directory.iterdir() if directory.is_dir() else ():
        if not path.name.startswith(prefix) or path.suffix not in SUFFIX.values():
            continue
        stamp = path.name[len(prefix) :].removesuffix(path.suffix)
        try:
            at = datetime.strptime(stamp, STAMP).replace(tzinfo=UTC)
        except ValueError:
            continue  # another connection whose name starts like this one, or not ours
        out.append((at, path))
    return sorted(out)


def rotate(directory: Path, name: str, *, keep: int, max_age_s: float, now: datetime) -> list[Path]:
    """Remove this connection's backups beyond the ``keep`` newest and older than
    ``max_age_s`` (0: no age limit); never the newest. The removed files, oldest first."""
    found = backups(directory, name)
    removed = []
    for index, (at, path) in enumerate(found):
        newest_rank = len(found) - index  # 1: the newest
        too_many = newest_rank > max(keep, 1)
        too_old = max_age_s > 0 and (now - at).total_seconds() > max_age_s and newest_rank > 1
        if too_many or too_old:
            path.unlink()
            with contextlib.suppress(FileNotFoundError):
                (path.parent / (path.name + ".sha256")).unlink()
            removed.append(path)
    return removed
