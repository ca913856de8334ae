"""Who may do what to the jobs of a group: the one rule every face and every route applies.

The effective role of a user in group G is **their grant for G if they have one, else their
global role** (a token caps both). A grant may raise (viewer -> operator of G), lower
(operator -> viewer of G) or hide a group (``none``): one place to look, no merging of two
roles, and the global role keeps its meaning as the default for every group no grant names.

Actions on a group's jobs and the least role each needs:

- ``view``: read jobs, their runs, logs, stats and history (viewer);
- ``operate``: pause, resume, run now, cancel runs, the group's pause/resume/run-all (operator);
- ``edit``: create, change, delete jobs; change the group's description and defaults (admin).

``can(principal, action, group)`` answers; ``check(...)`` refuses: a group the caller may not
view is answered as if the object did not exist (404), so its jobs' ids do not leak; a visible
group with too low a role gets 403 ``group_role_required``. Workflows (and anything else that
acts on a job) call ``can`` or ``check`` with the job's group for each job they touch.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from tickwork.accounts.errors import PermissionDenied
from tickwork.accounts.records import Principal
from tickwork.accounts.roles import Role
from tickwork.errors import NotFound

NONE = "none"  # a grant that hides a group
GRANT_ROLES = (NONE, Role.VIEWER.value, Role.OPERATOR.value, Role.ADMIN.value)


class Action(StrEnum):
    VIEW = "view"
    OPERATE = "operate"
    EDIT = "edit"

    @property
    def needs(self) -> Role:
        return _NEEDS[self]


_NEEDS = {Action.VIEW: Role.VIEWER, Action.OPERATE: Role.OPERATOR, Action.EDIT: Role.ADMIN}
# The verbs callers think in, onto the three actions.
ALIASES: dict[str, Action] = {
    "view": Action.VIEW,
    "read": Action.VIEW,
    "operate": Action.OPERATE,
    "pause": Action.OPERATE,
    "resume": Action.OPERATE,
    "run": Action.OPERATE,
    "cancel": Action.OPERATE,
    "edit": Action.EDIT,
    "create": Action.EDIT,
    "change": Action.EDIT,
    "delete": Action.EDIT,
}


def action_of(action: Action | str) -> Action:
    if isinstance(action, Action):
        return action
    try:
        return ALIASES[action]
    except KeyError:
        raise ValueError(f"unknown action {action!r}; one of {', '.join(ALIASES)}") from None


def role_in(principal: Principal, group: str) -> Role | None:
    """The principal's effective role in ``group``; None when the group is hidden from them."""
    if group in principal.grants:
        return principal.grants[group]
    return principal.role


def can(principal: Principal, action: Action | str, group: str) -> bool:
    """May ``principal`` do ``action`` to the jobs of ``group``?"""
    role = role_in(principal, group)
    return role is not None and role.covers(action_of(action).needs)


def check(
    principal: Principal, action: Action | str, group: str, *, kind: str = "job", key: object = ""
) -> None:
    """Refuse unless ``can``: 404 (as ``kind`` ``key`` not found) when the group is hidden
    from the principal, 403 ``group_role_required`` when their role there is too low."""
    act = action_of(action)
    role = role_in(principal, group)
    if role is None:
        raise NotFound(kind, key)
    if not role.covers(act.needs):
        raise PermissionDenied(
            f"this needs the {act.needs.value} role in group {group!r}; you are {role.value} there",
            code="group_role_required",
            params={"group": group, "role": act.needs.value, "actual": role.value},
        )


def hidden_groups(principal: Principal) -> frozenset[str]:
    """The groups whose jobs and runs the principal may not see (list filters leave them out)."""
    return frozenset(g for g, role in principal.grants.items() if role is None)


def visible(principal: Principal, groups: Iterable[str]) -> list[str]:
    return [g for g in groups if role_in(principal, g) is not None]


def parse_grant(value: object) -> Role | None:
    """A grant's role from its name: none, viewer, operator or admin."""
    from tickwork.errors import InvalidInput

    if value == NONE:
        return None
    if isinstance(value, str) and value in GRANT_ROLES:
        return Role(value)
    raise InvalidInput(
        "role",
        f"{str(value)[:40]!r} is not one of {', '.join(GRANT_ROLES)}",
        code="not_one_of",
        params={"value": str(value)[:40], "choices": list(GRANT_ROLES)},
    )
