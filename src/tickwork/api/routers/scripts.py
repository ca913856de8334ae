"""/api/scripts: code written in the console or the API, stored with immutable versions.
Anyone who can read jobs can read scripts; saving, rolling back and removing are for admins."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from starlette.status import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from tickwork.accounts.roles import Role
from tickwork.api import schemas_kinds as k
from tickwork.api.access import visible_job_ids
from tickwork.api.atomic import atomic
from tickwork.api.convert import iso_required
from tickwork.api.security import TW, Me, route
from tickwork.store.kinds_repo import ScriptRecord, ScriptVersion

router = APIRouter(tags=["scripts"])
NamePath = Annotated[str, Path(min_length=1, max_length=63)]
VersionPath = Annotated[int, Path(ge=1, le=2**31 - 1)]


def version_out(version: ScriptVersion, *, code: bool) -> k.ScriptVersionOut:
    return k.ScriptVersionOut(
        script=version.script_name,
        version=version.version,
        message=version.message,
        author=version.author,
        created_at=iso_required(version.created_at),
        sha256=version.sha256,
        size=len(version.code),
        code=version.code if code else None,
    )


def script_out(record: ScriptRecord, users: list[str], latest: ScriptVersion | None) -> k.ScriptOut:
    return k.ScriptOut(
        name=record.name,
        language=record.language,
        description=record.description,
        latest_version=record.latest_version,
        created_at=iso_required(record.created_at),
        created_by=record.created_by,
        updated_at=iso_required(record.updated_at),
        updated_by=record.updated_by,
        used_by=users,
        latest=None if latest is None else version_out(latest, code=True),
    )


def _one(tw: TW, name: str) -> k.ScriptOut:
    record, latest, users = tw.script(name)
    return script_out(record, users, latest)


@route(router, "GET", "/api/scripts", role=Role.VIEWER, response_model=k.ScriptList)
def list_scripts(tw: TW, me: Me) -> k.ScriptList:
    """Every script (without code), with the jobs that run it (those the caller may see)."""
    return k.ScriptList(
        items=[script_out(r, visible_job_ids(tw, me, users), None) for r, users in tw.scripts()]
    )


@route(
    router,
    "POST",
    "/api/scripts",
    role=Role.ADMIN,
    response_model=k.ScriptOut,
    status_code=HTTP_201_CREATED,
)
@atomic
def create_script(tw: TW, me: Me, body: k.ScriptIn, response: Response) -> k.ScriptOut:
    """Create a script with its first version (409 if the name exists)."""
    tw.push_script(
        body.name,
        body.code,
        language=body.language,
        message=body.message,
        description=body.description,
        by=me.actor,
        new=True,
    )
    response.headers["Location"] = f"/api/scripts/{body.name}"
    return _one(tw, body.name)


@route(router, "GET", "/api/scripts/{name}", role=Role.VIEWER, response_model=k.ScriptOut)
def get_script(tw: TW, me: Me, name: NamePath) -> k.ScriptOut:
    """A script with its latest version's code."""
    out = _one(tw, name)
    out.used_by = visible_job_ids(tw, me, out.used_by)
    return out


@route(
    router,
    "DELETE",
    "/api/scripts/{name}",
    role=Role.ADMIN,
    status_code=HTTP_204_NO_CONTENT,
)
@atomic
def delete_script(tw: TW, me: Me, name: NamePath) -> Response:
    """Remove a script and its versions (409 while a job runs it)."""
    tw.remove_script(name, by=me.actor)
    return Response(status_code=HTTP_204_NO_CONTENT)


@route(
    router,
    "GET",
    "/api/scripts/{name}/versions",
    role=Role.VIEWER,
    response_model=k.ScriptHistory,
)
def script_history(tw: TW, name: NamePath) -> k.ScriptHistory:
    """Every version, newest first (without code)."""
    return k.ScriptHistory(items=[version_out(v, code=False) for v in tw.script_history(name)])


@route(
    router,
    "POST",
    "/api/scripts/{name}/versions",
    role=Role.ADMIN,
    response_model=k.ScriptVersionOut,
    status_code=HTTP_201_CREATED,
)
@atomic
def save_version(tw: TW, me: Me, name: NamePath, body: k.ScriptVersionIn) -> k.ScriptVersionOut:
    """Save a new version (the same code as the latest is not saved twice: the latest version
    comes back)."""
    version = tw.push_script(
        name,
        body.code,
        message=body.message,
        description=body.description,
        by=me.actor,
        new=False,
    )
    return version_out(version, code=True)


@route(
    router,
    "GET",
    "/api/scripts/{name}/versions/{version}",
    role=Role.VIEWER,
    response_model=k.ScriptVersionOut,
)
def get_version(tw: TW, name: NamePath, version: VersionPath) -> k.ScriptVersionOut:
    return version_out(tw.script_version(name, version), code=True)


@route(router, "GET", "/api/scripts/{name}/diff", role=Role.VIEWER, response_model=k.ScriptDiff)
def script_diff(
    tw: TW,
    name: NamePath,
    from_version: Annotated[int, Query(alias="from", ge=1, le=2**31 - 1)],
    to_version: Annotated[int, Query(alias="to", ge=1, le=2**31 - 1)],
) -> k.ScriptDiff:
    """A unified diff between two versions."""
    return k.ScriptDiff(
        script=name,
        from_version=from_version,
        to_version=to_version,
        diff=tw.script_diff(name, from_version, to_version),
    )


@route(
    router,
    "POST",
    "/api/scripts/{name}/rollback",
    role=Role.ADMIN,
    response_model=k.ScriptVersionOut,
    status_code=HTTP_201_CREATED,
)
@atomic
def rollback(tw: TW, me: Me, name: NamePath, body: k.RollbackIn) -> k.ScriptVersionOut:
    """A new version holding an older one's code (history is never rewritten)."""
    version = tw.rollback_script(name, body.version, message=body.message, by=me.actor)
    return version_out(version, code=True)
