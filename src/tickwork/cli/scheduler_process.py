"""Where job bodies run under ``tickwork serve``.

The API server never runs job bodies: ``tickwork serve`` (API and scheduler) starts the
scheduler node as a child process, ``tickwork serve --no-api``, and supervises it (restarted
with backoff if it exits; ``/readyz`` answers 503 meanwhile). A job that crashes or corrupts
its process takes the scheduler child with it, never the API, and the API process holds no
job's code, imports or memory. ``--in-process`` (or ``TICKWORK_SCHEDULER_IN_PROCESS=1``) runs
the node inside the API server instead, for development.

A scheduler node whose loop, dispatcher, writer, watchman or executor timer thread dies stops
itself (exit status 3) so its runs are reaped and retried and its supervisor (this module,
systemd, Kubernetes) starts it again; a half-dead node would keep its heartbeat and its claims.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from tickwork.clock import us_to_datetime
from tickwork.engine.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_LOST,
    EVENT_JOB_MISSED,
    EVENT_JOB_SKIPPED,
    EventBus,
    JobExecutionEvent,
)

log = logging.getLogger("tickwork.serve")
IN_PROCESS_ENV = "TICKWORK_SCHEDULER_IN_PROCESS"
PARENT_PIPE_ENV = "TICKWORK_PARENT_PIPE"  # set for a supervised child: stdin closes with us
EVENT_FD_ENV = "TICKWORK_EVENT_FD"  # the child reports ended runs there (the API's /metrics)
_RELAYED = (
    EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED | EVENT_JOB_SKIPPED | EVENT_JOB_LOST
)
_RELAY_BACKLOG = 100_000  # events waiting for the pipe; beyond it they are dropped, never waited on
HEALTH_EVERY_S = 2.0
EXIT_BROKEN = 3  # a thread of the node died
EXIT_LOCKED = 4  # another scheduler node runs on this SQLite database
# Exit statuses of a child that a restart cannot help: bad configuration (2), the SQLite
# database taken by another scheduler (4). The API server stops with the same status.
FATAL = (2, EXIT_LOCKED)
_RESTART_MAX_S = 30.0


def in_process_requested() -> bool:
    return os.environ.get(IN_PROCESS_ENV, "").strip().lower() in ("1", "true", "yes", "on")


class SchedulerProcess:
    """A supervised ``tickwork serve --no-api`` child: started, restarted when it exits
    while we run, stopped (SIGTERM, then SIGKILL) when we stop."""

    def __init__(
        self,
        argv: Sequence[str],
        env: dict[str, str],
        grace_s: float = 60.0,
        bus: EventBus | None = None,
    ) -> None:
        self.argv = list(argv)
        self.env = {**env, PARENT_PIPE_ENV: "stdin"}
        self.grace_s = grace_s
        self.bus = bus  # the child's ended runs are published here (this process's metrics)
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._last_exit: int | None = None
        self._restarts = 0
        self.on_fatal: Callable[[int], None] = lambda code: None
        self._thread = threading.Thread(target=self._watch, name="tickwork-supervisor", daemon=True)

    @property
    def pid(self) -> int | None:
        proc = self._proc
        return None if proc is None else proc.pid

    def start(self) -> None:
        self._spawn()
        self._thread.start()

    def alive(self) -> bool:
        proc = self._proc
        return proc is not None and proc.poll() is None

    def describe(self) -> str:
        if self.alive():
            return f"runs (pid {self.pid})"
        return f"exited with status {self._last_exit}; restarting (restart {self._restarts})"

    def stop(self) -> None:
        self._stopping.set()
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(self.grace_s)
            except subprocess.TimeoutExpired:
                log.error("the scheduler process did not stop in %.0f s; killing it", self.grace_s)
                proc.kill()
                proc.wait()
        if proc.stdin is not None:
            proc.stdin.close()
        if self._thread.is_alive():
            self._thread.join(5)

    def _spawn(self) -> None:
        read_fd, write_fd = os.pipe()
        try:
            with self._lock:
                # stdin is a pipe we never write: the child sees EOF when we are gone.
                self._proc = subprocess.Popen(
                    self.argv,
                    env={**self.env, EVENT_FD_ENV: str(write_fd)},
                    stdin=subprocess.PIPE,
                    pass_fds=(write_fd,),
                )
        finally:
            os.close(write_fd)
        threading.Thread(
            target=self._relay_in, args=(read_fd,), name="tickwork-relay", daemon=True
        ).start()
        log.info("scheduler process started (pid %d)", self._proc.pid)

    def _relay_in(self, fd: int) -> None:
        """Publish the child's ended runs on our bus, until its end of the pipe closes."""
        with os.fdopen(fd, "rb") as pipe:
            for line in pipe:
                if self.bus is None:
                    continue
                try:
                    data = json.loads(line)
                    event = JobExecutionEvent(
                        code=int(data["code"]),
                        job_id=str(data["job_id"]),
                        run_id=int(data["run_id"]),
                        scheduled_run_time=us_to_datetime(int(data["at"])),
                        status=str(data["status"]),
                        error=data.get("error"),
                    )
                except (ValueError, KeyError, TypeError):
                    continue
                if self.bus.wants(event.code):
                    self.bus.publish(event)

    def _watch(self) -> None:
        delay = 1.0
        while not self._stopping.is_set():
            proc = self._proc
            if proc is None:
                return
            code = proc.wait()
            if self._stopping.is_set():
                return
            self._last_exit = code
            if code in FATAL:
                log.error("the scheduler process cannot run (status %s); stopping", code)
                self.on_fatal(code)
                return
            started = time.monotonic()
            log.error(
                "the scheduler process exited with status %s; restarting in %.0f s", code, delay
            )
            if proc.stdin is not None:
                proc.stdin.close()
            if self._stopping.wait(delay):
                return
            self._restarts += 1
            try:
                self._spawn()
            except OSError:
                log.exception("could not restart the scheduler process")
            # a child that ran for a while earns a fresh backoff
            delay = 1.0 if time.monotonic() - started > 60 else min(delay * 2, _RESTART_MAX_S)


def child_argv(args: Any) -> list[str]:
    """The command line of the scheduler child: the same store, files and options."""
    argv = [sys.executable, "-m", "tickwork.cli", "serve", "--no-api"]
    if args.database_url:
        argv += ["--database-url", args.database_url]
    if args.data_dir:
        argv += ["--data-dir", str(args.data_dir)]
    for path in args.jobs:
        argv += ["--jobs", str(path)]
    for folder in args.app_dir:  # resolved: the same folders whatever the child's cwd
        argv += ["--app-dir", str(Path(folder).resolve())]
    if args.demo:
        argv.append("--demo")
    if args.timezone:
        argv += ["--timezone", args.timezone]
    if args.quiet:
        argv.append("--quiet")
    return argv


def run_scheduler(tw: Any) -> int:
    """Run this process's scheduler node until SIGINT/SIGTERM, our parent's end (when
    supervised), or the death of one of its threads (exit status 3)."""
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    if os.environ.get(PARENT_PIPE_ENV) == "stdin":
        threading.Thread(target=_watch_parent, args=(stop,), daemon=True).start()
    if os.environ.get(EVENT_FD_ENV, "").isdigit():
        _relay_out(tw, int(os.environ[EVENT_FD_ENV]))
    from tickwork.engine.single_node_lock import SchedulerAlreadyRunning

    try:
        tw.start()
    except SchedulerAlreadyRunning as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_LOCKED
    for job in tw.get_jobs(limit=20):
        log.info("job %-20s %s; next run %s", job.id, job.trigger.describe("en"), job.next_run_time)
    status = 0
    try:
        while not stop.wait(HEALTH_EVERY_S):
            health = tw.node_health() or {}
            dead = sorted(name for name, alive in health.items() if not alive)
            if dead:
                log.error(
                    "the scheduler node's %s thread(s) died; stopping it so that its runs are "
                    "reaped and it is started again",
                    ", ".join(dead),
                )
                status = EXIT_BROKEN
                break
    finally:
        tw.shutdown(wait=True)
    return status


def _relay_out(tw: Any, fd: int) -> None:
    """Report ended runs to the API process through ``fd`` (JSON lines), from a thread of
    its own: the engine never waits on the pipe; a backlog beyond _RELAY_BACKLOG is dropped
    (they are metrics, and every run is in the database anyway)."""
    backlog: deque[bytes] = deque(maxlen=_RELAY_BACKLOG)
    ready = threading.Event()

    def queue(event: JobExecutionEvent) -> None:
        when: datetime = event.scheduled_run_time
        line = {
            "code": event.code,
            "job_id": event.job_id,
            "run_id": event.run_id,
            "at": int(when.timestamp() * 1_000_000),
            "status": event.status,
            "error": event.error,
        }
        backlog.append(json.dumps(line).encode() + b"\n")
        ready.set()

    def write() -> None:
        with os.fdopen(fd, "wb", buffering=0) as pipe:
            while True:
                ready.wait()
                ready.clear()
                while backlog:
                    try:
                        pipe.write(backlog.popleft())
                    except OSError:  # the API process is gone
                        return

    threading.Thread(target=write, name="tickwork-relay", daemon=True).start()
    tw.add_listener(queue, _RELAYED)


def _watch_parent(stop: threading.Event) -> None:
    try:
        while sys.stdin.buffer.read(4096):
            pass
    except (OSError, ValueError):
        pass
    log.info("the API process is gone; stopping the scheduler node")
    stop.set()
