"""Exceptions of the accounts layer; the API maps them to 401, 403 and 429."""

from __future__ import annotations

from tickwork.errors import TickworkError


class AuthenticationFailed(TickworkError):
    """No valid credentials (wrong password, unknown, expired or revoked token or session)."""


class PermissionDenied(TickworkError):
    """Authenticated, but not allowed to do this."""


class RateLimited(TickworkError):
    """Too many failed logins for this account or address; try again after ``retry_after_s``."""

    def __init__(self, reason: str, retry_after_s: int) -> None:
        super().__init__(reason)
        self.retry_after_s = retry_after_s
