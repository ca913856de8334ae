"""Errors as RFC 9457 ``application/problem+json``: the facade's exceptions, request
validation and HTTP errors, each with an English title and detail, for bad input the field,
and always a machine-readable ``code`` with its ``params`` (the console translates by code:
``console/src/i18n/problems.ts`` has a template for every code this API sends)."""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping, Sequence
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


# The code of a problem whose cause gave none: by status.
STATUS_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found_route",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "request_too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}


def problem(
    status: int,
    detail: str,
    *,
    field: str | None = None,
    headers: dict[str, str] | None = None,
    code: str | None = None,
    params: Mapping[str, Any] | None = None,
    **extra: Any,
) -> ProblemResponse:
    body: dict[str, Any] = {
        "type": f"urn:tickwork:problem:{SLUGS.get(status, 'error')}",
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "code": code or STATUS_CODES.get(status, "error"),
        "params": _json_params(params),
    }
    if field is not None:
        body["field"] = field
    body.update({k: v for k, v in extra.items() if v is not None})
    return ProblemResponse(body, status_code=status, headers=headers)


def unauthenticated(
    detail: str = "log in or send an API token", code: str | None = None
) -> ProblemResponse:
    return problem(401, detail, headers={"WWW-Authenticate": 'Bearer realm="tickwork"'}, code=code)


def _json_params(params: Mapping[str, Any] | None) -> dict[str, Any]:
    """Params as JSON values (anything else as its text)."""
    out: dict[str, Any] = {}
    for key, value in (params or {}).items():
        out[key] = _json_value(value)
    return out


def _json_value(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return [_json_value(v) for v in items]
    if isinstance(value, Mapping):
        return {str(k): _json_value(v) for k, v in value.items()}
    return str(value)


# Pydantic's error types (its own codes), with its context renamed to the API's params.
_PYDANTIC_PARAMS = {
    "string_too_long": {"max_length": "max"},
    "string_too_short": {"min_length": "min"},
    "too_long": {"max_length": "max"},
    "too_short": {"min_length": "min"},
    "greater_than_equal": {"ge": "min"},
    "greater_than": {"gt": "min"},
    "less_than_equal": {"le": "max"},
    "less_than": {"lt": "max"},
    "multiple_of": {"multiple_of": "step"},
    "string_pattern_mismatch": {"pattern": "pattern"},
}
# Types whose meaning the console knows; any other is sent as "invalid_value".
PYDANTIC_CODES = frozenset(
    {
        *_PYDANTIC_PARAMS,
        "missing",
        "extra_forbidden",
        "literal_error",
        "enum",
        "json_invalid",
        "json_type",
        "string_type",
        "int_type",
        "int_parsing",
        "int_from_float",
        "float_type",
        "float_parsing",
        "finite_number",
        "bool_type",
        "bool_parsing",
        "list_type",
        "dict_type",
        "model_type",
        "model_attributes_type",
        "datetime_type",
        "datetime_parsing",
        "datetime_from_date_parsing",
        "timezone_aware",
        "none_required",
        "value_error",
    }
)


def validation_problem(errors: Sequence[Mapping[str, Any]]) -> ProblemResponse:
    """The first of Pydantic's errors as a problem: field, English message, code, params."""
    first = errors[0] if errors else {}
    kind = str(first.get("type", "invalid_value"))
    loc = [str(p) for p in first.get("loc", ())]
    if loc and loc[0] in ("body", "query", "path", "header", "cookie"):
        loc = loc[1:]
    ctx = dict(first.get("ctx") or {})
    message = str(first.get("msg", "is invalid"))
    params: dict[str, Any] = {}
    if kind == "json_invalid":
        # loc is ("body", character offset): the field is the body, the offset a param.
        position = loc[0] if loc and loc[0].isdigit() else None
        loc = []
        error = str(ctx.get("error", ""))
        params = {"position": int(position) if position else None, "error": error}
        message = "the body is not valid JSON" + (f": {error}" if error else "")
        if position:
            message += f" at character {position}"
    elif kind == "literal_error":
        params = {"expected": re.findall(r"'([^']*)'", str(ctx.get("expected", "")))}
    elif kind in _PYDANTIC_PARAMS:
        params = {new: ctx.get(old) for old, new in _PYDANTIC_PARAMS[kind].items()}
    elif kind == "value_error":
        params = {"error": str(ctx.get("error", message))}
    if kind not in PYDANTIC_CODES:
        params = {"type": kind}
        kind = "invalid_value"
    field = ".".join(loc) or "body"
    return problem(422, message, field=field, code=kind, params=params)


# Seconds a client should wait before retrying while the database does not answer.
RETRY_AFTER_OUTAGE_S = 5


def install(app: FastAPI) -> None:
    @app.exception_handler(InvalidInput)
    async def _invalid(_: Request, exc: InvalidInput) -> ProblemResponse:
        status = 400 if isinstance(exc, BadParameter) else 422
        return problem(status, exc.reason, field=exc.field, code=exc.code, params=exc.params)

    from sqlalchemy import exc as db_errors

    async def _outage(_: Request, exc: Exception) -> ProblemResponse:
        # The database is down, restarting or unreachable: nothing was written, try again.
        log.warning("database unavailable during an API request: %s", type(exc).__name__)
        return problem(
            503,
            "the database is not answering; nothing was changed, try again shortly",
            headers={"Retry-After": str(RETRY_AFTER_OUTAGE_S)},
            code="database_unavailable",
            params={"seconds": RETRY_AFTER_OUTAGE_S},
            retry_after_s=RETRY_AFTER_OUTAGE_S,
        )

    for outage in (db_errors.OperationalError, db_errors.InterfaceError, db_errors.TimeoutError):
        app.add_exception_handler(outage, _outage)

    @app.exception_handler(NotFound)
    async def _not_found(_: Request, exc: NotFound) -> ProblemResponse:
        return problem(404, str(exc), code=exc.code, params=exc.params)

    @app.exception_handler(Conflict)
    async def _conflict(_: Request, exc: Conflict) -> ProblemResponse:
        return problem(409, exc.reason, field=exc.field, code=exc.code, params=exc.params)

    @app.exception_handler(AuthenticationFailed)
    async def _unauth(_: Request, exc: AuthenticationFailed) -> ProblemResponse:
        return unauthenticated(str(exc), code=exc.code)

    @app.exception_handler(PermissionDenied)
    async def _forbidden(_: Request, exc: PermissionDenied) -> ProblemResponse:
        return problem(403, str(exc), code=exc.code, params=exc.params)

    @app.exception_handler(RateLimited)
    async def _rate(_: Request, exc: RateLimited) -> ProblemResponse:
        return problem(
            429,
            str(exc),
            headers={"Retry-After": str(exc.retry_after_s)},
            code=exc.code,
            params={**exc.params, "seconds": exc.retry_after_s},
            retry_after_s=exc.retry_after_s,
        )

    @app.exception_handler(TickworkError)
    async def _other(_: Request, exc: TickworkError) -> ProblemResponse:
        return problem(400, str(exc), code=exc.code, params=exc.params)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> ProblemResponse:
        return validation_problem(exc.errors())

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> ProblemResponse:
        headers = dict(exc.headers) if exc.headers else None
        detail = exc.detail if isinstance(exc.detail, str) else TITLES.get(exc.status_code, "")
        return problem(exc.status_code, detail, headers=headers)

    @app.exception_handler(Exception)
    async def _crash(_: Request, exc: Exception) -> ProblemResponse:
        log.error("unhandled %s in an API request", type(exc).__name__, exc_info=exc)
        return problem(500, "the server failed; the error is in its log", code="internal_error")
