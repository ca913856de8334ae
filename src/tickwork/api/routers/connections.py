"""/api/connections: named connections (database, redis, http, smtp). Reading shows the public
part with secrets masked; creating, changing, testing and removing are for admins."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Response
from starlette.status import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from tickwork.accounts.roles import Role
from tickwork.api import schemas_kinds as k
from tickwork.api.access import visible_job_ids
from tickwork.api.atomic import atomic
from tickwork.api.convert import iso, iso_required
from tickwork.api.routers.jobs import _expected_version
from tickwork.api.security import TW, Me, route
from tickwork.service.connections import ConnectionView

router = APIRouter(tags=["connections"])
NamePath = Annotated[str, Path(min_length=1, max_length=63)]


def connection_out(view: ConnectionView) -> k.ConnectionOut:
    return k.ConnectionOut(
        name=view.name,
        kind=view.kind,
        description=view.description,
        fields=view.fields,
        version=view.version,
        created_at=iso_required(view.created_at),
        created_by=view.created_by,
        updated_at=iso_required(view.updated_at),
        updated_by=view.updated_by,
        used_by=view.used_by,
    )


@route(router, "GET", "/api/connections", role=Role.VIEWER, response_model=k.ConnectionList)
def list_connections(tw: TW, me: Me) -> k.ConnectionList:
    """Every connection, secrets masked, with the jobs that name it (those the caller may
    see)."""
    items = [connection_out(v) for v in tw.connections()]
    for item in items:
        item.used_by = visible_job_ids(tw, me, item.used_by)
    return k.ConnectionList(items=items)


@route(
    router,
    "POST",
    "/api/connections",
    role=Role.ADMIN,
    response_model=k.ConnectionOut,
    status_code=HTTP_201_CREATED,
)
@atomic
def create_connection(tw: TW, me: Me, body: k.ConnectionIn, response: Response) -> k.ConnectionOut:
    """Create a connection; its secret fields are sealed and never shown again."""
    view = tw.add_connection(
        body.name, body.kind, body.fields, description=body.description, by=me.actor
    )
    response.headers["Location"] = f"/api/connections/{view.name}"
    response.headers["ETag"] = f'"{view.version}"'
    return connection_out(view)


@route(router, "GET", "/api/connections/{name}", role=Role.VIEWER, response_model=k.ConnectionOut)
def get_connection(tw: TW, me: Me, name: NamePath, response: Response) -> k.ConnectionOut:
    view = tw.connection(name)
    response.headers["ETag"] = f'"{view.version}"'
    out = connection_out(view)
    out.used_by = visible_job_ids(tw, me, out.used_by)
    return out


@route(router, "PATCH", "/api/connections/{name}", role=Role.ADMIN, response_model=k.ConnectionOut)
@atomic
def patch_connection(
    tw: TW,
    me: Me,
    name: NamePath,
    body: k.ConnectionPatch,
    response: Response,
    if_match: Annotated[str | None, Header(max_length=40)] = None,
) -> k.ConnectionOut:
    """Change fields; a secret field left out or sent back as "******" keeps its value, ""
    clears it. With If-Match (or ``version``) a stale version is refused with 409."""
    view = tw.update_connection(
        name,
        body.fields,
        description=body.description,
        expected_version=_expected_version(if_match, body.version),
        by=me.actor,
    )
    response.headers["ETag"] = f'"{view.version}"'
    return connection_out(view)


@route(
    router,
    "DELETE",
    "/api/connections/{name}",
    role=Role.ADMIN,
    status_code=HTTP_204_NO_CONTENT,
)
@atomic
def delete_connection(tw: TW, me: Me, name: NamePath) -> Response:
    """Remove a connection (409 while a job names it)."""
    tw.remove_connection(name, by=me.actor)
    return Response(status_code=HTTP_204_NO_CONTENT)


@route(
    router,
    "POST",
    "/api/connections/{name}/test",
    role=Role.ADMIN,
    response_model=k.ConnectionTestOut,
)
def test_connection(tw: TW, me: Me, name: NamePath) -> k.ConnectionTestOut:
    """Try the connection from this server (HTTP and SMTP through the SSRF guard): database
    connect and SELECT 1, Redis PING, HTTP GET of the base URL, SMTP EHLO/TLS/login. The
    answer says ok or what failed; secrets never appear in it."""
    result = tw.test_connection(name, by=me.actor)
    return k.ConnectionTestOut(**result)


__all__ = ["iso", "router"]
