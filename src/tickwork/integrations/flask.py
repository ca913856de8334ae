"""Flask integration, a drop-in for Flask-APScheduler::

    from tickwork.integrations.flask import APScheduler

    scheduler = APScheduler()
    app.config.from_object(Config())      # JOBS, SCHEDULER_TIMEZONE, SCHEDULER_JOBSTORES, ...
    scheduler.init_app(app)
    scheduler.start()                     # one scheduler per host, however many workers

Flask-APScheduler's configuration keys are read as they are: ``JOBS`` (its job dicts),
``SCHEDULER_JOBSTORES`` / ``SCHEDULER_EXECUTORS`` / ``SCHEDULER_JOB_DEFAULTS`` /
``SCHEDULER_TIMEZONE`` (APScheduler's constructor options, see
``tickwork.service.apscheduler_options``), ``SCHEDULER_API_ENABLED`` / ``SCHEDULER_API_PREFIX``
/ ``SCHEDULER_ENDPOINT_PREFIX`` (its REST routes, here behind Tickwork's API tokens), and
Tickwork's own ``TICKWORK_DATABASE_URL`` / ``TICKWORK_DATA_DIR``. Jobs run inside the app's
application context. ``flask tickwork ...`` lists and operates the jobs and runs a node.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from tickwork.errors import InvalidInput
from tickwork.integrations.embedded import Embedded
from tickwork.job import Job
from tickwork.service import Tickwork
from tickwork.settings import Settings

# Flask-APScheduler's keys; any other SCHEDULER_* key is refused (a typo would be ignored).
KNOWN_KEYS = (
    "SCHEDULER_JOBSTORES",
    "SCHEDULER_EXECUTORS",
    "SCHEDULER_JOB_DEFAULTS",
    "SCHEDULER_TIMEZONE",
    "SCHEDULER_API_ENABLED",
    "SCHEDULER_API_PREFIX",
    "SCHEDULER_ENDPOINT_PREFIX",
    "SCHEDULER_ALLOWED_HOSTS",
    "SCHEDULER_AUTH",
)


class APScheduler:
    """Flask-APScheduler's ``APScheduler`` extension, run by Tickwork (also importable as
    ``TickworkScheduler``)."""

    def __init__(self, app: Flask | None = None, *, tickwork: Tickwork | None = None) -> None:
        self.app: Flask | None = None
        self._tw = tickwork
        self._embedded: Embedded | None = None
        self._pending: list[tuple[Any, ...]] = []  # @task declarations before init_app
        self.api_enabled = False
        self.api_prefix = "/scheduler"
        self.endpoint_prefix = "scheduler."
        self.allowed_hosts: list[str] = ["*"]
        if app is not None:
            self.init_app(app)

    # -- set-up ------------------------------------------------------------------------------
    def init_app(self, app: Flask) -> None:
        """Read the configuration, declare ``JOBS``, register the API routes (if enabled)
        and the ``flask tickwork`` commands."""
        self.app = app
        config = app.config
        for key in config:
            if key.startswith("SCHEDULER_") and key not in KNOWN_KEYS:
                raise InvalidInput(key, f"is not a Flask-APScheduler setting ({_known()})")
        if config.get("SCHEDULER_AUTH") is not None:
            raise InvalidInput(
                "SCHEDULER_AUTH",
                "Tickwork's scheduler routes take Tickwork's API tokens (the console's account "
                "page, POST /api/tokens): leave SCHEDULER_AUTH out",
                code="unsupported_option",
            )
        if self._tw is None:
            settings = Settings.from_env().with_overrides(
                database_url=config.get("TICKWORK_DATABASE_URL"),
                data_dir=_path(config.get("TICKWORK_DATA_DIR")),
            )
            self._tw = Tickwork(
                settings=settings,
                timezone=config.get("SCHEDULER_TIMEZONE"),
                jobstores=config.get("SCHEDULER_JOBSTORES"),
                executors=config.get("SCHEDULER_EXECUTORS"),
                job_defaults=config.get("SCHEDULER_JOB_DEFAULTS"),
                app=config.get("TICKWORK_APP", app.name),
            )
        self._embedded = Embedded(self._tw, call_context=app.app_context)
        for index, job in enumerate(config.get("JOBS") or ()):
            if not isinstance(job, Mapping):
                raise InvalidInput(f"JOBS[{index}]", "must be a dict of add_job arguments")
            entry = dict(job)
            if "id" not in entry:
                raise InvalidInput(f"JOBS[{index}].id", "every job needs an id")
            self.add_job(entry.pop("id"), entry.pop("func", None), **entry)
        for args, kwargs in self._pending:
            self.tickwork.add_job(*args, **kwargs)
        self._pending.clear()
        self.api_enabled = bool(config.get("SCHEDULER_API_ENABLED", False))
        self.api_prefix = str(config.get("SCHEDULER_API_PREFIX", "/scheduler"))
        self.endpoint_prefix = str(config.get("SCHEDULER_ENDPOINT_PREFIX", "scheduler."))
        hosts = config.get("SCHEDULER_ALLOWED_HOSTS", ["*"])
        if isinstance(hosts, str) or not all(isinstance(h, str) for h in hosts):
            raise InvalidInput("SCHEDULER_ALLOWED_HOSTS", "must be a list of host names (or ['*'])")
        self.allowed_hosts = list(hosts)
        if self.api_enabled:
            from tickwork.integrations.flask_api import register_routes

            register_routes(self, app)
        from tickwork.integrations.flask_cli import command_group

        app.cli.add_command(command_group(self))
        app.extensions["tickwork"] = self

    @property
    def tickwork(self) -> Tickwork:
        """The Tickwork facade (every other call of Tickwork's Python API is there)."""
        if self._tw is None:
            raise RuntimeError("call init_app(app) first")
        return self._tw

    scheduler = tickwork  # Flask-APScheduler's name for the underlying scheduler

    # -- life cycle --------------------------------------------------------------------------
    def start(self, paused: bool = False) -> None:
        """Run the scheduler node in this process if it is the host's elected one; the other
        workers stand by (and take over if it dies). Every worker can read and change jobs."""
        if self._embedded is None:
            raise RuntimeError("call init_app(app) first")
        if "*" not in self.allowed_hosts and socket.gethostname() not in self.allowed_hosts:
            return  # Flask-APScheduler's SCHEDULER_ALLOWED_HOSTS: no scheduler on this host
        self._embedded.start(paused=paused)

    def shutdown(self, wait: bool = True) -> None:
        if self._embedded is not None:
            self._embedded.shutdown(wait=wait)

    @property
    def running(self) -> bool:
        """True when this process runs the scheduler node (another worker may run it)."""
        return self._embedded is not None and self._embedded.running_here

    @property
    def state(self) -> int:
        """APScheduler's state numbers: 0 stopped, 1 running, 2 paused."""
        if not self.running:
            return 0
        return 2 if self.tickwork.is_paused() else 1

    def pause(self) -> None:
        self.tickwork.pause()

    def resume(self) -> None:
        self.tickwork.resume()

    # -- jobs (Flask-APScheduler's signatures: the id comes first) ---------------------------
    def add_job(self, id: str, func: Any, **kwargs: Any) -> Job:
        kwargs.setdefault("replace_existing", True)
        return self.tickwork.add_job(func, id=id, **kwargs)

    def task(self, *args: Any, **kwargs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """``@scheduler.task("interval", id="x", seconds=30)``: declare the function as a job."""

        def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
            options = {"replace_existing": True, **kwargs}
            if self._tw is None:
                self._pending.append(((func, *args), options))
            else:
                self._tw.add_job(func, *args, **options)
            return func

        return decorate

    def get_job(self, id: str, jobstore: str | None = None) -> Job | None:
        return self.tickwork.get_job(id)

    def get_jobs(self, jobstore: str | None = None) -> list[Job]:
        return self.tickwork.get_jobs()

    def modify_job(self, id: str, jobstore: str | None = None, **changes: Any) -> Job:
        trigger = changes.pop("trigger", None)
        job = self.tickwork.modify_job(id, **changes) if changes else self.tickwork.get_job(id)
        if trigger is not None:
            return self.tickwork.reschedule_job(id, trigger)
        assert job is not None
        return job

    def pause_job(self, id: str, jobstore: str | None = None) -> Job:
        return self.tickwork.pause_job(id)

    def resume_job(self, id: str, jobstore: str | None = None) -> Job:
        return self.tickwork.resume_job(id)

    def run_job(self, id: str, jobstore: str | None = None) -> int:
        """Queue a run now (Tickwork records it; its id is returned)."""
        return self.tickwork.run_job(id)

    def remove_job(self, id: str, jobstore: str | None = None) -> None:
        self.tickwork.remove_job(id)

    delete_job = remove_job

    def remove_all_jobs(self, jobstore: str | None = None) -> None:
        self.tickwork.remove_all_jobs()

    delete_all_jobs = remove_all_jobs

    def add_listener(self, callback: Callable[..., Any], mask: int | None = None) -> None:
        if mask is None:
            self.tickwork.add_listener(callback)
        else:
            self.tickwork.add_listener(callback, mask)

    def remove_listener(self, callback: Callable[..., Any]) -> None:
        self.tickwork.remove_listener(callback)


TickworkScheduler = APScheduler


def _known() -> str:
    return ", ".join(KNOWN_KEYS)


def _path(value: Any) -> Path | None:
    return Path(os.fspath(value)) if value else None
