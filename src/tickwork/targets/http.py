"""The HTTP kind: send one request.

``{kind: http, method: GET, url: ..., headers: {}, params: {}, json: ... | body: "...",
expect_status: ["200-299"], timeout_s: 30, follow_redirects: true, connection: name?}``.

Every request goes through the SSRF guard (``tickwork.net.ssrf``): the host is resolved once,
checked, and the connection pinned to that address; each redirect is checked the same way. A
named HTTP connection gives a base URL (``url`` is then joined to it: ``/health``) and an auth
header, which is sent only to the base URL's origin, never across a redirect elsewhere. The
run's result keeps the status, the headers and the body (bounded); a status outside
``expect_status`` fails the run. A manual run's declared parameters become query parameters:
the URL itself never changes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode, urljoin

from tickwork.net import http as client
from tickwork.net import ssrf
from tickwork.targets.base import (
    Execution,
    Kind,
    Output,
    References,
    TargetFailed,
    Text,
    bool_field,
    connection_name,
    number_field,
    only_keys,
    refuse,
    string_map,
    text_field,
)

FIELDS = (
    "method", "url", "headers", "params", "json", "body", "expect_status", "timeout_s",
    "follow_redirects", "connection",
)  # fmt: skip
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
MAX_BODY_IN = 256 * 1024  # a request body
BODY_KEPT = 8 * 1024  # characters of the response body kept in the result
_RANGE = re.compile(r"^([1-5][0-9][0-9])(?:-([1-5][0-9][0-9]))?\Z")
_HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}\Z")


def status_ranges(value: Any) -> list[tuple[int, int]]:
    """``[200, "200-299", "404"]`` -> [(200, 200), (200, 299), (404, 404)]."""
    if value is None:
        value = ["200-299"]
    if not isinstance(value, list) or not value or len(value) > 50:
        raise refuse("expect_status", 'must be a list of codes or ranges such as ["200-299"]')
    out = []
    for item in value:
        match = _RANGE.match(str(item)) if isinstance(item, int | str) else None
        if isinstance(item, bool) or match is None:
            raise refuse(
                "expect_status", f"{item!r} is not a status code or a range like 200-299",
                "bad_status_range", value=str(item),
            )  # fmt: skip
        low = int(match.group(1))
        high = int(match.group(2) or low)
        if high < low:
            raise refuse("expect_status", f"{item!r} is a reversed range", "reversed_range")
        out.append((low, high))
    return out


def _show_ranges(ranges: list[tuple[int, int]]) -> str:
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in ranges)


class HttpKind(Kind):
    name = "http"
    label = Text("HTTP request", "HTTP 请求")
    parameter_field = "params"

    def validate(self, spec: Mapping[str, Any]) -> dict[str, Any]:
        only_keys(spec, FIELDS, self.name)
        method = spec.get("method", "GET")
        if not isinstance(method, str) or method.upper() not in METHODS:
            raise refuse(
                "method", f"{method!r} is not one of {', '.join(METHODS)}", "not_one_of",
                choices=list(METHODS),
            )  # fmt: skip
        connection = connection_name(spec)
        url = text_field(spec, "url", required=True, limit=4096) or ""
        if connection is None or "://" in url:
            ssrf.split_url(url, "target.url")
        elif not url.startswith("/"):
            raise refuse(
                "url", "with a connection, give a path such as /health (or a full URL)",
                "bad_url",
            )  # fmt: skip
        headers = string_map(spec, "headers")
        for key, value in headers.items():
            if not _HEADER_NAME.match(key) or any(c in value for c in "\r\n"):
                raise refuse(f"headers.{key}", "is not a valid header line", "bad_header")
        params = string_map(spec, "params")
        out: dict[str, Any] = {"method": method.upper(), "url": url}
        if headers:
            out["headers"] = headers
        if params:
            out["params"] = params
        if "json" in spec and "body" in spec:
            raise refuse("body", "give json or body, not both", "json_and_body")
        if "json" in spec:
            try:
                text = json.dumps(spec["json"], allow_nan=False)
            except (TypeError, ValueError) as exc:
                raise refuse("json", f"must be JSON: {exc}", "json_type") from None
            if len(text) > MAX_BODY_IN:
                raise refuse("json", "is larger than 256 KiB", "too_long", max=MAX_BODY_IN)
            out["json"] = spec["json"]
        elif spec.get("body") is not None:
            out["body"] = text_field(spec, "body", limit=MAX_BODY_IN)
        if out["method"] in ("GET", "HEAD") and ("json" in out or "body" in out):
            raise refuse("body", f"a {out['method']} request has no body", "body_not_allowed")
        ranges = status_ranges(spec.get("expect_status"))
        if ranges != [(200, 299)]:
            out["expect_status"] = [str(a) if a == b else f"{a}-{b}" for a, b in ranges]
        out["timeout_s"] = number_field(spec, "timeout_s", low=0.1, high=3600, default=30.0)
        if not bool_field(spec, "follow_redirects", True):
            out["follow_redirects"] = False
        if connection:
            out["connection"] = connection
        return out

    def describe(self, spec: Mapping[str, Any]) -> Text:
        where = spec.get("url", "")
        if spec.get("connection"):
            where = f"{spec['connection']}: {where}"
        text = f"{spec.get('method', 'GET')} {where}"
        return Text(text, text)

    def references(self, spec: Mapping[str, Any]) -> References:
        name = spec.get("connection")
        return References(connections=(name,) if name else ())

    def execution(self, spec: Mapping[str, Any], timeout_s: float | None) -> Execution:
        return HttpExecution(spec)


class HttpExecution(Execution):
    def __init__(self, spec: Mapping[str, Any]) -> None:
        self.spec = spec
        self.request: client.Request | None = None
        self._stopped = False

    def stop(self) -> None:
        self._stopped = True
        if self.request is not None:
            self.request.stop()

    def _build(self) -> client.Request:
        spec = self.spec
        connection = spec.get("_connection") or {}
        url = str(spec["url"])
        headers: list[tuple[str, str]] = []
        origin = None
        secret_headers: list[str] = []
        if connection:
            base = str(connection["base_url"])
            url = (
                urljoin(base if base.endswith("/") else base + "/", url.lstrip("/"))
                if ("://" not in url)
                else url
            )
            headers += client.header_list(connection.get("headers"))
            if connection.get("auth_value"):
                name = str(connection.get("auth_header") or "Authorization")
                headers.append((name, str(connection["auth_value"])))
                secret_headers.append(name)
            origin = ssrf.origin_of(base)
        headers += client.header_list(spec.get("headers"))
        query = {**(spec.get("params") or {}), **(spec.get("_params") or {})}
        if query:
            url += ("&" if "?" in url else "?") + urlencode(
                {k: v if isinstance(v, str) else json.dumps(v) for k, v in query.items()}
            )
        body: bytes | None = None
        if "json" in spec:
            body = json.dumps(spec["json"], separators=(",", ":")).encode()
            if not any(k.lower() == "content-type" for k, _ in headers):
                headers.append(("Content-Type", "application/json"))
        elif spec.get("body") is not None:
            body = str(spec["body"]).encode()
        return client.Request(
            str(spec.get("method", "GET")),
            url,
            headers=headers,
            body=body,
            timeout_s=float(spec.get("timeout_s") or 30.0),
            allow=ssrf.Allowlist.parse(",".join(spec.get("_allow") or [])),
            follow_redirects=bool(spec.get("follow_redirects", True)),
            max_body=BODY_KEPT * 4,
            credentials_origin=origin,
            secret_headers=secret_headers,
        )

    def run(self, out: Output) -> Any:
        self.request = request = self._build()
        if self._stopped:
            raise TargetFailed("stopped before the request was sent")
        out.write(f"{request.method} {request.url}\n")
        try:
            response = request.send()
        except ssrf.OutboundRefused as exc:
            raise TargetFailed(f"refused by the SSRF guard: {exc}") from None
        except client.HttpError as exc:
            raise TargetFailed(f"the request failed: {exc}") from None
        text = response.body.decode("utf-8", "replace")
        cut = response.truncated or len(text) > BODY_KEPT
        result = {
            "status": response.status,
            "reason": response.reason,
            "url": response.url,
            "headers": dict(response.headers[:50]),
            "body": text[:BODY_KEPT],
            "body_truncated": cut,
            "elapsed_ms": round(response.elapsed_s * 1000, 1),
        }
        if response.redirects:
            result["redirects"] = response.redirects
        for hop in response.redirects:
            out.write(f"-> {hop}\n")
        out.write(f"HTTP {response.status} {response.reason} ({len(response.body)} bytes)\n")
        ranges = status_ranges(self.spec.get("expect_status"))
        if not any(low <= response.status <= high for low, high in ranges):
            raise TargetFailed(
                f"HTTP {response.status} {response.reason} (expected {_show_ranges(ranges)})",
                result,
            )
        return result


KIND = HttpKind()
