"""Exceptions of the accounts layer; the API maps them to 401, 403 and 429."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tickwork.errors import TickworkError


class _Coded(TickworkError):
    def __init__(
        self, reason: str, *, code: str | None = None, params: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(reason)
        self.code = code
        self.params = dict(params or {})


class AuthenticationFailed(_Coded):
    """No valid credentials (wrong password, unknown, expired or revoked token or session)."""


class PermissionDenied(_Coded):
    """Authenticated, but not allowed to do this."""


class RateLimited(_Coded):
    """Too many failed logins for this account or address; try again after ``retry_after_s``."""

    def __init__(
        self,
        reason: str,
        retry_after_s: int,
        *,
        code: str | None = "rate_limited",
        params: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(reason, code=code, params=params)
        self.retry_after_s = retry_after_s
