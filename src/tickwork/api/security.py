"""Who is calling, and may they? Every route states its minimum role through ``route()``:
the role becomes a dependency (401 without credentials, 403 below the role) and the
operation's ``x-required-role`` in the OpenAPI document, from which the tests build the
role x route matrix.

Credentials: ``Authorization: Bearer tw_...`` (API tokens; no CSRF needed, browsers never
send it on their own), or the ``tw_session`` cookie of a console login, whose every write
(POST, PUT, PATCH, DELETE) must carry the session's CSRF token in ``X-CSRF-Token``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from tickwork.accounts.errors import AuthenticationFailed, PermissionDenied
from tickwork.accounts.records import Principal
from tickwork.accounts.roles import Role
from tickwork.service import Tickwork

SESSION_COOKIE = "tw_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PUBLIC = "public"


async def get_tw(request: Request) -> Tickwork:  # async: no thread hop for a lookup
    tw: Tickwork = request.app.state.tw
    return tw


TW = Annotated[Tickwork, Depends(get_tw)]


def authenticate(request: Request) -> Principal:
    """The caller, from a bearer token or a session cookie (with its CSRF check)."""
    tw: Tickwork = request.app.state.tw
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise AuthenticationFailed(
                "use 'Authorization: Bearer <API token>'", code="bad_authorization"
            )
        principal = tw.accounts.authenticate_token(value.strip())
        if principal is None:
            raise AuthenticationFailed(
                "the API token is unknown, expired or revoked", code="token_invalid"
            )
        request.state.principal = principal
        return principal  # type: ignore[no-any-return]
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        principal = tw.accounts.authenticate_session(cookie)
        if principal is None:
            raise AuthenticationFailed("the session has ended; log in again", code="session_ended")
        if request.method not in SAFE_METHODS and not tw.accounts.check_csrf(
            cookie, request.headers.get(CSRF_HEADER)
        ):
            raise PermissionDenied(
                f"a write with a session cookie needs the session's CSRF token in {CSRF_HEADER}",
                code="csrf_missing",
                params={"header": CSRF_HEADER},
            )
        request.state.principal = principal
        request.state.session_token = cookie
        return principal  # type: ignore[no-any-return]
    raise AuthenticationFailed("log in or send an API token", code="unauthenticated")


Me = Annotated[Principal, Depends(authenticate)]


def require(role: Role, *, grouped: bool = False) -> Callable[..., Any]:
    """The route's gate. A global route needs ``role`` as the caller's global role; a
    grouped route (one acting on a group's jobs) lets in whoever holds ``role`` somewhere,
    globally or by a group grant, and its handler checks the role in the object's own group
    (``tickwork.accounts.access``)."""

    async def check(principal: Me) -> Principal:
        held = principal.highest if grouped else principal.role
        if not held.covers(role):
            raise PermissionDenied(
                f"this needs the {role.value} role; you act as {held.value}",
                code="role_required",
                params={"role": role.value, "actual": held.value},
            )
        return principal

    check.__name__ = f"require_{role.value}{'_in_a_group' if grouped else ''}"
    return check


def route(
    router: APIRouter,
    method: str,
    path: str,
    *,
    role: Role | None,
    grouped: bool = False,
    **kwargs: Any,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare a route with its minimum role (None: public) in one place. ``grouped``: the
    role is needed in the group of the job (or group) the call acts on; the OpenAPI document
    says so with ``x-role-scope: group``."""
    dependencies = list(kwargs.pop("dependencies", []))
    if role is not None:
        dependencies.insert(0, Depends(require(role, grouped=grouped)))
    extra = dict(kwargs.pop("openapi_extra", None) or {})
    extra["x-required-role"] = role.value if role is not None else PUBLIC
    extra["x-role-scope"] = "group" if grouped else "global"
    return router.api_route(
        path, methods=[method], dependencies=dependencies, openapi_extra=extra, **kwargs
    )


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"
