"""APScheduler 3's constructor options (``BackgroundScheduler(jobstores=..., executors=...,
job_defaults=..., timezone=..., daemon=...)``) in Tickwork's terms. What maps is accepted: one
SQLAlchemy job store (its URL becomes the database), thread/process pool sizes (the executors'
worker counts, and their aliases for ``add_job(executor=...)``), the asyncio executor, job
defaults. Anything else is refused with what to do instead. APScheduler is never imported: its
objects are recognised by class name and read through their public attributes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tickwork.errors import InvalidInput

JOB_DEFAULT_KEYS = ("misfire_grace_time", "coalesce", "max_instances")
_STORE_ALIASES = {
    "sqlalchemy": "sqlalchemy",
    "apscheduler.jobstores.sqlalchemy:sqlalchemyjobstore": "sqlalchemy",
    "memory": "memory",
    "apscheduler.jobstores.memory:memoryjobstore": "memory",
}
_EXECUTOR_KINDS = {
    "threadpool": "thread",
    "threadpoolexecutor": "thread",
    "processpool": "process",
    "processpoolexecutor": "process",
    "asyncio": "asyncio",
    "asyncioexecutor": "asyncio",
}
_ELSEWHERE = (
    "Tickwork keeps jobs in one SQL database (SQLite, PostgreSQL, MySQL/MariaDB): pass its URL "
    "as Tickwork('postgresql://...') or SQLAlchemyJobStore(url=...), or leave jobstores out "
    "for the SQLite file in the data directory"
)


@dataclass
class Translated:
    database_url: str | None = None
    workers: dict[str, int] = field(default_factory=dict)  # thread/process -> pool size
    executor_aliases: dict[str, str] = field(default_factory=dict)  # "processpool" -> "process"
    job_defaults: dict[str, Any] = field(default_factory=dict)


def translate(
    *,
    jobstores: Mapping[str, Any] | None,
    executors: Mapping[str, Any] | None,
    job_defaults: Mapping[str, Any] | None,
    daemon: bool | None = None,
    options: Mapping[str, Any] | None = None,
) -> Translated:
    out = Translated()
    if jobstores:
        out.database_url = _store_url(jobstores)
    for alias, executor in (executors or {}).items():
        kind, size = _executor(str(alias), executor)
        out.executor_aliases[str(alias)] = kind
        if size is not None and kind in ("thread", "process"):
            out.workers[kind] = max(size, out.workers.get(kind, 0))
    for key, value in (job_defaults or {}).items():
        if key not in JOB_DEFAULT_KEYS:
            raise InvalidInput(
                f"job_defaults.{key}",
                "is not an APScheduler job default (misfire_grace_time, coalesce, "
                "max_instances); give Tickwork's own options to add_job",
                code="unknown_option",
            )
        out.job_defaults[key] = value
    if daemon is False:
        raise InvalidInput(
            "daemon",
            "Tickwork's threads are daemon threads; to keep the process alive call "
            "tw.run_forever(), or tw.shutdown(wait=True) before exiting",
            code="unsupported_option",
        )
    for key in options or {}:
        raise InvalidInput(key, _OTHER_OPTIONS.get(key, _UNKNOWN), code="unsupported_option")
    return out


_UNKNOWN = "is not an option Tickwork takes (see docs/python-api.md, porting from APScheduler)"
_OTHER_OPTIONS = {
    "logger": "Tickwork logs to the 'tickwork' logger: configure logging.getLogger('tickwork')",
    "jobstore_retry_interval": "Tickwork's scheduler retries the database by itself; leave it out",
    "gconfig": "pass the options as keyword arguments (jobstores=, executors=, job_defaults=)",
    "prefix": "pass the options as keyword arguments (jobstores=, executors=, job_defaults=)",
    "event_loop": "Tickwork runs coroutine jobs on its own asyncio executor; use "
    "await tw.run_async() inside your loop",
}


def _class_key(obj: Any) -> str:
    cls = type(obj)
    return f"{cls.__module__}:{cls.__name__}".lower()


def _store_url(jobstores: Mapping[str, Any]) -> str:
    if len(jobstores) != 1:
        raise InvalidInput(
            "jobstores",
            f"{len(jobstores)} job stores given; Tickwork keeps every job in one database: "
            "give one (alias 'default')",
            code="unsupported_option",
        )
    alias, store = next(iter(jobstores.items()))
    where = f"jobstores.{alias}"
    if isinstance(store, Mapping):
        kind = str(store.get("type") or store.get("class") or "").lower()
        kind = _STORE_ALIASES.get(kind, kind)
        engine = store.get("engine")
        url = store.get("url")
    else:
        key = _class_key(store)
        kind = "sqlalchemy" if key.endswith(":sqlalchemyjobstore") else key
        kind = "memory" if key.endswith(":memoryjobstore") else kind
        engine = getattr(store, "engine", None)
        url = None
    if kind == "memory":
        raise InvalidInput(
            where,
            "Tickwork has no in-memory job store: every job and run is recorded in SQL. "
            "Leave jobstores out for the SQLite file in the data directory, or pass a "
            "database URL",
            code="unsupported_option",
        )
    if kind != "sqlalchemy":
        raise InvalidInput(
            where, f"{kind or type(store).__name__}: {_ELSEWHERE}", code="unsupported_option"
        )
    if engine is not None:
        url = engine.url.render_as_string(hide_password=False)
    if not isinstance(url, str) or not url:
        raise InvalidInput(where, "needs a url (or an engine)", code="required")
    return url


def _executor(alias: str, executor: Any) -> tuple[str, int | None]:
    where = f"executors.{alias}"
    if isinstance(executor, Mapping):
        name = str(executor.get("type") or executor.get("class") or "").lower()
        kind = _EXECUTOR_KINDS.get(name) or _EXECUTOR_KINDS.get(name.rsplit(":", 1)[-1])
        size = executor.get("max_workers", 10 if kind in ("thread", "process") else None)
    else:
        name = type(executor).__name__.lower()
        kind = _EXECUTOR_KINDS.get(name)
        pool = getattr(executor, "_pool", None)
        size = getattr(pool, "_max_workers", None)
    if kind is None:
        raise InvalidInput(
            where,
            f"{name or type(executor).__name__}: Tickwork runs jobs in a thread pool, a process "
            "pool or an asyncio loop; use ThreadPoolExecutor(n), ProcessPoolExecutor(n) or "
            "AsyncIOExecutor() (or {'type': 'threadpool', 'max_workers': n})",
            code="unsupported_option",
        )
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 1):
        raise InvalidInput(
            f"{where}.max_workers",
            f"must be a whole number >= 1, not {size!r}",
            code="expected_number_min",
            params={"value": repr(size), "min": 1},
        )
    return kind, size
