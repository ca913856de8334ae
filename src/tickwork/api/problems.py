"""Errors as RFC 9457 ``application/problem+json``: the facade's exceptions, request
validation and HTTP errors, each with an English title and, for bad input, the field."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from tickwork.accounts.errors import AuthenticationFailed, PermissionDenied, RateLimited
from tickwork.errors import BadParameter, Conflict, InvalidInput, NotFound, TickworkError

log = logging.getLogger("tickwork.api")
MEDIA_TYPE = "application/problem+json"
TITLES = {
    400: "Bad request",
    401: "Authentication required",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Invalid input",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}
SLUGS = {
    400: "bad-request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    409: "conflict",
    413: "too-large",
    415: "unsupported-media-type",
    422: "invalid-input",
    429: "rate-limited",
    500: "internal-error",
    503: "unavailable",
}


class ProblemResponse(JSONResponse):
    media_type = MEDIA_TYPE


def problem(
    status: int,
    detail: str,
    *,
    field: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> ProblemResponse:
    body: dict[str, Any] = {
        "type": f"urn:tickwork:problem:{SLUGS.get(status, 'error')}",
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if field is not None:
        body["field"] = field
    body.update({k: v for k, v in extra.items() if v is not None})
    return ProblemResponse(body, status_code=status, headers=headers)


def unauthenticated(detail: str = "log in or send an API token") -> ProblemResponse:
    return problem(401, detail, headers={"WWW-Authenticate": 'Bearer realm="tickwork"'})


# Seconds a client should wait before retrying while the database does not answer.
RETRY_AFTER_OUTAGE_S = 5


def install(app: FastAPI) -> None:
    @app.exception_handler(InvalidInput)
    async def _invalid(_: Request, exc: InvalidInput) -> ProblemResponse:
        return problem(400 if isinstance(exc, BadParameter) else 422, exc.reason, field=exc.field)

    from sqlalchemy import exc as db_errors

    async def _outage(_: Request, exc: Exception) -> ProblemResponse:
        # The database is down, restarting or unreachable: nothing was written, try again.
        log.warning("database unavailable during an API request: %s", type(exc).__name__)
        return problem(
            503,
            "the database is not answering; nothing was changed, try again shortly",
            headers={"Retry-After": str(RETRY_AFTER_OUTAGE_S)},
            retry_after_s=RETRY_AFTER_OUTAGE_S,
        )

    for outage in (db_errors.OperationalError, db_errors.InterfaceError, db_errors.TimeoutError):
        app.add_exception_handler(outage, _outage)

    @app.exception_handler(NotFound)
    async def _not_found(_: Request, exc: NotFound) -> ProblemResponse:
        return problem(404, str(exc))

    @app.exception_handler(Conflict)
    async def _conflict(_: Request, exc: Conflict) -> ProblemResponse:
        return problem(409, exc.reason, field=exc.field)

    @app.exception_handler(AuthenticationFailed)
    async def _unauth(_: Request, exc: AuthenticationFailed) -> ProblemResponse:
        return unauthenticated(str(exc))

    @app.exception_handler(PermissionDenied)
    async def _forbidden(_: Request, exc: PermissionDenied) -> ProblemResponse:
        return problem(403, str(exc))

    @app.exception_handler(RateLimited)
    async def _rate(_: Request, exc: RateLimited) -> ProblemResponse:
        return problem(
            429,
            str(exc),
            headers={"Retry-After": str(exc.retry_after_s)},
            retry_after_s=exc.retry_after_s,
        )

    @app.exception_handler(TickworkError)
    async def _other(_: Request, exc: TickworkError) -> ProblemResponse:
        return problem(400, str(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> ProblemResponse:
        errors = exc.errors()
        first = errors[0] if errors else {}
        loc = [str(p) for p in first.get("loc", ())]
        if loc and loc[0] in ("body", "query", "path", "header", "cookie"):
            loc = loc[1:]
        field = ".".join(loc) or "body"
        message = str(first.get("msg", "is invalid"))
        return problem(422, message, field=field)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> ProblemResponse:
        headers = dict(exc.headers) if exc.headers else None
        detail = exc.detail if isinstance(exc.detail, str) else TITLES.get(exc.status_code, "")
        return problem(exc.status_code, detail, headers=headers)

    @app.exception_handler(Exception)
    async def _crash(_: Request, exc: Exception) -> ProblemResponse:
        log.error("unhandled %s in an API request", type(exc).__name__, exc_info=exc)
        return problem(500, "the server failed; the error is in its log")
