"""/api/auth (login, logout), /api/me (who am I, change my password), /api/users (admins)
and /api/tokens (API tokens: one's own; admins see and revoke all)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from starlette.status import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from tickwork.accounts.grants import grants_public
from tickwork.accounts.roles import Role
from tickwork.api import convert
from tickwork.api import schemas as s
from tickwork.api.atomic import atomic
from tickwork.api.security import SESSION_COOKIE, TW, Me, client_address, route

router = APIRouter(tags=["accounts"])


def _cookie_secure(request: Request) -> bool:
    setting = request.app.state.settings.cookie_secure
    return bool(request.url.scheme == "https" if setting is None else setting)


@route(router, "POST", "/api/auth/login", role=None, response_model=s.LoginOut)
def login(tw: TW, body: s.LoginIn, request: Request, response: Response) -> s.LoginOut:
    """Open a console session: sets the HttpOnly ``tw_session`` cookie and returns the CSRF
    token to send as ``X-CSRF-Token`` on every write. Failed logins are limited per account
    and per address (429 with Retry-After)."""
    result = tw.accounts.login(body.username, body.password, client_address(request))
    response.set_cookie(
        SESSION_COOKIE,
        result.session_token,
        max_age=tw.accounts.policy.session_max_s,
        httponly=True,
        samesite="lax",
        secure=_cookie_secure(request),
        path="/",
    )
    return s.LoginOut(
        user=convert.user_out(result.user),
        csrf_token=result.csrf_token,
        expires_at=convert.iso_required(result.expires_at),
    )


@route(router, "POST", "/api/auth/logout", role=Role.VIEWER, status_code=HTTP_204_NO_CONTENT)
def logout(tw: TW, me: Me, request: Request) -> Response:
    """End this console session (a no-op with an API token)."""
    tw.accounts.logout(me)
    response = Response(status_code=HTTP_204_NO_CONTENT)
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=_cookie_secure(request)
    )
    return response


@route(router, "GET", "/api/me", role=Role.VIEWER, response_model=s.MeOut)
def me(tw: TW, me: Me, request: Request) -> s.MeOut:
    """The caller, their effective role, and (for a console session) the CSRF token."""
    user = tw.accounts.get_user(me.user_id)
    token = getattr(request.state, "session_token", None)
    return s.MeOut(
        user=convert.user_out(user),
        via=me.via,  # type: ignore[arg-type]
        role=me.role.value,
        csrf_token=tw.accounts.csrf_token(token) if me.via == "session" and token else None,
        groups=grants_public(me.grants),
    )


@route(router, "POST", "/api/me/password", role=Role.VIEWER, status_code=HTTP_204_NO_CONTENT)
def change_password(tw: TW, me: Me, body: s.PasswordChangeIn, request: Request) -> Response:
    """Change your own password. Every console session of yours ends (log in again); API
    tokens stay valid. Wrong current passwords are throttled like failed logins (429)."""
    tw.accounts.change_password(
        me, body.current_password, body.new_password, client_address(request)
    )
    response = Response(status_code=HTTP_204_NO_CONTENT)
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=_cookie_secure(request)
    )
    return response


# -- users (admins) ----------------------------------------------------------------------------
@route(router, "GET", "/api/users", role=Role.ADMIN, response_model=list[s.UserOut])
def list_users(tw: TW) -> list[s.UserOut]:
    return [convert.user_out(u) for u in tw.accounts.list_users()]


@route(
    router,
    "POST",
    "/api/users",
    role=Role.ADMIN,
    response_model=s.UserOut,
    status_code=HTTP_201_CREATED,
)
@atomic
def create_user(tw: TW, me: Me, body: s.UserCreateIn) -> s.UserOut:
    user = tw.accounts.create_user(body.username, body.password, body.role, by=me.actor)
    return convert.user_out(user)


@route(router, "GET", "/api/users/{user_id}", role=Role.ADMIN, response_model=s.UserOut)
def get_user(tw: TW, user_id: s.RowId) -> s.UserOut:
    return convert.user_out(tw.accounts.get_user(user_id))


@route(router, "PATCH", "/api/users/{user_id}", role=Role.ADMIN, response_model=s.UserOut)
@atomic
def patch_user(tw: TW, me: Me, user_id: s.RowId, body: s.UserPatchIn) -> s.UserOut:
    """Change a user's role, disable them, or set a new password (their sessions end). You
    cannot change your own role or disable yourself; the last admin stays."""
    user = tw.accounts.update_user(
        user_id, by=me, role=body.role, disabled=body.disabled, password=body.password
    )
    return convert.user_out(user)


@route(router, "DELETE", "/api/users/{user_id}", role=Role.ADMIN, status_code=HTTP_204_NO_CONTENT)
@atomic
def delete_user(tw: TW, me: Me, user_id: s.RowId) -> Response:
    """Delete a user; their sessions end and their tokens are revoked."""
    tw.accounts.delete_user(user_id, by=me)
    return Response(status_code=HTTP_204_NO_CONTENT)


# -- API tokens --------------------------------------------------------------------------------
@route(router, "GET", "/api/tokens", role=Role.VIEWER, response_model=list[s.TokenOut])
def list_tokens(
    tw: TW, me: Me, all_users: Annotated[bool, Query(alias="all")] = False
) -> list[s.TokenOut]:
    """Your tokens (never their values); admins may ask for everyone's with ``all=true``."""
    if all_users and me.role.covers(Role.ADMIN):
        tokens = tw.accounts.list_tokens()
    else:
        tokens = tw.accounts.list_tokens(me.user_id)
    now = tw.clock.now_us()
    return [convert.token_out(t, now) for t in tokens]


@route(
    router,
    "POST",
    "/api/tokens",
    role=Role.VIEWER,
    response_model=s.TokenCreated,
    status_code=HTTP_201_CREATED,
)
@atomic
def create_token(tw: TW, me: Me, body: s.TokenIn) -> s.TokenCreated:
    """A new API token with a role no higher than yours. The token is in this response
    only: it is stored as a keyed digest and cannot be shown again."""
    token, info = tw.accounts.create_token(
        me, body.name, body.role, expires_at=convert.micros(body.expires_at, "expires_at")
    )
    return s.TokenCreated(token=token, info=convert.token_out(info, tw.clock.now_us()))


@route(
    router, "DELETE", "/api/tokens/{token_id}", role=Role.VIEWER, status_code=HTTP_204_NO_CONTENT
)
@atomic
def revoke_token(tw: TW, me: Me, token_id: s.TokenIdPath) -> Response:
    """Revoke one of your tokens (admins: anyone's)."""
    tw.accounts.revoke_token(token_id, me)
    return Response(status_code=HTTP_204_NO_CONTENT)
