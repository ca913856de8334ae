"""A Tickwork scheduler embedded in a web application's processes: every worker gets a facade
(a client of the shared database: it reads and changes jobs), one worker per host runs the
scheduler node (``tickwork.integrations.election``). The Flask, FastAPI and Django
integrations are thin layers over this."""

from __future__ import annotations

import atexit
import logging
import os
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager

from tickwork.engine.single_node_lock import SchedulerAlreadyRunning
from tickwork.integrations.election import HostElection, election_enabled, lock_path
from tickwork.service import Tickwork
from tickwork.targets import python as python_target

log = logging.getLogger("tickwork.integrations")


class Embedded:
    """Start/stop of the scheduler node of one facade inside a web worker."""

    def __init__(
        self,
        tw: Tickwork,
        *,
        call_context: Callable[[], AbstractContextManager[object]] | None = None,
        retry_s: float | None = None,
    ) -> None:
        self.tw = tw
        self.call_context = call_context
        # how often a standing-by worker tries to take over (env TICKWORK_ELECTION_RETRY_S)
        self.retry_s = retry_s or float(os.environ.get("TICKWORK_ELECTION_RETRY_S") or 5.0)
        self.election: HostElection | None = None
        self._lock = threading.Lock()
        self._paused_start = False

    @property
    def running_here(self) -> bool:
        """True when this process runs the scheduler node."""
        return self.tw.running

    def start(self, paused: bool = False) -> bool:
        """Run the scheduler node here if this process wins the host's election (or the
        election is off: ``TICKWORK_ELECTION=off``); otherwise stand by and retry. Returns
        whether the node runs here now."""
        if self.call_context is not None:
            python_target.set_call_context(self.call_context)
        with self._lock:
            if self.election is not None or self.tw.running:
                return self.tw.running
            self._paused_start = paused
            if not election_enabled():
                self.tw.start(paused=paused)
                return True
            url = self.tw.settings.effective_database_url
            self.election = HostElection(lock_path(url), retry_s=self.retry_s)
            if self.election.try_acquire():
                try:
                    self._start_node()
                    return True
                except SchedulerAlreadyRunning as exc:
                    # A scheduler outside this app (`tickwork serve`) holds the SQLite file:
                    # stand by like the other workers, and take over if it stops.
                    log.info("pid %d stands by: %s", os.getpid(), exc)
                    self.election.release_lock()
                    self.election.campaign(self._start_node)
                    return False
            log.info(
                "pid %d stands by: process %s on this host runs the scheduler",
                os.getpid(),
                self.election.holder_pid(),
            )
            self.election.campaign(self._start_node)
            return False

    def _start_node(self) -> None:
        self.tw.start(paused=self._paused_start)
        # A web server's worker ends by exiting (gunicorn: SIGTERM, then sys.exit): the
        # node's threads are daemons, so without this the outcomes still in the writer's
        # batch were lost with the process and those runs ended `lost` later.
        atexit.register(self._shutdown_at_exit)
        log.info("scheduler node started in pid %d", os.getpid())

    def _shutdown_at_exit(self) -> None:
        try:
            self.shutdown(wait=True)
        except Exception as exc:  # the process is ending; say why the node did not stop
            log.warning("scheduler node did not shut down cleanly at exit: %s", exc)

    def shutdown(self, wait: bool = True) -> None:
        with self._lock:
            election, self.election = self.election, None
        if self.tw.running:
            self.tw.shutdown(wait=wait)
        if election is not None:
            election.release()
        if self.call_context is not None and python_target.current_call_context() is (
            self.call_context
        ):
            python_target.set_call_context(None)  # jobs of a later app must not get ours
