"""What every channel shares: its fields (public and secret), the context of a send, and a
JSON POST through the SSRF guard whose answer is kept as a masked excerpt."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tickwork.alerts.outbox import SendResult
from tickwork.errors import InvalidInput
from tickwork.net import http, ssrf

KINDS = ("email", "dingtalk", "wecom", "feishu", "slack", "webhook")
# Public hosts each robot posts to. A robot URL elsewhere is refused unless the
# administrator's SSRF allowlist names its host (a proxy, or a test receiver on 127.0.0.1).
ROBOT_HOSTS: dict[str, tuple[str, ...]] = {
    "dingtalk": ("oapi.dingtalk.com",),
    "wecom": ("qyapi.weixin.qq.com",),
    "feishu": ("open.feishu.cn", "open.larksuite.com"),
    "slack": ("hooks.slack.com",),
}
# kind -> (public fields, secret fields)
FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "email": (("connection", "to"), ()),
    "dingtalk": ((), ("url", "secret")),
    "wecom": ((), ("url",)),
    "feishu": ((), ("url", "secret")),
    "slack": ((), ("url",)),
    "webhook": ((), ("url", "secret")),
}
EXCERPT = 500
_EMAIL = re.compile(r"^[^@\s<>,;\"']{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}\Z")


@dataclass(frozen=True, slots=True)
class SendContext:
    allow: ssrf.Allowlist
    now_us: int
    # opens a named SMTP connection: (fields with secrets, texts to mask)
    open_smtp: Callable[[str], tuple[dict[str, Any], Sequence[str]]] | None = None
    timeout_s: float = 10.0
    resolver: ssrf.Resolver | None = None
    delivery_id: int | None = None
    extra_masks: tuple[str, ...] = field(default_factory=tuple)


def refuse(
    field_: str, reason: str, *, code: str = "invalid_value", params: dict[str, Any] | None = None
) -> InvalidInput:
    return InvalidInput(field_, reason, code=code, params=params)


def check_fields(
    kind: str, fields: Mapping[str, Any], allow: ssrf.Allowlist
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(public, secret) parts of a channel's fields, checked; the URL's literal address
    through the SSRF guard and a robot's host against its service's hosts."""
    if not isinstance(fields, Mapping):
        raise refuse("fields", "must be an object", code="wrong_type")
    public_names, secret_names = FIELDS[kind]
    unknown = sorted(set(fields) - set(public_names) - set(secret_names))
    if unknown:
        raise refuse(
            f"fields.{unknown[0]}",
            f"is not a field of a {kind} channel "
            f"(it takes {', '.join(public_names + secret_names)})",
            code="unknown_alert_field",
            params={"name": unknown[0]},
        )
    if kind == "email":
        name = fields.get("connection")
        if not isinstance(name, str) or not name:
            raise refuse(
                "fields.connection", "names the SMTP connection to send with", code="missing"
            )
        to = fields.get("to")
        if isinstance(to, str):
            to = [a.strip() for a in to.split(",") if a.strip()]
        if not isinstance(to, list) or not to or len(to) > 50:
            raise refuse("fields.to", "lists 1-50 recipient addresses", code="missing")
        for address in to:
            if not isinstance(address, str) or not _EMAIL.match(address):
                raise refuse(
                    "fields.to",
                    f"{address!r} is not an email address",
                    code="bad_email",
                    params={"value": str(address)},
                )
        return {"connection": name, "to": to}, {}
    url = fields.get("url")
    if not isinstance(url, str) or not url.strip():
        raise refuse("fields.url", f"is required: the {kind} webhook address", code="missing")
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > 2000:
        raise refuse("fields.url", "must be an http(s) URL", code="bad_url")
    check_host(kind, url, allow, "fields.url")
    ssrf.check_literal_host(url, allow, "fields.url")
    secret: dict[str, Any] = {"url": url}
    sign = fields.get("secret")
    if sign not in (None, ""):
        if not isinstance(sign, str) or len(sign) > 500:
            raise refuse(
                "fields.secret", "must be text of at most 500 characters", code="text_type"
            )
        secret["secret"] = sign
    return {"host": parts.hostname}, secret


def check_host(kind: str, url: str, allow: ssrf.Allowlist, field_: str) -> None:
    hosts = ROBOT_HOSTS.get(kind)
    if hosts is None:
        return
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if host in hosts and parts.scheme == "https":
        return
    if allow.allows_host(host):
        return
    try:
        import ipaddress

        if allow.allows_address(ipaddress.ip_address(host)):
            return
    except ValueError:
        pass
    raise refuse(
        field_,
        f"a {kind} robot posts to https://{hosts[0]}; {host!r} is not one of "
        f"{', '.join(hosts)} nor on the SSRF allowlist",
        code="robot_host",
        params={"kind": kind, "host": host, "hosts": list(hosts)},
    )


def url_masks(fields: Mapping[str, Any]) -> list[str]:
    """Texts of a channel that are secret: its URL, the URL's path and query values, and
    the signing secret (to mask wherever an answer or an error might echo them)."""
    out: list[str] = []
    url = fields.get("url")
    if isinstance(url, str) and url:
        out.append(url)
        parts = urlsplit(url)
        out += [v for _, v in parse_qsl(parts.query) if len(v) >= 4]
        out += [seg for seg in parts.path.split("/") if len(seg) >= 12]
    if fields.get("secret"):
        out.append(str(fields["secret"]))
    return [v for v in dict.fromkeys(out) if v]


def masker(values: Sequence[str]) -> Callable[[str], str]:
    from tickwork.executors.redact import redactor

    mask = redactor(values)
    return (lambda s: s) if mask is None else mask


def post_json(
    url: str,
    payload: Any,
    ctx: SendContext,
    masks: Sequence[str],
    headers: Sequence[tuple[str, str]] = (),
    body: bytes | None = None,
) -> tuple[int | None, str, dict[str, str], str | None]:
    """POST ``payload`` as JSON: (status, masked body excerpt, headers, masked error)."""
    mask = masker([*masks, *ctx.extra_masks])
    data = body if body is not None else json.dumps(payload, ensure_ascii=False).encode()
    try:
        response = http.Request(
            "POST",
            url,
            headers=[("Content-Type", "application/json; charset=utf-8"), *headers],
            body=data,
            timeout_s=ctx.timeout_s,
            allow=ctx.allow,
            resolver=ctx.resolver,
            follow_redirects=False,
            max_body=8192,
        ).send()
    except ssrf.OutboundRefused as exc:
        return None, "", {}, mask(f"refused by the SSRF guard: {exc.reason}")
    except http.HttpError as exc:
        return None, "", {}, mask(str(exc))
    text = response.body.decode("utf-8", "replace")[:EXCERPT]
    got = {k.lower(): v for k, v in response.headers}
    return response.status, mask(text), got, None


def json_answer(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("retry-after")
    try:
        return max(0.0, min(3600.0, float(value))) if value else None
    except ValueError:
        return None


def http_failure(
    status: int | None, text: str, error: str | None, headers: Mapping[str, str]
) -> SendResult:
    if status is None:
        return SendResult(False, None, None, error)
    return SendResult(
        False, status, text, f"HTTP {status}",
        retry_after(headers) if status == 429 else None,
    )  # fmt: skip
