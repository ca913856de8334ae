"""Object-level checks of the API: every route that touches a job checks the caller's role in
the job's group (``tickwork.accounts.access``), after the route's gate let them in.

A job in a group hidden from the caller answers 404, exactly as a job that does not exist; a
visible one with too low a role 403 ``group_role_required``. A run belongs to its job's group;
the runs of a deleted job fall back to the caller's global role."""

from __future__ import annotations

from tickwork.accounts.access import Action, action_of, check, hidden_groups
from tickwork.accounts.errors import PermissionDenied
from tickwork.accounts.records import Principal
from tickwork.errors import NotFound
from tickwork.service import Tickwork
from tickwork.store.records import JobRecord, RunRecord


def job_for(tw: Tickwork, me: Principal, job_id: str, action: Action | str) -> JobRecord:
    """The stored job, if ``me`` may do ``action`` to it."""
    job = tw.get_job(job_id)
    if job is None or job.pending:
        raise NotFound("job", job_id)
    check(me, action, job.record.group, key=job_id)
    return job.record


def run_for(tw: Tickwork, me: Principal, run_id: int, action: Action | str) -> RunRecord:
    """The run, if ``me`` may do ``action`` to runs of its job's group."""
    record = tw.get_run(run_id)
    job = tw.get_job(record.job_id)
    if job is not None and not job.pending:
        check(me, action, job.record.group, kind="run", key=run_id)
        return record
    needed = action_of(action).needs
    if not me.role.covers(needed):
        raise PermissionDenied(
            f"this needs the {needed.value} role; you act as {me.role.value}",
            code="role_required",
            params={"role": needed.value, "actual": me.role.value},
        )
    return record


def group_for(me: Principal, group: str, action: Action | str) -> None:
    """Refuse unless ``me`` may do ``action`` to group ``group`` (404 when it is hidden)."""
    check(me, action, group, kind="group", key=group)


def hidden(me: Principal) -> frozenset[str]:
    """Groups whose jobs and runs list filters leave out for ``me``."""
    return hidden_groups(me)


def visible_job_ids(tw: Tickwork, me: Principal, ids: list[str]) -> list[str]:
    """``ids`` without the jobs of groups hidden from ``me`` (what a connection or a script
    lists as its users)."""
    groups = hidden_groups(me)
    if not groups or not ids:
        return ids
    from tickwork.store import JobFilter

    with tw.store.db.read() as conn:
        out = set()
        for group in groups:
            out |= set(tw.store.jobs.ids(conn, JobFilter(group=group)))
    return [i for i in ids if i not in out]
