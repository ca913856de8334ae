"""The facade built from Django's settings, and the Django database as Tickwork's store."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from tickwork.errors import InvalidInput
from tickwork.integrations.embedded import Embedded
from tickwork.service import Tickwork
from tickwork.settings import Settings

# Django's database backends -> SQLAlchemy dialects with the drivers Tickwork's extras install
_DIALECTS = {
    "django.db.backends.postgresql": "postgresql+psycopg",
    "django.db.backends.postgresql_psycopg2": "postgresql+psycopg",
    "django.db.backends.mysql": "mysql+pymysql",
    "django.db.backends.sqlite3": "sqlite",
}
SETTING_REF = "django.conf:settings.TICKWORK"  # its JOBS list, read as a job file
_KEYS = ("DATABASE", "TIMEZONE", "JOBS", "JOB_FILES", "APP", "DATA_DIR")

_lock = threading.Lock()
_process: dict[str, Any] = {}  # "facade": Tickwork, "embedded": Embedded (one per process)


def url_of_database(entry: Mapping[str, Any], alias: str = "default") -> str:
    """A SQLAlchemy URL for one entry of Django's DATABASES."""
    from sqlalchemy.engine import URL

    engine = str(entry.get("ENGINE", ""))
    dialect = _DIALECTS.get(engine)
    if dialect is None:
        raise InvalidInput(
            f"DATABASES.{alias}.ENGINE",
            f"{engine or '(empty)'} is not one Tickwork can share (PostgreSQL, MySQL/MariaDB, "
            "SQLite); give TICKWORK['DATABASE'] a SQLAlchemy URL instead",
        )
    name = str(entry.get("NAME") or "")
    if dialect == "sqlite":
        if not name or name == ":memory:" or name.startswith("file:"):
            raise InvalidInput(
                f"DATABASES.{alias}.NAME",
                "Tickwork shares a SQLite database only as a file path",
            )
        return f"sqlite:///{name}"
    port = entry.get("PORT")
    url = URL.create(
        dialect,
        username=entry.get("USER") or None,
        password=entry.get("PASSWORD") or None,
        host=entry.get("HOST") or "localhost",
        port=int(port) if port else None,
        database=name or None,
    )
    return url.render_as_string(hide_password=False)


def options() -> dict[str, Any]:
    from django.conf import settings  # type: ignore[import-untyped]

    raw = getattr(settings, "TICKWORK", {}) or {}
    if not isinstance(raw, Mapping):
        raise InvalidInput("TICKWORK", "must be a dict")
    for key in raw:
        if key not in _KEYS:
            raise InvalidInput(f"TICKWORK.{key}", f"is not a setting ({', '.join(_KEYS)})")
    return dict(raw)


def database_url(opts: Mapping[str, Any]) -> str:
    from django.conf import settings

    chosen = opts.get("DATABASE", "default")
    if isinstance(chosen, str) and "://" in chosen:
        return chosen
    databases = getattr(settings, "DATABASES", {})
    if chosen not in databases:
        raise InvalidInput("TICKWORK.DATABASE", f"{chosen!r} is not an alias of DATABASES")
    return url_of_database(databases[chosen], str(chosen))


def build() -> Tickwork:
    """A new facade from the TICKWORK setting (jobs declared, job files attached)."""
    from pathlib import Path

    from django.conf import settings

    opts = options()
    base = Settings.from_env().with_overrides(
        database_url=database_url(opts),
        data_dir=Path(opts["DATA_DIR"]) if opts.get("DATA_DIR") else None,
    )
    files = [str(p) for p in opts.get("JOB_FILES") or ()]
    if opts.get("JOBS"):
        # The JOBS list is synced like a job file (owned by the setting: read-only in the
        # console and the API, changed in settings.py); checked now, before anything starts.
        from tickwork.jobfiles import read_specs

        read_specs(SETTING_REF)
        files.append(SETTING_REF)
    return Tickwork(
        settings=base,
        timezone=opts.get("TIMEZONE") or getattr(settings, "TIME_ZONE", None) or None,
        app=str(opts.get("APP", "django")),
        job_files=files,
    )


def get_tickwork() -> Tickwork:
    """The process's facade (built on first use from the TICKWORK setting)."""
    with _lock:
        if "facade" not in _process:
            _process["facade"] = build()
        tw: Tickwork = _process["facade"]
        return tw


@contextmanager
def orm_ready() -> Iterator[None]:
    """Around each job: Django's stale connections closed before and after, as Django does
    around a request (a job that runs every hour must not meet a connection the server
    closed meanwhile)."""
    from django.db import close_old_connections  # type: ignore[import-untyped]

    close_old_connections()
    try:
        yield
    finally:
        close_old_connections()


def start(paused: bool = False) -> bool:
    """Run the scheduler node in this web worker if it is the host's elected one (call from
    wsgi.py or asgi.py after ``get_wsgi_application()``); True if it runs here."""
    tw = get_tickwork()
    with _lock:
        embedded: Embedded = _process.setdefault("embedded", Embedded(tw, call_context=orm_ready))
    return embedded.start(paused=paused)
