"""Roles, ordered: a viewer reads, an operator also pauses/resumes/runs/cancels, an admin also
creates, edits and deletes jobs and manages users, tokens and settings."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    VIEWER = "viewer"
    OPERATOR = "operator"
    ADMIN = "admin"

    @property
    def level(self) -> int:
        return _LEVELS[self]

    def covers(self, needed: Role) -> bool:
        """True if this role may do what ``needed`` may."""
        return self.level >= needed.level

    @classmethod
    def lowest(cls, a: Role, b: Role) -> Role:
        return a if a.level <= b.level else b


_LEVELS = {Role.VIEWER: 1, Role.OPERATOR: 2, Role.ADMIN: 3}
