"""API tokens of the accounts service: create (shown once), list, revoke, authenticate.
A token is stored as a keyed digest; its role is at most its creator's and, at use, capped by
its user's current role; a disabled or deleted user's tokens are revoked for good."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import insert, select, update

from tickwork.accounts import keys
from tickwork.accounts.errors import PermissionDenied
from tickwork.accounts.grants import load_grants
from tickwork.accounts.records import ApiToken, Principal
from tickwork.accounts.roles import Role
from tickwork.audit import AuditLog
from tickwork.clock import Clock
from tickwork.errors import InvalidInput, NotFound
from tickwork.store.database import Database
from tickwork.store.tables_auth import api_token, user

TOKEN_PREFIX = "tw_"
SEC = 1_000_000


class TokensMixin:
    db: Database
    clock: Clock
    audit: AuditLog
    policy: Any

    @property
    def secret_key(self) -> str:  # provided by Accounts
        raise NotImplementedError

    def create_token(
        self,
        principal: Principal,
        name: str,
        role: Role | str | None = None,
        *,
        expires_at: int | None = None,
    ) -> tuple[str, ApiToken]:
        """A new token for the principal's user, with a role no higher than the highest the
        principal holds (its global role or a group grant's; by default that highest role).
        At use the token's role caps the user's role everywhere: globally and in each group.
        Returns the token (shown once; only its digest is stored) and its record."""
        name = check_text("name", name, 100)
        highest = principal.highest
        wanted = highest if role is None else parse_role(role)
        if not highest.covers(wanted):
            raise PermissionDenied(
                f"a token's role cannot exceed yours ({highest.value}); asked for {wanted.value}",
                code="token_role_too_high",
                params={"role": highest.value, "wanted": wanted.value},
            )
        now = self.clock.now_us()
        if expires_at is not None and expires_at <= now:
            raise InvalidInput("expires_at", "must be in the future", code="not_in_future")
        token_id = secrets.token_hex(8)
        token = f"{TOKEN_PREFIX}{secrets.token_urlsafe(32)}"
        with self.db.write() as conn:
            conn.execute(
                insert(api_token),
                [
                    {
                        "id": token_id,
                        "user_id": principal.user_id,
                        "name": name,
                        "digest": keys.digest(self.secret_key, "token", token),
                        "role": wanted.value,
                        "created_at": now,
                        "expires_at": expires_at,
                        "last_used_at": None,
                        "revoked_at": None,
                    }
                ],
            )
            self.audit.record(
                conn,
                at=now,
                actor=principal.actor,
                action="token.create",
                subject=token_id,
                detail={
                    "name": name,
                    "role": wanted.value,
                    "expires_at": expires_at,
                    "user": principal.username,
                },
            )
        return token, self._token(token_id)

    def list_tokens(self, user_id: int | None = None) -> list[ApiToken]:
        query = (
            select(api_token, user.c.username)
            .join(user, user.c.id == api_token.c.user_id)
            .order_by(api_token.c.created_at.desc())
        )
        if user_id is not None:
            query = query.where(api_token.c.user_id == user_id)
        with self.db.read() as conn:
            return [_token_of(r) for r in conn.execute(query).mappings()]

    def revoke_token(self, token_id: str, principal: Principal) -> ApiToken:
        """Revoke a token: one's own, or anyone's for an admin."""
        found = self._token(token_id)
        if found.user_id != principal.user_id and not principal.role.covers(Role.ADMIN):
            raise NotFound("token", token_id)  # other users' tokens are not even visible
        now = self.clock.now_us()
        with self.db.write() as conn:
            conn.execute(
                update(api_token)
                .where(api_token.c.id == token_id, api_token.c.revoked_at.is_(None))
                .values(revoked_at=now)
            )
            self.audit.record(
                conn,
                at=now,
                actor=principal.actor,
                action="token.revoke",
                subject=token_id,
                detail={"name": found.name, "user": found.username},
            )
        return self._token(token_id)

    def authenticate_token(self, token: str) -> Principal | None:
        if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
            return None
        dig = keys.digest(self.secret_key, "token", token)
        now = self.clock.now_us()
        with self.db.read() as conn:
            row = (
                conn.execute(
                    select(
                        api_token, user.c.username, user.c.role.label("user_role"), user.c.disabled
                    )
                    .join(user, user.c.id == api_token.c.user_id)
                    .where(api_token.c.digest == dig)
                )
                .mappings()
                .first()
            )
            grants = (
                load_grants(conn, int(row["user_id"]), cap=Role(row["role"]))
                if row is not None
                else {}
            )
        if row is None or row["disabled"] or row["revoked_at"] is not None:
            return None
        if row["expires_at"] is not None and row["expires_at"] <= now:
            return None
        last = row["last_used_at"]
        if last is None or now - last >= self.policy.touch_every_s * SEC:
            with self.db.write() as conn:
                conn.execute(
                    update(api_token).where(api_token.c.id == row["id"]).values(last_used_at=now)
                )
        return Principal(
            user_id=int(row["user_id"]),
            username=row["username"],
            role=Role.lowest(Role(row["role"]), Role(row["user_role"])),
            via="token",
            token_id=row["id"],
            grants=grants,
        )

    def _token(self, token_id: str) -> ApiToken:
        with self.db.read() as conn:
            row = (
                conn.execute(
                    select(api_token, user.c.username)
                    .join(user, user.c.id == api_token.c.user_id)
                    .where(api_token.c.id == token_id)
                )
                .mappings()
                .first()
            )
        if row is None:
            raise NotFound("token", token_id)
        return _token_of(row)


def _token_of(row: Any) -> ApiToken:
    return ApiToken(
        id=row["id"],
        user_id=int(row["user_id"]),
        username=row["username"],
        name=row["name"],
        role=Role(row["role"]),
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        last_used_at=row["last_used_at"],
        revoked_at=row["revoked_at"],
    )


def parse_role(value: Role | str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise InvalidInput(
            "role",
            f"{value!r} is not one of viewer, operator, admin",
            code="not_one_of",
            params={"value": str(value), "choices": ["viewer", "operator", "admin"]},
        ) from None


def check_text(field: str, value: object, limit: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(field, "must be non-empty text", code="empty_text")
    if len(value) > limit:
        raise InvalidInput(
            field,
            f"is {len(value)} characters long; the limit is {limit}",
            code="text_too_long",
            params={"length": len(value), "max": limit},
        )
    if any(ord(c) < 32 for c in value):
        raise InvalidInput(field, "contains control characters", code="control_characters")
    return value.strip()
