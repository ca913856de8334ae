"""/api/jobs: list, create, read, replace, change, delete, pause, resume, run now, stats,
history. Each route checks the caller's role in the job's group (``tickwork.api.access``);
the list leaves out the groups hidden from the caller."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Query, Response
from pydantic import AwareDatetime
from starlette.status import HTTP_201_CREATED, HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT

from tickwork.accounts.access import Action, check
from tickwork.accounts.errors import PermissionDenied
from tickwork.accounts.records import Principal
from tickwork.accounts.roles import Role
from tickwork.api import convert
from tickwork.api import schemas as s
from tickwork.api.access import hidden, job_for
from tickwork.api.atomic import atomic
from tickwork.api.schemas_groups import with_group_defaults
from tickwork.api.security import TW, Me, route
from tickwork.audit import AuditFilter
from tickwork.errors import InvalidInput
from tickwork.groups.model import DEFAULT_GROUP
from tickwork.jobspec import JobSpec
from tickwork.service import Tickwork
from tickwork.store.records import JobRecord
from tickwork.targets import kinds
from tickwork.triggers.zones import resolve_tz

router = APIRouter(tags=["jobs"])


def _one(tw: Tickwork, record: JobRecord, response: Response | None = None) -> s.JobOut:
    if response is not None:
        response.headers["ETag"] = f'"{record.version}"'
    return convert.job_out(record, tw.last_runs([record.id]).get(record.id))


def _check_kind_role(me: Principal, fields: dict[str, Any]) -> None:
    """Jobs that run commands or code (shell, script) are created and changed by global
    admins only: a group admin defines the other kinds of jobs in their group, but a command
    on the scheduler's hosts is no group's to give."""
    target = fields.get("target")
    if isinstance(target, dict) and target.get("kind", "python") != "python":
        kind = kinds.get(str(target["kind"]))
        if kind.runs_code and not me.role.covers(Role.ADMIN):
            raise PermissionDenied(
                f"{kind.name} jobs are created and changed by admins only",
                code="admin_only_kind",
                params={"kind": kind.name},
            )


def _check_zone(name: str | None) -> None:
    if name is not None:
        resolve_tz(name, "timezone")


def _expected_version(if_match: str | None, body_version: int | None) -> int | None:
    if if_match is not None:
        text = if_match.strip().removeprefix("W/").strip('"')
        if not text.isdigit():
            raise InvalidInput("If-Match", 'must be the job\'s ETag, e.g. "3"', code="bad_if_match")
        value = int(text)
        if body_version is not None and body_version != value:
            raise InvalidInput("version", "differs from If-Match", code="version_mismatch")
        return value
    return body_version


@route(router, "GET", "/api/jobs", role=Role.VIEWER, grouped=True, response_model=s.JobPage)
def list_jobs(
    tw: TW,
    me: Me,
    group: Annotated[str | None, Query(max_length=100)] = None,
    tag: Annotated[str | None, Query(max_length=100)] = None,
    state: Annotated[s.JobState | None, Query()] = None,
    text: Annotated[str | None, Query(max_length=200, description="in id or name")] = None,
    cursor: Annotated[str | None, Query(max_length=400)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    sort: Annotated[s.JobSort, Query(description="order; '-' reverses")] = "id",
) -> Response:
    """Jobs in ``sort`` order (id by default), a page at a time (pass ``next_cursor`` back as
    ``cursor``, with the same ``sort``). Jobs of groups hidden from the caller are left out."""
    by_id = sort.lstrip("-") == "id"
    after = convert.decode_cursor(cursor) if by_id else None
    after_key = None if by_id else convert.decode_key_cursor(cursor, sort)
    records, last = tw.job_page(
        group=group,
        tag=tag,
        state=state,
        text=text,
        after=after,
        limit=limit + 1,
        sort=sort,
        after_key=after_key,
        hidden_groups=hidden(me),
    )
    more = len(records) > limit
    records = records[:limit]
    next_cursor = None
    if more and records:
        tail = records[-1]
        next_cursor = (
            convert.encode_cursor(tail.id)
            if by_id
            else convert.encode_key_cursor(_sort_value(tail, sort), tail.id)
        )
    page = s.JobPage(
        items=[convert.job_out(r, last.get(r.id)) for r in records], next_cursor=next_cursor
    )
    return convert.json_response(page)


@route(
    router,
    "POST",
    "/api/jobs",
    role=Role.ADMIN,
    grouped=True,
    response_model=s.JobOut,
    status_code=HTTP_201_CREATED,
)
@atomic
def create_job(tw: TW, me: Me, body: s.JobIn, response: Response) -> s.JobOut:
    """Create a job (admin of its group). The target is checked for form only: the API
    server never imports user code. What the body leaves out of the time zone, executor and
    policies comes from the group's defaults."""
    group = body.group or DEFAULT_GROUP  # what the job will be in (an empty group is this)
    check(me, Action.EDIT, group, kind="group", key=group)
    body = with_group_defaults(body, tw.group_defaults(group))
    _check_zone(body.timezone)
    fields = convert.spec_fields(body, None)
    _check_kind_role(me, fields)
    spec = JobSpec(id=body.id, owner="api", check_target=False, **fields)
    job = tw.create_job(spec, by=me.actor)
    response.headers["Location"] = f"/api/jobs/{job.id}"
    return _one(tw, job.record, response)


@route(router, "GET", "/api/jobs/{job_id}", role=Role.VIEWER, grouped=True, response_model=s.JobOut)
def get_job(tw: TW, me: Me, job_id: s.JobIdPath, response: Response) -> s.JobOut:
    """One job; its ETag is its version (send it back in If-Match to update)."""
    return _one(tw, job_for(tw, me, job_id, Action.VIEW), response)


def _check_move(me: Principal, old: JobRecord, fields: dict[str, Any]) -> None:
    """Moving a job to another group needs admin there too."""
    if "group" not in fields:
        return
    group = fields["group"] or DEFAULT_GROUP  # an empty group is the default one
    if group != old.group:
        check(me, Action.EDIT, group, kind="group", key=group)


@route(router, "PUT", "/api/jobs/{job_id}", role=Role.ADMIN, grouped=True, response_model=s.JobOut)
@atomic
def replace_job(
    tw: TW,
    me: Me,
    job_id: s.JobIdPath,
    body: s.JobIn,
    response: Response,
    if_match: Annotated[str | None, Header(max_length=40)] = None,
) -> s.JobOut:
    """Replace a job's whole definition; what the body leaves out takes its default. With
    If-Match (or ``version``) a stale version is refused with 409."""
    if body.id is not None and body.id != job_id:
        raise InvalidInput("id", "differs from the job id in the path", code="id_mismatch")
    old = job_for(tw, me, job_id, Action.EDIT)
    expected = _expected_version(if_match, body.version)
    _check_zone(body.timezone)
    fields = convert.spec_fields(body, old)
    _check_move(me, old, fields)
    _check_kind_role(me, fields)
    job = tw.update_job(job_id, expected_version=expected, by=me.actor, **fields)
    return _one(tw, job.record, response)


@route(
    router, "PATCH", "/api/jobs/{job_id}", role=Role.ADMIN, grouped=True, response_model=s.JobOut
)
@atomic
def patch_job(
    tw: TW,
    me: Me,
    job_id: s.JobIdPath,
    body: s.JobPatch,
    response: Response,
    if_match: Annotated[str | None, Header(max_length=40)] = None,
) -> s.JobOut:
    """Change some fields of a job (409 on a stale If-Match or ``version``)."""
    old = job_for(tw, me, job_id, Action.EDIT)
    expected = _expected_version(if_match, body.version)
    _check_zone(body.timezone)
    fields = convert.patch_fields(body, old)
    _check_move(me, old, fields)
    _check_kind_role(me, fields)
    job = tw.update_job(job_id, expected_version=expected, by=me.actor, **fields)
    return _one(tw, job.record, response)


@route(
    router,
    "DELETE",
    "/api/jobs/{job_id}",
    role=Role.ADMIN,
    grouped=True,
    status_code=HTTP_204_NO_CONTENT,
)
@atomic
def delete_job(tw: TW, me: Me, job_id: s.JobIdPath) -> Response:
    """Delete a job (its runs stay in the history)."""
    job_for(tw, me, job_id, Action.EDIT)
    tw.remove_job(job_id, by=me.actor, origin="api")
    return Response(status_code=HTTP_204_NO_CONTENT)


@route(
    router,
    "POST",
    "/api/jobs/{job_id}/pause",
    role=Role.OPERATOR,
    grouped=True,
    response_model=s.JobOut,
)
@atomic
def pause_job(tw: TW, me: Me, job_id: s.JobIdPath) -> s.JobOut:
    job_for(tw, me, job_id, Action.OPERATE)
    return _one(tw, tw.pause_job(job_id, by=me.actor).record)


@route(
    router,
    "POST",
    "/api/jobs/{job_id}/resume",
    role=Role.OPERATOR,
    grouped=True,
    response_model=s.JobOut,
)
@atomic
def resume_job(tw: TW, me: Me, job_id: s.JobIdPath) -> s.JobOut:
    """Resume; the next fire is the first one after now."""
    job_for(tw, me, job_id, Action.OPERATE)
    return _one(tw, tw.resume_job(job_id, by=me.actor).record)


@route(
    router,
    "POST",
    "/api/jobs/{job_id}/run",
    role=Role.OPERATOR,
    grouped=True,
    response_model=s.RunQueued,
    status_code=HTTP_202_ACCEPTED,
)
@atomic
def run_job(
    tw: TW, me: Me, job_id: s.JobIdPath, body: Annotated[s.RunNowIn | None, Body()] = None
) -> s.RunQueued:
    """Queue a run now and return its id at once; a scheduler node runs it. ``params`` may
    override the job's args and kwargs for this run."""
    job_for(tw, me, job_id, Action.OPERATE)
    params = None
    if body is not None and body.params is not None:
        params = body.params.model_dump(exclude_none=True)
    run_id = tw.run_job(job_id, params=params, by=me.actor)
    return s.RunQueued(run_id=run_id, job_id=job_id, status="scheduled")


@route(
    router,
    "GET",
    "/api/jobs/{job_id}/stats",
    role=Role.VIEWER,
    grouped=True,
    response_model=s.StatsOut,
)
def job_stats(
    tw: TW,
    me: Me,
    job_id: s.JobIdPath,
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
    slow_s: Annotated[float, Query(ge=0, le=10**9)] = 60.0,
) -> s.StatsOut:
    """Runs of one job scheduled in [since, until): count, success rate, durations, slow runs."""
    record = job_for(tw, me, job_id, Action.VIEW)
    report = tw.stats(
        job_id,
        since=convert.micros(since, "since"),
        until=convert.micros(until, "until"),
        slow_s=slow_s,
    )
    return convert.stats_out(report, {job_id: list(record.secret_keys)})


@route(
    router,
    "GET",
    "/api/jobs/{job_id}/history",
    role=Role.VIEWER,
    grouped=True,
    response_model=s.AuditPage,
)
def job_history(
    tw: TW,
    me: Me,
    job_id: s.JobIdPath,
    cursor: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Response:
    """The audit trail of one job (secrets masked), newest first; a deleted job's too, read
    as a job of the group it was last in."""
    job = tw.get_job(job_id)
    if job is not None and not job.pending:
        check(me, Action.VIEW, job.record.group, key=job_id)
    else:
        newest = tw.audit.page(AuditFilter(job_id=job_id), before_id=None, limit=1)
        snapshot = (newest[0].before or newest[0].after or {}) if newest else {}
        check(me, Action.VIEW, str(snapshot.get("group", "default")), key=job_id)
    before = convert.decode_int_cursor(cursor)
    events = tw.audit.page(AuditFilter(job_id=job_id), before_id=before, limit=limit + 1)
    more = len(events) > limit
    events = events[:limit]
    page = s.AuditPage(
        items=[convert.audit_out(e) for e in events],
        next_cursor=convert.encode_cursor(events[-1].id) if more and events else None,
    )
    return convert.json_response(page)


def _sort_value(record: JobRecord, sort: str) -> str | int | None:
    key = sort.lstrip("-")
    return record.next_fire_at if key == "next_fire_at" else getattr(record, key)
