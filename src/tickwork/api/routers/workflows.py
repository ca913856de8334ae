"""/api/workflows: DAGs of jobs (define, read, remove: admins and viewers), their runs (run
now, rerun from the failed steps, cancel, pause, resume: operators); /api/jobs/{id}/then: a
job's then list (the two-level form)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from starlette.status import HTTP_201_CREATED, HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT

from tickwork.accounts.access import Action, check, role_in
from tickwork.accounts.records import Principal
from tickwork.accounts.roles import Role
from tickwork.api import schemas as s
from tickwork.api import schemas_workflows as w
from tickwork.api.access import job_for
from tickwork.api.atomic import atomic
from tickwork.api.convert import iso, iso_required
from tickwork.api.security import TW, Me, route
from tickwork.errors import NotFound
from tickwork.store.workflows_repo import StepRunRecord, WorkflowRecord, WorkflowRunRecord
from tickwork.workflows.files import split_trigger
from tickwork.workflows.spec import WorkflowSpec

router = APIRouter(tags=["workflows"])


def _steps(raw: Any) -> list[w.StepOut]:
    return [
        w.StepOut(
            id=st["id"],
            job=st["job"],
            after=[w.EdgeOut(step=e["step"], on=e.get("on", "success")) for e in st["after"]],
        )
        for st in raw
    ]


def workflow_out(r: WorkflowRecord) -> w.WorkflowOut:
    return w.WorkflowOut(
        id=r.id,
        name=r.name,
        description=r.description,
        steps=_steps(r.steps),
        trigger=r.trigger,
        timezone=r.timezone,
        deadline_s=r.deadline_s,
        paused=r.paused,
        next_fire_at=iso(r.next_fire_at),
        owner=r.owner,
        owner_ref=r.owner_ref,
        version=r.version,
        created_at=iso_required(r.created_at),
        created_by=r.created_by,
        updated_at=iso_required(r.updated_at),
        updated_by=r.updated_by,
    )


def _step_run(sr: StepRunRecord) -> w.StepRunOut:
    return w.StepRunOut(
        step=sr.step,
        job_id=sr.job_id,
        state=sr.state,
        run_id=sr.run_id,
        reason=sr.reason,
        carried=sr.carried,
        released_at=iso(sr.released_at),
        finished_at=iso(sr.finished_at),
    )


def workflow_run_out(r: WorkflowRunRecord) -> w.WorkflowRunOut:
    order = {st["id"]: i for i, st in enumerate(r.steps)}
    return w.WorkflowRunOut(
        id=r.id,
        workflow_id=r.workflow_id,
        scheduled_for=iso_required(r.scheduled_for),
        reason=r.reason,
        status=r.status,
        steps=_steps(r.steps),
        deadline_at=iso(r.deadline_at),
        rerun_of=r.rerun_of,
        triggered_by=r.triggered_by,
        created_at=iso_required(r.created_at),
        finished_at=iso(r.finished_at),
        error=r.error,
        step_runs=[_step_run(sr) for sr in sorted(r.step_runs, key=lambda x: order.get(x.step, 0))],
    )


def _spec(body: w.WorkflowIn) -> WorkflowSpec:
    trigger: Any = None
    args: dict[str, Any] = {}
    if body.trigger is not None:
        trigger, args = split_trigger("trigger", body.trigger)
    return WorkflowSpec(
        id=body.id,
        steps=[st.model_dump(exclude_none=True) for st in body.steps],
        name=body.name,
        description=body.description,
        trigger=trigger,
        trigger_args=args,
        timezone=body.timezone,
        deadline_s=body.deadline_s,
        paused=body.paused,
        owner="api",
    )


def _step_groups(tw: TW, jobs: list[str]) -> dict[str, str]:
    """Each existing step job's group (a job that does not exist is the save's to refuse)."""
    out = {}
    for job_id in jobs:
        job = tw.get_job(job_id)
        if job is not None and not job.pending:
            out[job_id] = job.record.group
    return out


def _jobs_of(steps: Any) -> list[str]:
    return [
        str((st.get("job") or st.get("id")) if isinstance(st, dict) else (st.job or st.id))
        for st in steps
    ]


def _may(me: Principal, tw: TW, steps: Any, action: Action | str) -> None:
    """A workflow acts on its steps' jobs: the caller needs ``action`` in every step job's
    group (group-scoped roles), so a workflow is no way round a group's grant."""
    for job_id, group in _step_groups(tw, _jobs_of(steps)).items():
        check(me, action, group, key=job_id)


def _sees(me: Principal, tw: TW, record: WorkflowRecord) -> bool:
    """A workflow with a step in a group hidden from the caller is hidden as a whole."""
    groups = _step_groups(tw, _jobs_of(record.steps)).values()
    return all(role_in(me, g) is not None for g in groups)


def _visible(me: Principal, tw: TW, workflow_id: str) -> WorkflowRecord:
    record = tw.get_workflow(workflow_id)
    if not _sees(me, tw, record):
        raise NotFound("workflow", workflow_id)
    return record


def _run_of(tw: TW, workflow_id: str, workflow_run_id: int) -> WorkflowRunRecord:
    wr = tw.get_workflow_run(workflow_run_id)
    if wr.workflow_id != workflow_id:
        raise NotFound("workflow run", workflow_run_id)
    return wr


@route(router, "GET", "/api/workflows", role=Role.VIEWER, response_model=w.WorkflowList)
def list_workflows(tw: TW, me: Me) -> w.WorkflowList:
    """Every workflow with its steps (but those with a step in a group hidden from you)."""
    return w.WorkflowList(items=[workflow_out(r) for r in tw.get_workflows() if _sees(me, tw, r)])


@route(
    router,
    "POST",
    "/api/workflows",
    role=Role.ADMIN,
    response_model=w.WorkflowOut,
    status_code=HTTP_201_CREATED,
)
@atomic
def create_workflow(tw: TW, me: Me, body: w.WorkflowIn, response: Response) -> w.WorkflowOut:
    """Define a workflow (409 if the id exists). Unknown steps, self-edges and cycles are
    refused naming the edge; every step's job must exist."""
    _may(me, tw, body.steps, "edit")
    record = tw.save_workflow(_spec(body), replace_existing=False, by=me.actor)
    response.headers["Location"] = f"/api/workflows/{record.id}"
    return workflow_out(record)


@route(
    router, "GET", "/api/workflows/{workflow_id}", role=Role.VIEWER, response_model=w.WorkflowOut
)
def get_workflow(tw: TW, me: Me, workflow_id: w.WorkflowIdPath) -> w.WorkflowOut:
    return workflow_out(_visible(me, tw, workflow_id))


@route(router, "PUT", "/api/workflows/{workflow_id}", role=Role.ADMIN, response_model=w.WorkflowOut)
@atomic
def replace_workflow(
    tw: TW, me: Me, workflow_id: w.WorkflowIdPath, body: w.WorkflowIn
) -> w.WorkflowOut:
    """Replace a workflow's definition (``version``: 409 if it changed since you read it).
    Workflow runs in progress keep the graph they started with."""
    if body.id != workflow_id:
        body = body.model_copy(update={"id": workflow_id})
    _may(me, tw, _visible(me, tw, workflow_id).steps, "edit")  # 404 first
    _may(me, tw, body.steps, "edit")
    record = tw.save_workflow(
        _spec(body),
        replace_existing=True,
        expected_version=body.version,
        by=me.actor,
    )
    return workflow_out(record)


@route(
    router,
    "DELETE",
    "/api/workflows/{workflow_id}",
    role=Role.ADMIN,
    status_code=HTTP_204_NO_CONTENT,
)
@atomic
def delete_workflow(tw: TW, me: Me, workflow_id: w.WorkflowIdPath) -> Response:
    """Remove a workflow; its workflow runs stay as history."""
    _may(me, tw, _visible(me, tw, workflow_id).steps, "edit")
    tw.remove_workflow(workflow_id, by=me.actor)
    return Response(status_code=HTTP_204_NO_CONTENT)


@route(
    router,
    "POST",
    "/api/workflows/{workflow_id}/run",
    role=Role.OPERATOR,
    response_model=w.WorkflowRunStarted,
    status_code=HTTP_202_ACCEPTED,
)
@atomic
def run_workflow(tw: TW, me: Me, workflow_id: w.WorkflowIdPath) -> w.WorkflowRunStarted:
    """Start a workflow run now; its steps run on the scheduler nodes."""
    _may(me, tw, _visible(me, tw, workflow_id).steps, "operate")
    wr_id = tw.run_workflow(workflow_id, by=me.actor)
    return w.WorkflowRunStarted(workflow_run_id=wr_id, workflow_id=workflow_id, status="running")


@route(
    router,
    "POST",
    "/api/workflows/{workflow_id}/pause",
    role=Role.OPERATOR,
    response_model=w.WorkflowOut,
)
@atomic
def pause_workflow(tw: TW, me: Me, workflow_id: w.WorkflowIdPath) -> w.WorkflowOut:
    """Stop the workflow's own trigger (runs in progress go on)."""
    _may(me, tw, _visible(me, tw, workflow_id).steps, "operate")
    return workflow_out(tw.pause_workflow(workflow_id, by=me.actor))


@route(
    router,
    "POST",
    "/api/workflows/{workflow_id}/resume",
    role=Role.OPERATOR,
    response_model=w.WorkflowOut,
)
@atomic
def resume_workflow(tw: TW, me: Me, workflow_id: w.WorkflowIdPath) -> w.WorkflowOut:
    _may(me, tw, _visible(me, tw, workflow_id).steps, "operate")
    return workflow_out(tw.resume_workflow(workflow_id, by=me.actor))


@route(
    router,
    "GET",
    "/api/workflows/{workflow_id}/runs",
    role=Role.VIEWER,
    response_model=w.WorkflowRunList,
)
def list_workflow_runs(
    tw: TW,
    me: Me,
    workflow_id: w.WorkflowIdPath,
    before: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> w.WorkflowRunList:
    """Workflow runs, newest first, each with its steps' states."""
    _visible(me, tw, workflow_id)
    runs = tw.get_workflow_runs(workflow_id, before=before, limit=limit)
    return w.WorkflowRunList(
        items=[workflow_run_out(r) for r in runs],
        next_before=runs[-1].id if len(runs) == limit else None,
    )


@route(
    router,
    "GET",
    "/api/workflows/{workflow_id}/runs/{workflow_run_id}",
    role=Role.VIEWER,
    response_model=w.WorkflowRunOut,
)
def get_workflow_run(
    tw: TW, me: Me, workflow_id: w.WorkflowIdPath, workflow_run_id: w.WorkflowRunIdPath
) -> w.WorkflowRunOut:
    _visible(me, tw, workflow_id)
    return workflow_run_out(_run_of(tw, workflow_id, workflow_run_id))


@route(
    router,
    "POST",
    "/api/workflows/{workflow_id}/runs/{workflow_run_id}/rerun",
    role=Role.OPERATOR,
    response_model=w.WorkflowRunStarted,
    status_code=HTTP_202_ACCEPTED,
)
@atomic
def rerun_workflow_run(
    tw: TW, me: Me, workflow_id: w.WorkflowIdPath, workflow_run_id: w.WorkflowRunIdPath
) -> w.WorkflowRunStarted:
    """Run an ended, unsuccessful workflow run again from its failed steps (a new workflow
    run; the steps that succeeded and nothing failed above keep their success)."""
    _may(me, tw, _run_of(tw, workflow_id, workflow_run_id).steps, "operate")
    wr_id = tw.rerun_workflow_run(workflow_run_id, by=me.actor)
    return w.WorkflowRunStarted(workflow_run_id=wr_id, workflow_id=workflow_id, status="running")


@route(
    router,
    "POST",
    "/api/workflows/{workflow_id}/runs/{workflow_run_id}/cancel",
    role=Role.OPERATOR,
    response_model=w.WorkflowRunOut,
)
@atomic
def cancel_workflow_run(
    tw: TW, me: Me, workflow_id: w.WorkflowIdPath, workflow_run_id: w.WorkflowRunIdPath
) -> w.WorkflowRunOut:
    """Cancel a running workflow run: waiting steps are skipped, running steps cancelled."""
    _may(me, tw, _visible(me, tw, workflow_id).steps, "operate")
    _run_of(tw, workflow_id, workflow_run_id)
    tw.cancel_workflow_run(workflow_run_id, by=me.actor)
    return workflow_run_out(tw.get_workflow_run(workflow_run_id))


@route(
    router,
    "GET",
    "/api/jobs/{job_id}/then",
    role=Role.VIEWER,
    grouped=True,
    response_model=w.ThenOut,
)
def get_then(tw: TW, me: Me, job_id: s.JobIdPath) -> w.ThenOut:
    """The jobs queued after each success of this one."""
    job_for(tw, me, job_id, "view")
    return w.ThenOut(job_id=job_id, then=tw.get_then(job_id))


@route(
    router, "PUT", "/api/jobs/{job_id}/then", role=Role.ADMIN, grouped=True,
    response_model=w.ThenOut,
)  # fmt: skip
@atomic
def put_then(tw: TW, me: Me, job_id: s.JobIdPath, body: w.ThenIn) -> w.ThenOut:
    """Set the jobs to run after each success of this one (unknown jobs, self-edges and
    cycles are refused naming the edge). Needs admin in the job's group and operator in
    each group of the jobs it queues."""
    job_for(tw, me, job_id, "edit")
    for then_id, group in _step_groups(tw, list(body.then)).items():
        check(me, "operate", group, key=then_id)
    return w.ThenOut(job_id=job_id, then=tw.set_then(job_id, body.then, by=me.actor))
