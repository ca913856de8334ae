"""/api/groups: groups as objects (list, declare, read, change, remove), their members, and
pause, resume or run every job of a group, each with ``dry_run`` for the count a confirmation
shows; /api/users/{id}/grants: users' roles per group (admins).

Every route checks the caller's role in the group (``tickwork.accounts.access``): a group
hidden from them answers 404 and is left out of the list."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Response
from starlette.status import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from tickwork.accounts.access import Action, role_in
from tickwork.accounts.records import Principal
from tickwork.accounts.roles import Role
from tickwork.api import convert
from tickwork.api import schemas as s
from tickwork.api import schemas_groups as sg
from tickwork.api.access import group_for, hidden
from tickwork.api.atomic import atomic
from tickwork.api.security import TW, Me, route
from tickwork.service.groups import GroupSummary

router = APIRouter(tags=["groups"])
DryRun = Annotated[
    bool,
    Query(description="only count the jobs the action would touch; change nothing"),
]


def _out(me: Principal, summary: GroupSummary) -> sg.GroupOut:
    record = summary.record
    role = role_in(me, record.name)
    return sg.GroupOut(
        name=record.name,
        description=record.description,
        owner=record.owner,
        timezone=record.timezone,
        defaults=dict(record.defaults),
        declared=record.declared,
        version=record.version,
        jobs=summary.jobs,
        paused=summary.paused,
        your_role="none" if role is None else role.value,
        updated_at=convert.iso(record.updated_at),
        updated_by=record.updated_by,
    )


@route(router, "GET", "/api/groups", role=Role.VIEWER, grouped=True, response_model=sg.GroupList)
def list_groups(tw: TW, me: Me) -> sg.GroupList:
    """Declared groups and the groups jobs name, with their job counts and your role in each
    (groups hidden from you are left out)."""
    return sg.GroupList(items=[_out(me, g) for g in tw.list_groups(hidden(me))])


@route(
    router,
    "POST",
    "/api/groups",
    role=Role.ADMIN,
    response_model=sg.GroupOut,
    status_code=HTTP_201_CREATED,
)
@atomic
def create_group(tw: TW, me: Me, body: sg.GroupIn, response: Response) -> sg.GroupOut:
    """Declare a group (admins). Jobs may name it already."""
    tw.add_group(
        body.name,
        description=body.description,
        owner=body.owner,
        timezone=body.timezone,
        defaults=body.defaults.model_dump(exclude_none=True),
        by=me.actor,
    )
    response.headers["Location"] = f"/api/groups/{quote(body.name.strip(), safe='')}"
    return _out(me, tw.get_group(body.name.strip()))


@route(
    router, "GET", "/api/groups/{group}", role=Role.VIEWER, grouped=True, response_model=sg.GroupOut
)
def get_group(tw: TW, me: Me, group: s.GroupPath) -> sg.GroupOut:
    group_for(me, group, Action.VIEW)
    return _out(me, tw.get_group(group))


@route(
    router,
    "PATCH",
    "/api/groups/{group}",
    role=Role.ADMIN,
    grouped=True,
    response_model=sg.GroupOut,
)
@atomic
def patch_group(tw: TW, me: Me, group: s.GroupPath, body: sg.GroupPatch) -> sg.GroupOut:
    """Change a group's description, owner, time zone or defaults (admins of the group).
    Defaults apply to jobs created afterwards; ``defaults`` replaces them as a whole."""
    group_for(me, group, Action.EDIT)
    changes: dict[str, Any] = {
        name: getattr(body, name)
        for name in ("description", "owner", "timezone")
        if name in body.model_fields_set
    }
    if "defaults" in body.model_fields_set:
        changes["defaults"] = body.defaults.model_dump(exclude_none=True) if body.defaults else {}
    tw.update_group(group, expected_version=body.version, by=me.actor, **changes)
    return _out(me, tw.get_group(group))


@route(router, "DELETE", "/api/groups/{group}", role=Role.ADMIN, status_code=HTTP_204_NO_CONTENT)
@atomic
def delete_group(tw: TW, me: Me, group: s.GroupPath) -> Response:
    """Remove a declared group (admins); 409 while jobs are in it."""
    tw.remove_group(group, by=me.actor)
    return Response(status_code=HTTP_204_NO_CONTENT)


@route(
    router,
    "GET",
    "/api/groups/{group}/members",
    role=Role.ADMIN,
    grouped=True,
    response_model=list[sg.GroupMember],
)
def group_members(tw: TW, me: Me, group: s.GroupPath) -> list[sg.GroupMember]:
    """The users with a grant in the group (admins of the group); everyone else has their
    global role there."""
    group_for(me, group, Action.EDIT)
    return [sg.GroupMember(**m) for m in tw.accounts.group_members(group)]


def _act(tw: TW, me: Principal, group: str, action: str, dry_run: bool) -> sg.GroupAction:
    group_for(me, group, Action.OPERATE)
    touch = tw.group_touch(group, action)
    run_ids: list[int] = []
    if not dry_run:
        if action == "pause":
            tw.pause_group(group, by=me.actor)
        elif action == "resume":
            tw.resume_group(group, by=me.actor)
        else:
            run_ids = tw.run_group(group, by=me.actor)
    return sg.GroupAction(
        group=group,
        action=action,  # type: ignore[arg-type]
        dry_run=dry_run,
        jobs=touch.jobs,
        changes=touch.changes,
        run_ids=run_ids,
    )


@route(
    router,
    "POST",
    "/api/groups/{group}/pause",
    role=Role.OPERATOR,
    grouped=True,
    response_model=sg.GroupAction,
)
@atomic
def pause_group(tw: TW, me: Me, group: s.GroupPath, dry_run: DryRun = False) -> sg.GroupAction:
    """Pause every job of a group (operators of the group)."""
    return _act(tw, me, group, "pause", dry_run)


@route(
    router,
    "POST",
    "/api/groups/{group}/resume",
    role=Role.OPERATOR,
    grouped=True,
    response_model=sg.GroupAction,
)
@atomic
def resume_group(tw: TW, me: Me, group: s.GroupPath, dry_run: DryRun = False) -> sg.GroupAction:
    """Resume every job of a group (operators of the group)."""
    return _act(tw, me, group, "resume", dry_run)


@route(
    router,
    "POST",
    "/api/groups/{group}/run",
    role=Role.OPERATOR,
    grouped=True,
    response_model=sg.GroupAction,
)
@atomic
def run_group(tw: TW, me: Me, group: s.GroupPath, dry_run: DryRun = False) -> sg.GroupAction:
    """Queue a run now of every job of a group (operators of the group); the run ids come
    back in ``run_ids``."""
    return _act(tw, me, group, "run", dry_run)


def _grants(tw: TW, user_id: int) -> sg.GrantsOut:
    user = tw.accounts.get_user(user_id)
    return sg.GrantsOut(
        user_id=user.id,
        username=user.username,
        role=user.role.value,
        grants=tw.accounts.list_grants(user_id),
    )


@route(
    router,
    "GET",
    "/api/users/{user_id}/grants",
    role=Role.ADMIN,
    response_model=sg.GrantsOut,
    tags=["users"],
)
def user_grants(tw: TW, user_id: s.RowId) -> sg.GrantsOut:
    """A user's global role (the default in every group) and their roles in single groups."""
    return _grants(tw, user_id)


@route(
    router,
    "PUT",
    "/api/users/{user_id}/grants/{group}",
    role=Role.ADMIN,
    response_model=sg.GrantsOut,
    tags=["users"],
)
@atomic
def put_grant(
    tw: TW, me: Me, user_id: s.RowId, group: s.GroupPath, body: sg.GrantIn
) -> sg.GrantsOut:
    """Give a user a role in one group (``none`` hides the group from them); it replaces
    their global role there."""
    tw.accounts.set_grant(user_id, group, body.role, by=me)
    return _grants(tw, user_id)


@route(
    router,
    "DELETE",
    "/api/users/{user_id}/grants/{group}",
    role=Role.ADMIN,
    response_model=sg.GrantsOut,
    tags=["users"],
)
@atomic
def delete_grant(tw: TW, me: Me, user_id: s.RowId, group: s.GroupPath) -> sg.GrantsOut:
    """Take a user's grant in a group away: their global role holds there again."""
    tw.accounts.remove_grant(user_id, group, by=me)
    return _grants(tw, user_id)
