"""Read-only views the faces show: statistics, pages of jobs with their last runs, counts,
the backlog, this process's node; and the accounts service."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tickwork.errors import NotFound
from tickwork.service.base import FacadeBase
from tickwork.store import JobFilter
from tickwork.store.records import JobRecord, RunRecord


class QueriesMixin(FacadeBase):
    @property
    def accounts(self) -> Any:
        """Users, roles, API tokens, console sessions and login rate limits
        (``tickwork.accounts.Accounts``)."""
        if self._accounts is None:
            from tickwork.accounts import Accounts

            self._accounts = Accounts(self.store.db, self.clock, self.audit, self.settings)
        return self._accounts

    def stats(
        self,
        job_id: str | None = None,
        *,
        since: int | None = None,
        until: int | None = None,
        slow_s: float = 60.0,
        hidden_groups: frozenset[str] = frozenset(),
    ) -> Any:
        """Run statistics (count, success rate, duration min/avg/max/p95, last status, slow
        runs) over a window, for one job or all (``tickwork.stats``)."""
        from tickwork.stats import run_stats

        if job_id is not None:
            with self.store.db.read() as conn:
                if self.store.jobs.get(conn, job_id) is None:
                    raise NotFound("job", job_id)
        return run_stats(
            self.store.db,
            job_id=job_id,
            since=since,
            until=until,
            slow_s=slow_s,
            hidden_groups=hidden_groups,
        )

    def job_page(
        self,
        *,
        group: str | None = None,
        tag: str | None = None,
        state: str | None = None,
        text: str | None = None,
        after: str | None = None,
        limit: int = 100,
        sort: str = "id",
        after_key: tuple[Any, str] | None = None,
        hidden_groups: frozenset[str] = frozenset(),
    ) -> tuple[list[JobRecord], dict[str, RunRecord]]:
        """A page of stored jobs and the newest run of each, read in one transaction (what
        the API's job list shows). Ordered by ``sort`` (see ``JobRepo.page``); the cursor is
        ``after`` (an id) for the id order, ``after_key`` (sort value, id) for the others.
        Jobs of ``hidden_groups`` are left out (groups the caller may not see)."""
        from tickwork.stats import last_runs_in

        flt = JobFilter(group=group, tag=tag, state=state, text=text, hidden_groups=hidden_groups)
        with self.store.db.read() as conn:
            records = self.store.jobs.page(
                conn, flt, after_id=after, limit=limit, sort=sort, after=after_key
            )
            return records, last_runs_in(conn, [r.id for r in records])

    def last_runs(self, job_ids: Sequence[str]) -> dict[str, RunRecord]:
        """The newest run of each job (jobs without runs are left out)."""
        from tickwork.stats import last_runs

        return last_runs(self.store.db, job_ids)

    def job_counts(self) -> dict[str, int]:
        """Jobs by state: scheduled, paused, completed (and total)."""
        with self.store.db.read() as conn:
            counts = self.store.jobs.state_counts(conn)
        out = {k: int(counts.get(k, 0)) for k in ("scheduled", "paused", "completed")}
        out["total"] = sum(out.values())
        return out

    def backlog(self) -> dict[str, int]:
        """What is due now and not yet taken: jobs whose next fire has passed, and queued
        runs (manual runs, retries) waiting for a node."""
        from tickwork.stats import backlog

        return backlog(self.store.db, self.clock.now_us())

    def scheduler_here(self) -> dict[str, Any]:
        """This process's scheduler node: its id and whether its loop thread is alive; for an
        API-only node (``announce``), its id in the node table and no scheduler."""
        node = self.node
        if node is None:
            presence = self._presence
            node_id = presence.node_id if presence is not None else None
            return {"scheduler": False, "node_id": node_id, "loop_alive": None}
        return {"scheduler": True, "node_id": node.node_id, "loop_alive": node.loop.alive}

    def node_health(self) -> dict[str, bool] | None:
        """Which threads of this process's scheduler node are alive (None: no node runs)."""
        node = self.node
        if node is None or not node.started:
            return None
        return node.thread_health()

    def run_timings(self, run_ids: Sequence[int]) -> list[tuple[str, float | None, float | None]]:
        """(job id, duration, lateness) of runs, seconds; lateness = start - scheduled."""
        from tickwork.stats import run_timings

        return run_timings(self.store.db, run_ids)

    def ping(self) -> None:
        """Raise if the database does not answer."""
        from sqlalchemy import text

        with self.store.db.read() as conn:
            conn.execute(text("SELECT 1"))
