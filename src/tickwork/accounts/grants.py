"""Users' roles in single groups (``tw_group_grant``), managed by admins.

A grant replaces the user's global role inside its group (see ``tickwork.accounts.access``);
``none`` hides the group. Grants are read at every authentication, so a change holds from the
user's next request on, sessions and tokens alike."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from tickwork.accounts.access import NONE, parse_grant
from tickwork.accounts.records import Principal, User
from tickwork.accounts.roles import Role
from tickwork.audit import AuditLog
from tickwork.clock import Clock
from tickwork.errors import Conflict, NotFound
from tickwork.groups.model import check_group_name
from tickwork.store.database import Database
from tickwork.store.tables_auth import user
from tickwork.store.tables_groups import group_grant


def load_grants(conn: Connection, user_id: int, cap: Role | None = None) -> dict[str, Role | None]:
    """A user's grants, each capped by ``cap`` (a token's role) when given."""
    rows = conn.execute(
        select(group_grant.c.group_name, group_grant.c.role).where(group_grant.c.user_id == user_id)
    ).all()
    out: dict[str, Role | None] = {}
    for name, role in rows:
        granted = None if role == NONE else Role(role)
        if granted is not None and cap is not None:
            granted = Role.lowest(granted, cap)
        out[name] = granted
    return out


def grant_name(role: Role | None) -> str:
    return NONE if role is None else role.value


class GrantsMixin:
    db: Database
    clock: Clock
    audit: AuditLog

    def list_grants(self, user_id: int) -> dict[str, str]:
        """group -> role name (none, viewer, operator, admin) of one user."""
        with self.db.read() as conn:
            self._user_row(conn, user_id)
            return {g: grant_name(r) for g, r in sorted(load_grants(conn, user_id).items())}

    def principal_for(self, user_id: int, *, via: str = "system") -> Principal:
        """The principal ``user_id`` acts as, with their grants: for work done on a user's
        behalf outside a request (a workflow run by its trigger checks its owner's roles with
        ``tickwork.accounts.access.can``)."""
        with self.db.read() as conn:
            found = self._user_row(conn, user_id)
            grants = load_grants(conn, user_id)
        if found.disabled:
            raise NotFound("user", user_id)
        return Principal(found.id, found.username, found.role, via=via, grants=grants)

    def group_members(self, group: str) -> list[dict[str, Any]]:
        """The users with a grant in ``group``: username, user id, role."""
        with self.db.read() as conn:
            rows = conn.execute(
                select(user.c.id, user.c.username, group_grant.c.role)
                .join(user, user.c.id == group_grant.c.user_id)
                .where(group_grant.c.group_name == group)
                .order_by(user.c.username)
            ).all()
        return [{"user_id": int(i), "username": n, "role": r} for i, n, r in rows]

    def set_grant(self, user_id: int, group: str, role: str, *, by: Principal) -> dict[str, str]:
        """Give ``user_id`` ``role`` in ``group`` (replacing a grant there). Nobody changes
        their own grants, as nobody changes their own role."""
        name = check_group_name(group)
        granted = parse_grant(role)
        now = self.clock.now_us()
        with self.db.write() as conn:
            target = self._user_row(conn, user_id)
            self._not_self(user_id, by)
            before = load_grants(conn, user_id).get(name, "absent")
            values = {"role": grant_name(granted), "created_at": now, "created_by": by.actor}
            found = conn.execute(
                update(group_grant)
                .where(group_grant.c.user_id == user_id, group_grant.c.group_name == name)
                .values(**values)
            ).rowcount
            if not found:
                conn.execute(
                    insert(group_grant), [{"user_id": user_id, "group_name": name, **values}]
                )
            self.audit.record(
                conn,
                at=now,
                actor=by.actor,
                action="user.grant",
                subject=target.username,
                detail={
                    "group": name,
                    "role": grant_name(granted),
                    "before": before if isinstance(before, str) else grant_name(before),
                },
            )
            return {g: grant_name(r) for g, r in sorted(load_grants(conn, user_id).items())}

    def remove_grant(self, user_id: int, group: str, *, by: Principal) -> dict[str, str]:
        """Take the grant away: the user's global role holds in ``group`` again."""
        now = self.clock.now_us()
        with self.db.write() as conn:
            target = self._user_row(conn, user_id)
            self._not_self(user_id, by)
            gone = conn.execute(
                delete(group_grant).where(
                    group_grant.c.user_id == user_id, group_grant.c.group_name == group
                )
            ).rowcount
            if not gone:
                raise NotFound("grant", group)
            self.audit.record(
                conn,
                at=now,
                actor=by.actor,
                action="user.revoke",
                subject=target.username,
                detail={"group": group},
            )
            return {g: grant_name(r) for g, r in sorted(load_grants(conn, user_id).items())}

    @staticmethod
    def _not_self(user_id: int, by: Principal) -> None:
        if user_id == by.user_id:
            raise Conflict("user_id", "you cannot change your own group roles", code="own_grants")

    @staticmethod
    def _user_row(conn: Connection, user_id: int) -> User:
        row = conn.execute(select(user).where(user.c.id == user_id)).mappings().first()
        if row is None:
            raise NotFound("user", user_id)
        return User.from_row(row)


def grants_public(grants: Mapping[str, Role | None]) -> dict[str, str]:
    return {g: grant_name(r) for g, r in sorted(grants.items())}
