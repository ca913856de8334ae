"""``tickwork serve``: run a node: the REST API (and the console, when built) on --host/--port,
and, unless --no-scheduler, a scheduler node in a supervised child process (``--no-api``), so
the API server never runs job bodies (``tickwork.cli.scheduler_process``). ``--no-api`` runs
a scheduler node alone; ``--in-process`` keeps it inside the API server (development)."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import secrets
import signal
import sys
import threading
from collections.abc import Iterator
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import Any

from tickwork.cli.common import (
    new_database_note,
    put_on_import_path,
    settings_from,
    store_options,
)
from tickwork.engine.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_LOST,
    EVENT_JOB_MISSED,
    EVENT_JOB_SKIPPED,
)

log = logging.getLogger("tickwork.serve")
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = sub.add_parser(
        "serve", parents=[store_options()], help="run a node: the REST API and a scheduler"
    )
    serve.add_argument(
        "--jobs",
        action="append",
        default=[],
        metavar="FILE",
        help="a YAML/JSON job file to sync at start (repeatable; env TICKWORK_JOB_FILES)",
    )
    serve.add_argument("--demo", action="store_true", help="also load the demo jobs")
    serve.add_argument("--timezone", help="default zone of jobs (env TICKWORK_TIMEZONE)")
    serve.add_argument("--quiet", action="store_true", help="do not log every run or request")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="port to listen on (8080)")
    serve.add_argument(
        "--app-dir",
        action="append",
        default=[],
        type=Path,
        metavar="DIR",
        help="a folder to import job modules from, before the working directory (repeatable; "
        "the working directory is always on the import path; the scheduler process gets it)",
    )
    serve.add_argument(
        "--no-scheduler",
        action="store_true",
        help="serve the API only; scheduler nodes elsewhere run the jobs",
    )
    serve.add_argument(
        "--no-api",
        action="store_true",
        help="run a scheduler node only (no API, no secret key needed): a scheduler node of "
        "a deployment",
    )
    serve.add_argument(
        "--in-process",
        action="store_true",
        help="run the scheduler node inside the API server's process, so job bodies run in "
        "the server (development only; env TICKWORK_SCHEDULER_IN_PROCESS=1)",
    )
    serve.set_defaults(handler=_serve)


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from tickwork.accounts.keys import ENV, create_key_file
    from tickwork.api import ApiSettings, create_app
    from tickwork.cli import scheduler_process as sp
    from tickwork.errors import InvalidInput
    from tickwork.service import Tickwork

    if args.no_api and args.no_scheduler:
        print("error: --no-api and --no-scheduler leave nothing to run", file=sys.stderr)
        return 2
    in_process = args.in_process or sp.in_process_requested()
    not_dumpable()

    # This process is ours: a 1 ms GIL switch interval and a frozen start-up heap keep fires
    # on time (see NodeOptions).
    settings = settings_from(args).with_overrides(
        timezone=args.timezone, switch_interval_s=0.001, gc_freeze=True
    )
    if settings.retention is None:  # a deployment keeps its history bounded (docs/alerts.md)
        settings = replace(settings, retention=True)
    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    from tickwork.executors.capture import MaskRunSecrets

    for handler in logging.getLogger().handlers:  # runs' secrets stay out of the server log
        handler.addFilter(MaskRunSecrets())
    if args.demo and ENV not in os.environ:
        path, created = create_key_file(settings.data_dir)
        if created:
            log.info("demo: created the secret key %s (mode 0600)", path)
    for folder in args.app_dir:
        if not folder.is_dir():
            print(f"error: --app-dir: {folder} is not a directory", file=sys.stderr)
            return 2
    # Where job modules are imported from: here for --no-api and --in-process, and in the
    # scheduler child, which gets the same --app-dir folders and PYTHONPATH.
    import_path = put_on_import_path(*args.app_dir, Path.cwd())
    files = [Path(p) for p in args.jobs]
    if args.demo:
        files.append(Path(str(resources.files("tickwork.demo") / "jobs.yaml")))
    note = new_database_note(settings)
    if args.no_api:  # a scheduler node alone: no API, no accounts
        tw = Tickwork(settings=settings, job_files=[str(f) for f in files])
        if note:
            print(note, file=sys.stderr)
        tw.node_options = replace(tw.node_options, roles="scheduler")
        try:
            if not args.quiet:
                _log_runs(tw)
            log.info("database: %s", tw.store.db.display_url)
            _log_import_path(import_path)
            return sp.run_scheduler(tw)
        finally:
            tw.close()
    try:
        api_settings = ApiSettings.from_env(settings.data_dir)
    except InvalidInput as exc:
        print(
            f"error: {exc.reason}\n"
            f"  The API signs sessions and tokens with a secret key: run `tickwork init` "
            f"(creates {settings.data_dir / 'secret_key'}) or set {ENV} to 32+ random "
            "characters.",
            file=sys.stderr,
        )
        return 2
    # The API process syncs no job files and imports no job code: the scheduler node does.
    run_here = in_process and not args.no_scheduler
    tw = Tickwork(settings=settings, job_files=[str(f) for f in files] if run_here else [])
    if note:
        print(note, file=sys.stderr)
    # Every process is in the node table with its roles (the dashboard lists them).
    tw.node_options = replace(tw.node_options, roles="scheduler,api")
    child: sp.SchedulerProcess | None = None
    status: list[int] = []  # a fatal exit of the scheduler child stops the server with it
    try:
        _first_admin(tw, demo=args.demo, url=f"http://{args.host}:{args.port}/")
        if not args.quiet and run_here:
            _log_runs(tw)
        log.info("database: %s", tw.store.db.display_url)
        if run_here:
            _log_import_path(import_path)
            log.warning(
                "the scheduler node runs inside the API server (--in-process): job bodies run "
                "in this process; deploy API and scheduler nodes apart in production"
            )
            tw.start()
            for job in tw.get_jobs(limit=20):
                log.info(
                    "job %-20s %s; next run %s",
                    job.id,
                    job.trigger.describe("en"),
                    job.next_run_time,
                )
        if not run_here:
            tw.announce("api")  # an API node: it heartbeats, it schedules nothing
        app = create_app(tw, api_settings)
        if not args.no_scheduler and not run_here:
            if tw.store.db.sqlite_path is not None:
                # One scheduler per SQLite file: refuse now, as an in-process node would.
                from tickwork.engine.single_node_lock import SingleNodeLock

                probe = SingleNodeLock(tw.store.db.sqlite_path)
                probe.acquire()
                probe.release()
            child = sp.SchedulerProcess(sp.child_argv(args), dict(os.environ), bus=tw.bus)
            child.start()
            app.state.scheduler_process = child
        config = uvicorn.Config(
            app,
            host=args.host,
            port=args.port,
            log_config=None,
            access_log=not args.quiet,
            # X-Forwarded-* only from the configured proxies (none by default): any local
            # process could otherwise pose as any address to the login throttle.
            proxy_headers=bool(api_settings.trusted_proxies),
            forwarded_allow_ips=list(api_settings.trusted_proxies) or None,
            server_header=False,
        )
        role = (
            "API only"
            if args.no_scheduler
            else "API and scheduler in one process"
            if run_here
            else f"API; scheduler node in process {child.pid if child else '?'}"
        )
        log.info("serving (%s) on http://%s:%d/ ; Ctrl+C stops", role, args.host, args.port)
        server = _server_class()(config)
        if child is not None:

            def fatal(code: int) -> None:
                status.append(code)
                server.should_exit = True

            child.on_fatal = fatal
        server.run()
    finally:
        if child is not None:
            child.stop()
        tw.shutdown(wait=True)
        tw.close()
    return status[0] if status else 0


def _log_import_path(import_path: list[str]) -> None:
    log.info(
        "job modules are imported from: %s (then the installed packages)", ", ".join(import_path)
    )


def not_dumpable() -> None:
    """Make this process non-dumpable (Linux): its /proc/<pid>/environ (the secret key, the
    database URL), memory and file descriptors become root's only, so the commands of shell
    jobs and scripts, which run as the same user unless sandboxed, cannot read them; no core
    dump either. Inherited by the scheduler child until it execs, which sets it again."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE, 0
    except (OSError, AttributeError):
        logging.getLogger("tickwork.serve").warning("could not make the process non-dumpable")


def _log_runs(tw: Any) -> None:
    tw.add_listener(
        _log_run,
        EVENT_JOB_EXECUTED
        | EVENT_JOB_ERROR
        | EVENT_JOB_MISSED
        | EVENT_JOB_SKIPPED
        | EVENT_JOB_LOST,
    )


def _server_class() -> Any:
    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn's server, except that SIGINT/SIGTERM are not raised again once it has
        stopped (uvicorn does, which would kill the process before the scheduler node has
        handed back its claims and recorded what it cut off)."""

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            if threading.current_thread() is not threading.main_thread():
                yield
                return
            previous = {sig: signal.signal(sig, self.handle_exit) for sig in _STOP_SIGNALS}
            try:
                yield
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)

    return Server


def _first_admin(tw: Any, *, demo: bool, url: str) -> None:
    """No default password: the first admin comes from TICKWORK_ADMIN_USER/_PASSWORD (used
    only while no user exists), from `tickwork users create-admin`, or, for --demo on an
    empty database, is `admin` with a random password printed once here."""
    from tickwork.errors import Conflict, InvalidInput

    name = os.environ.get("TICKWORK_ADMIN_USER")
    password = os.environ.get("TICKWORK_ADMIN_PASSWORD")
    if name or password:
        if not (name and password):
            raise InvalidInput(
                "TICKWORK_ADMIN_USER", "set both TICKWORK_ADMIN_USER and TICKWORK_ADMIN_PASSWORD"
            )
        try:
            created = tw.accounts.create_user(name, password, "admin", by="env", only_if_none=True)
        except Conflict:  # another node starting at the same moment made it
            created = None
        if created is not None:
            log.info("created the first admin %r from TICKWORK_ADMIN_USER", created.username)
        return
    if tw.accounts.count_users():
        return
    if not demo:
        log.warning(
            "no users yet: create the first admin with `tickwork users create-admin NAME` "
            "(or set TICKWORK_ADMIN_USER and TICKWORK_ADMIN_PASSWORD before the first start)"
        )
        return
    password = secrets.token_urlsafe(12)
    if tw.accounts.create_user("admin", password, "admin", by="demo", only_if_none=True):
        # Printed, never logged: it appears once, on this terminal.
        print(
            f"\n  Tickwork demo: log in at {url} as  admin  with password  {password}\n"
            "  (shown only now; change it under your account, or create users with "
            "`tickwork users create-admin`)\n",
            file=sys.stderr,
            flush=True,
        )


def _log_run(event: Any) -> None:
    level = logging.INFO if event.status == "succeeded" else logging.WARNING
    detail = f": {event.error}" if event.error else ""
    log.log(level, "run %s of %s %s%s", event.run_id, event.job_id, event.status, detail)
