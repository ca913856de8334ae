"""Plain records of accounts: users, API tokens, and the principal a request acts as."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tickwork.accounts.roles import Role


@dataclass(frozen=True, slots=True)
class User:
    id: int
    username: str
    role: Role
    disabled: bool
    created_at: int
    created_by: str | None
    updated_at: int
    password_changed_at: int

    @classmethod
    def from_row(cls, row: Any) -> User:
        return cls(
            id=int(row["id"]),
            username=row["username"],
            role=Role(row["role"]),
            disabled=bool(row["disabled"]),
            created_at=row["created_at"],
            created_by=row["created_by"],
            updated_at=row["updated_at"],
            password_changed_at=row["password_changed_at"],
        )

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "username": self.username,
            "role": self.role.value,
            "disabled": self.disabled,
        }


@dataclass(frozen=True, slots=True)
class ApiToken:
    id: str
    user_id: int
    username: str
    name: str
    role: Role
    created_at: int
    expires_at: int | None
    last_used_at: int | None
    revoked_at: int | None

    def active(self, now: int) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a request acts as: a user through a console session or an API token. ``role``
    is the effective global role (a token's role, capped by its user's current role);
    ``grants`` the user's roles in single groups (None: the group is hidden from them),
    capped by the token's role the same way. ``tickwork.accounts.access`` reads both."""

    user_id: int
    username: str
    role: Role
    via: str  # "session" or "token"
    token_id: str | None = None
    session_digest: str | None = None
    grants: Mapping[str, Role | None] = field(default_factory=dict)

    @property
    def highest(self) -> Role:
        """The highest role this principal holds anywhere (the global one or a grant's)."""
        best = self.role
        for granted in self.grants.values():
            if granted is not None and granted.level > best.level:
                best = granted
        return best

    @property
    def actor(self) -> str:
        """The name the audit and the job's created_by/updated_by record."""
        return self.username
