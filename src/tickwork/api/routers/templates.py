"""/api/templates: the template gallery (built-in and administrators' templates), a job made
from a template, an administrator's own templates, and the rollout of a template's change to
its jobs with a preview of what changes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Response
from pydantic import BaseModel, Field
from starlette.status import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from tickwork.accounts.access import check
from tickwork.accounts.roles import Role
from tickwork.api import convert
from tickwork.api import schemas as s
from tickwork.api.access import job_for
from tickwork.api.atomic import atomic
from tickwork.api.routers.jobs import _check_kind_role
from tickwork.api.security import TW, Me, route
from tickwork.errors import NotFound
from tickwork.service.templates import RolloutItem, TemplateInfo
from tickwork.templates.model import Template

router = APIRouter(tags=["templates"])
NamePath = Annotated[str, Path(min_length=1, max_length=63)]


class TemplateOut(BaseModel):
    name: str
    version: int
    builtin: bool
    category: str
    title: dict[str, str]
    description: dict[str, str]
    parameters: list[dict[str, Any]]
    job: dict[str, Any]
    jobs: int  # jobs made from it that exist


class TemplateList(BaseModel):
    items: list[TemplateOut]


class TemplateJobOut(BaseModel):
    job_id: str
    template: str
    version: int
    params: dict[str, Any]  # secret values as ******
    outdated: bool


class TemplateJobs(BaseModel):
    items: list[TemplateJobOut]


class FromTemplateIn(s.Strict):
    id: str = Field(min_length=1, max_length=191)
    params: dict[str, Any] = Field(default_factory=dict)
    paused: bool = False


class ChangeOut(BaseModel):
    field: str
    before: Any
    after: Any


class RolloutItemOut(BaseModel):
    job_id: str
    from_version: int
    to_version: int
    changes: list[ChangeOut]
    error: str | None
    error_field: str | None


class RolloutOut(BaseModel):
    template: str
    version: int
    items: list[RolloutItemOut]


class RolloutIn(s.Strict):
    jobs: list[str] | None = Field(default=None, max_length=10_000)


def _out(t: Template, jobs: int) -> TemplateOut:
    return TemplateOut(
        name=t.name,
        version=t.version,
        builtin=t.builtin,
        category=t.category,
        title=t.title,
        description=t.description,
        parameters=t.parameters,
        job=t.job,
        jobs=jobs,
    )


def _info(tw: TW, name: str) -> TemplateInfo:
    for info in tw.templates():
        if info.template.name == name:
            return info
    raise NotFound("template", name)


def _items(items: list[RolloutItem]) -> list[RolloutItemOut]:
    return [
        RolloutItemOut(
            job_id=i.job_id,
            from_version=i.from_version,
            to_version=i.to_version,
            changes=[ChangeOut(field=c.field, before=c.before, after=c.after) for c in i.changes],
            error=i.error,
            error_field=i.error_field,
        )
        for i in items
    ]


@route(router, "GET", "/api/templates", role=Role.VIEWER, response_model=TemplateList)
def list_templates(tw: TW) -> TemplateList:
    """Every template, built-in ones first, with its parameter schema (for the form the
    console generates) and how many jobs were made from it."""
    return TemplateList(items=[_out(i.template, i.jobs) for i in tw.templates()])


@route(router, "GET", "/api/templates/{name}", role=Role.VIEWER, response_model=TemplateOut)
def get_template(tw: TW, name: NamePath) -> TemplateOut:
    info = _info(tw, name)
    return _out(info.template, info.jobs)


@route(router, "GET", "/api/templates/{name}/jobs", role=Role.VIEWER, response_model=TemplateJobs)
def list_template_jobs(tw: TW, name: NamePath) -> TemplateJobs:
    """The jobs made from the template, the version each was made (or last rolled out) with
    and its values."""
    version = tw.get_template(name).version
    return TemplateJobs(
        items=[
            TemplateJobOut(
                job_id=link.job_id,
                template=link.template_name,
                version=link.template_version,
                params=link.params,
                outdated=link.template_version != version,
            )
            for link in tw.template_jobs(name)
        ]
    )


@route(
    router,
    "PUT",
    "/api/templates/{name}",
    role=Role.ADMIN,
    response_model=TemplateOut,
)
@atomic
def put_template(
    tw: TW,
    me: Me,
    name: NamePath,
    body: Annotated[dict[str, Any], Body()],
) -> TemplateOut:
    """Create or change an administrator's template (its version steps; jobs made from it
    keep their version until a rollout). Built-in names are refused."""
    data = {**body, "name": body.get("name", name)}
    if data["name"] != name:
        from tickwork.errors import InvalidInput

        raise InvalidInput("name", "differs from the name in the path", code="id_mismatch")
    template = tw.save_template(data, by=me.actor)
    return _out(template, _info(tw, name).jobs)


@route(
    router,
    "DELETE",
    "/api/templates/{name}",
    role=Role.ADMIN,
    status_code=HTTP_204_NO_CONTENT,
    response_class=Response,
)
@atomic
def delete_template(tw: TW, me: Me, name: NamePath) -> Response:
    """Remove an administrator's template (refused while jobs made from it exist)."""
    tw.remove_template(name, by=me.actor)
    return Response(status_code=HTTP_204_NO_CONTENT)


@route(
    router,
    "POST",
    "/api/templates/{name}/jobs",
    role=Role.ADMIN,
    response_model=s.JobOut,
    status_code=HTTP_201_CREATED,
)
@atomic
def create_from_template(
    tw: TW, me: Me, name: NamePath, body: FromTemplateIn, response: Response
) -> s.JobOut:
    """Make a job from the template: ``params`` are checked against its schema (a refusal
    names ``params.<name>``); the job remembers the template and its version."""
    template = tw.get_template(name)
    values = {k: v for k, v in body.params.items() if v is not None}
    from tickwork.templates.schema import check_values

    checked = check_values(template.parameters, values)
    if template.check is not None:
        checked = template.check(dict(checked))
    spec = tw.template_spec(template, body.id, checked, owner="api")
    _check_kind_role(me, {"target": spec.target})
    check(me, "edit", spec.group, kind="group", key=spec.group)  # a grant may lower an admin
    job = tw.add_job_from_template(
        body.id, name, values, by=me.actor, owner="api", paused=body.paused
    )
    response.headers["Location"] = f"/api/jobs/{job.id}"
    return convert.job_out(job.record, None)


@route(
    router,
    "GET",
    "/api/templates/{name}/rollout",
    role=Role.VIEWER,
    response_model=RolloutOut,
)
def preview_rollout(tw: TW, name: NamePath) -> RolloutOut:
    """What rolling the template's current version out would change in each job made from
    it (nothing is written; secret values show as ******)."""
    template = tw.get_template(name)
    return RolloutOut(
        template=name, version=template.version, items=_items(tw.preview_rollout(name))
    )


@route(
    router,
    "POST",
    "/api/templates/{name}/rollout",
    role=Role.ADMIN,
    response_model=RolloutOut,
)
@atomic
def apply_rollout(
    tw: TW, me: Me, name: NamePath, body: Annotated[RolloutIn | None, Body()] = None
) -> RolloutOut:
    """Roll the template's current version out to its jobs (all, or ``jobs``), in one
    transaction: every job changes or none does."""
    template = tw.get_template(name)
    jobs = body.jobs if body is not None else None
    items = tw.rollout_template(name, jobs=jobs, by=me.actor)
    return RolloutOut(template=name, version=template.version, items=_items(items))


@route(
    router,
    "GET",
    "/api/jobs/{job_id}/template",
    role=Role.VIEWER,
    grouped=True,
    response_model=TemplateJobOut,
)
def get_job_template(tw: TW, me: Me, job_id: s.JobIdPath) -> TemplateJobOut:
    """The template a job was made from (404 when it was not made from one)."""
    job_for(tw, me, job_id, "view")
    link = tw.job_template(job_id)
    if link is None:
        raise NotFound("job template", job_id)
    try:
        version = tw.get_template(link.template_name).version
    except NotFound:
        version = link.template_version
    return TemplateJobOut(
        job_id=link.job_id,
        template=link.template_name,
        version=link.template_version,
        params=link.params,
        outdated=link.template_version != version,
    )
