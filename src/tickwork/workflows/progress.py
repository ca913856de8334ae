"""Progression of workflow runs, in the database, inside the caller's transaction.

Every change of a workflow run happens with its row locked (``SELECT ... FOR UPDATE``; SQLite
has one writer anyway): the run hook that records a step's end, the release of the steps whose
upstream steps have all finished, the deadline, a cancel. Two nodes recording the ends of two
upstream steps of one fan-in step at once thus take turns, and the second sees the first's end:
the fan-in step is released once. A step ends once: its state leaves ``running`` with a
conditional update. Nothing is kept in memory, so a node that dies mid-workflow leaves nothing
behind: its runs end ``lost`` (or are handed back), and whichever node records that carries on.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from sqlalchemy import Connection

from tickwork.engine.hooks import RunEnded
from tickwork.engine.trigger_cache import fires_at
from tickwork.models import RunReason, RunStatus
from tickwork.store import Store
from tickwork.store.runs import NewRun
from tickwork.store.workflows_repo import StepRunRecord, WorkflowRunRecord
from tickwork.workflows.graph import (
    FAILED_STATES,
    FINAL_STATES,
    RUNNING,
    SKIPPED,
    SUCCEEDED,
    WAITING,
    Step,
    decide,
    descendants,
    steps_from_json,
    topological,
)

log = logging.getLogger("tickwork.workflows")
_REASON_MAX = 500


def _cut(text: str | None) -> str | None:
    return None if text is None else text[:_REASON_MAX]


def step_state_of(status: str) -> str:
    """A step's state from its run's final status. A run skipped by its job's concurrency
    policy did not do the step's work: the step failed (its reason says why)."""
    if status == RunStatus.SUCCEEDED.value:
        return SUCCEEDED
    if status == RunStatus.SKIPPED.value:
        return "failed"
    return status


class Progress:
    """Advances workflow runs; every method takes the caller's write transaction."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.repo = store.workflows

    # -- starting -----------------------------------------------------------------------------
    def start(
        self,
        conn: Connection,
        *,
        workflow_id: str,
        steps: Sequence[Mapping[str, object]],
        scheduled_for: int,
        reason: str,
        now: int,
        deadline_s: float | None,
        by: str | None,
        carried: Mapping[str, StepRunRecord] | None = None,
        rerun_of: int | None = None,
    ) -> int | None:
        """Record a workflow run (None: this fire is recorded already) and release its first
        steps. ``carried`` steps keep an earlier run's success (a rerun)."""
        wr_id = self.repo.insert_run(
            conn,
            {
                "workflow_id": workflow_id,
                "scheduled_for": scheduled_for,
                "reason": reason,
                "status": "running",
                "steps": list(steps),
                "deadline_at": None if deadline_s is None else now + round(deadline_s * 1e6),
                "rerun_of": rerun_of,
                "triggered_by": by,
                "created_at": now,
            },
        )
        if wr_id is None:
            return None
        carried = carried or {}
        rows: list[StepRunRecord] = []
        for step in steps_from_json(steps):
            kept = carried.get(step.id)
            if kept is not None:
                rows.append(
                    StepRunRecord(
                        wr_id,
                        step.id,
                        step.job,
                        SUCCEEDED,
                        run_id=kept.run_id,
                        scheduled_for=kept.scheduled_for,
                        reason=f"carried over from workflow run {kept.workflow_run_id}",
                        carried=True,
                        released_at=kept.released_at,
                        finished_at=kept.finished_at,
                    )
                )
            else:
                rows.append(StepRunRecord(wr_id, step.id, step.job, WAITING))
        self.repo.insert_steps(conn, rows)
        self.advance(conn, wr_id, now)
        return wr_id

    # -- the run hook -------------------------------------------------------------------------
    def on_ended(self, conn: Connection, ended: Sequence[RunEnded], now: int) -> bool:
        """Record the ends of step runs and release what follows; the jobs' ``then`` lists.
        Returns whether runs were queued (the node's loop should look)."""
        final = [e for e in ended if e.final or e.status == RunStatus.SUCCEEDED.value]
        if not final:
            return False
        queued = self._then(conn, [e for e in final if e.status == RunStatus.SUCCEEDED.value], now)
        by_fire = {(e.job_id, e.scheduled_for): e for e in final}
        steps = self.repo.running_steps_of_fires(conn, by_fire)
        for wr_id in sorted({s.workflow_run_id for s in steps}):
            wr = self.repo.get_run(conn, wr_id, for_update=True)
            if wr is None:
                continue
            for s in wr.step_runs:
                e = by_fire.get((s.job_id, s.scheduled_for or -1))
                if e is None or s.state != RUNNING:
                    continue
                state = step_state_of(e.status)
                self.repo.set_step(
                    conn,
                    wr_id,
                    s.step,
                    RUNNING,
                    state=state,
                    finished_at=e.finished_at or now,
                    reason=_cut(e.error) if state != SUCCEEDED else None,
                )
            queued = self.advance(conn, wr_id, now) or queued
        return queued

    def _then(self, conn: Connection, succeeded: Sequence[RunEnded], now: int) -> bool:
        """A job's ``then`` list: a success of the job queues a run of each (xxl-job's child
        jobs; a two-level workflow)."""
        if not succeeded:
            return False
        then = self.repo.then_of(conn, {e.job_id for e in succeeded})
        queued = False
        for e in succeeded:
            for next_job in then.get(e.job_id, ()):
                then_job = self.store.jobs.get(conn, next_job)
                if then_job is None:
                    log.warning("job %r: its then job %r no longer exists", e.job_id, next_job)
                    continue
                self.store.runs.insert_one(
                    conn,
                    NewRun(
                        job_id=next_job,
                        scheduled_for=now,
                        due_at=now,
                        reason=RunReason.DEPENDENCY.value,
                        status=RunStatus.SCHEDULED.value,
                        triggered_by=f"then of run {e.run_id}"[:100],
                    ),
                    now,
                    keep_due=True,
                    avoid=fires_at(then_job.trigger),
                )
                queued = True
        return queued

    # -- releasing ----------------------------------------------------------------------------
    def advance(self, conn: Connection, wr_id: int, now: int) -> bool:
        """Release the steps of a workflow run whose upstream steps have all finished with
        their conditions holding, skip those whose conditions can no longer hold, and end the
        workflow run when every step has ended. The caller has locked it (or just made it)."""
        wr = self.repo.get_run(conn, wr_id, for_update=True)
        if wr is None or wr.status != "running":
            return False
        steps = steps_from_json(wr.steps)
        states = {s.step: s.state for s in wr.step_runs}
        queued = False
        for step in topological(steps):
            if states.get(step.id) != WAITING:
                continue
            verdict, why = decide(step, states)
            if verdict == "wait":
                continue
            if verdict == "skip":
                self.repo.set_step(
                    conn, wr_id, step.id, WAITING, state=SKIPPED, reason=why, finished_at=now
                )
                states[step.id] = SKIPPED
                continue
            states[step.id] = self._release(conn, wr, step, now)
            queued = queued or states[step.id] == RUNNING
        if all(states.get(s.id) in FINAL_STATES for s in steps):
            failed = sorted(s for s, st in states.items() if st in FAILED_STATES)
            status = "failed" if failed else "succeeded"
            error = f"failed steps: {', '.join(failed)}"[:_REASON_MAX] if failed else None
            self.repo.finish_run(conn, wr_id, status, now, error)
        return queued

    def _release(self, conn: Connection, wr: WorkflowRunRecord, step: Step, now: int) -> str:
        step_job = self.store.jobs.get(conn, step.job)
        if step_job is None:
            self.repo.set_step(
                conn,
                wr.id,
                step.id,
                WAITING,
                state="failed",
                reason=f"job {step.job!r} does not exist",
                finished_at=now,
            )
            return "failed"
        run_id = self.store.runs.insert_one(
            conn,
            NewRun(
                job_id=step.job,
                scheduled_for=now,
                due_at=now,
                reason=RunReason.DEPENDENCY.value,
                status=RunStatus.SCHEDULED.value,
                triggered_by=f"workflow {wr.workflow_id} run {wr.id}"[:100],
            ),
            now,
            keep_due=True,
            avoid=fires_at(step_job.trigger),
        )
        record = self.store.runs.get(conn, run_id)
        assert record is not None
        self.repo.set_step(
            conn,
            wr.id,
            step.id,
            WAITING,
            state=RUNNING,
            run_id=run_id,
            scheduled_for=record.scheduled_for,
            released_at=now,
        )
        return RUNNING

    # -- ending early -------------------------------------------------------------------------
    def stop(self, conn: Connection, wr_id: int, status: str, why: str, now: int) -> bool:
        """End a running workflow run early (deadline, cancel): waiting steps are skipped with
        ``why``; runs of running steps are cancelled (a queued one at once, a running one by
        its node, whose outcome then ends the step)."""
        wr = self.repo.get_run(conn, wr_id, for_update=True)
        if wr is None or wr.status != "running":
            return False
        for s in wr.step_runs:
            if s.state == WAITING:
                self.repo.set_step(
                    conn, wr_id, s.step, WAITING, state=SKIPPED, reason=why, finished_at=now
                )
            elif s.state == RUNNING and s.scheduled_for is not None:
                for run_id in self.repo.active_attempts(conn, s.job_id, s.scheduled_for):
                    after = self.store.runs.request_cancel(conn, run_id, now, f"cancelled: {why}")
                    if after == RunStatus.CANCELLED.value:
                        self.repo.set_step(
                            conn,
                            wr_id,
                            s.step,
                            RUNNING,
                            state="cancelled",
                            reason=f"cancelled: {why}",
                            finished_at=now,
                        )
        self.repo.finish_run(conn, wr_id, status, now, why)
        return True

    def expire(self, conn: Connection, now: int) -> int:
        """Stop the workflow runs whose deadline has passed; returns how many."""
        count = 0
        for wr_id in self.repo.expired(conn, now):
            wr = self.repo.get_run(conn, wr_id, steps=False)
            if wr is None or wr.deadline_at is None:
                continue
            seconds = (wr.deadline_at - wr.created_at) / 1e6
            if self.stop(conn, wr_id, "timed_out", f"deadline passed ({seconds:g} s)", now):
                count += 1
        return count

    # -- rerunning ----------------------------------------------------------------------------
    @staticmethod
    def rerun_plan(wr: WorkflowRunRecord) -> tuple[dict[str, StepRunRecord], set[str]]:
        """A rerun of an ended workflow run: the steps that did not succeed and every step
        downstream of them run again; the other successes are carried over."""
        steps = steps_from_json(wr.steps)
        by_step = {s.step: s for s in wr.step_runs}
        again = descendants(steps, [s.id for s in steps if by_step[s.id].state != SUCCEEDED])
        carried = {s: r for s, r in by_step.items() if s not in again}
        return carried, again
