"""Pure ASGI middleware: security headers on every response, a request body limit (413),
JSON-only request bodies (415, which also keeps HTML forms from posting cross-site), and a
bound on how deeply a body nests (422): 500-989 levels passed the size check, were stored,
and then broke every page that showed them."""

from __future__ import annotations

import json
import re
from array import array
from collections.abc import Awaitable, Callable, MutableMapping
from itertools import accumulate
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# No inline script or style, nothing from elsewhere, no framing.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]
_JSON_TYPES = (b"application/json", b"application/merge-patch+json", b"application/problem+json")
# How deeply a request body may nest: a job's stored values may nest 32 levels
# (tickwork.parameters.MAX_DEPTH), and sit a few levels down in a body.
MAX_BODY_DEPTH = 40
_STRINGS = re.compile(rb'"(?:[^"\\]++|\\.)*+"')
_BRACKETS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")
_OTHER = bytes(b for b in range(256) if b not in b"[{]}")
# A \uD800-\uDFFF escape that is not half of a pair decodes to a string no database, log or
# response can encode (UTF-8 has no lone surrogates): refused at the door.
_LONE_SURROGATE = re.compile(
    rb"(?i:\\ud[89ab][0-9a-f]{2}(?!\\ud[c-f][0-9a-f]{2})"
    rb"|(?<!\\ud[89ab][0-9a-f]{2})\\ud[c-f][0-9a-f]{2})"
)


def json_depth(body: bytes) -> int:
    """How deeply a JSON text nests (its strings skipped), in C-speed passes: 1 MiB of
    brackets takes milliseconds, and nothing recurses."""
    brackets = _STRINGS.sub(b"", body).translate(_BRACKETS, _OTHER)
    return max(accumulate(array("b", brackets)), default=0)


class SecurityHeaders:
    def __init__(self, app: ASGIApp, *, hsts: bool = False) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        api = str(scope.get("path", "")).startswith("/api")
        secure = scope.get("scheme") == "https"

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in SECURITY_HEADERS if k not in present]
                if api and b"cache-control" not in present:
                    headers.append((b"cache-control", b"no-store"))
                if secure and self.hsts:
                    headers.append((b"strict-transport-security", b"max-age=31536000"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


class BodyLimit:
    """Refuse request bodies over ``max_bytes`` (by Content-Length or while streaming) and
    bodies that are not JSON."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.lower(): v for k, v in scope.get("headers", [])}
        length = headers.get(b"content-length")
        if length is not None:
            try:
                size = int(length)
            except ValueError:
                await _problem(
                    send, 400, "Bad request", "Content-Length is not a number", code="bad_length"
                )
                return
            if size > self.max_bytes:
                await _too_large(send, self.max_bytes)
                return
        has_body = (length is not None and length != b"0") or b"transfer-encoding" in headers
        if has_body and scope.get("method") in ("POST", "PUT", "PATCH"):
            ctype = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
            if ctype not in _JSON_TYPES:
                await _problem(
                    send,
                    415,
                    "Unsupported media type",
                    "send the body as application/json",
                    code="unsupported_media_type",
                )
                return
        received = 0
        started = False
        refused = False
        chunks: list[bytes] = []

        async def limited() -> Message:
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                received += len(chunk)
                if received > self.max_bytes and not refused:
                    # Answer 413 now and tell the app the client went away, so it stops
                    # reading; whatever it answers after that is dropped.
                    refused = True
                    if not started:
                        await _too_large(send, self.max_bytes)
                    return {"type": "http.disconnect"}
                chunks.append(chunk)
                if not message.get("more_body", False) and not refused:
                    body = b"".join(chunks)
                    refusal = _refusal(body)
                    if refusal is not None:
                        refused = True
                        if not started:
                            detail, code, params = refusal
                            await _problem(
                                send, 422, "Invalid input", detail, code=code, params=params
                            )
                        return {"type": "http.disconnect"}
            return message

        async def tracking(message: Message) -> None:
            nonlocal started
            if refused:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.app(scope, limited, tracking)


Refusal = tuple[str, str, dict[str, int]]


def _refusal(body: bytes) -> Refusal | None:
    """Why a complete body is refused before the app sees it: (detail, code, params)."""
    depth = json_depth(body)
    if depth > MAX_BODY_DEPTH:
        return _because(
            f"the JSON nests {depth} levels deep; the limit is {MAX_BODY_DEPTH}",
            code="body_too_deep",
            params={"depth": depth, "max": MAX_BODY_DEPTH},
        )
    if _LONE_SURROGATE.search(body):
        return _because(
            "the JSON holds a lone UTF-16 surrogate (\\uD800-\\uDFFF), which is not text",
            code="lone_surrogate",
        )
    return None


def _because(detail: str, *, code: str, params: dict[str, int] | None = None) -> Refusal:
    return detail, code, params or {}


async def _too_large(send: Send, limit: int) -> None:
    await _problem(
        send,
        413,
        "Request body too large",
        f"the limit is {limit} bytes",
        code="body_too_large",
        params={"max": limit},
    )


async def _problem(
    send: Send,
    status: int,
    title: str,
    detail: str,
    *,
    code: str,
    params: dict[str, int] | None = None,
) -> None:
    slug = {
        400: "bad-request",
        413: "too-large",
        415: "unsupported-media-type",
        422: "invalid-input",
    }[status]
    body = json.dumps(
        {
            "type": f"urn:tickwork:problem:{slug}",
            "title": title,
            "status": status,
            "detail": detail,
            "code": code,
            "params": params or {},
            "field": "body",
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
