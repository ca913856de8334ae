"""Accounts: users with roles, console sessions, API tokens, the login rate limit."""

from __future__ import annotations

from tickwork.accounts.errors import AuthenticationFailed, PermissionDenied, RateLimited
from tickwork.accounts.records import ApiToken, Principal, User
from tickwork.accounts.roles import Role
from tickwork.accounts.service import AccountPolicy, Accounts, Login

__all__ = [
    "AccountPolicy",
    "Accounts",
    "ApiToken",
    "AuthenticationFailed",
    "Login",
    "PermissionDenied",
    "Principal",
    "RateLimited",
    "Role",
    "User",
]
