"""The IM robots (DingTalk, WeCom, Feishu/Lark, Slack) and the generic webhook.

Written here on Tickwork's pinned HTTP client rather than taken from apprise: every request
must go through the SSRF guard (apprise uses requests, which connects wherever DNS says), and
DingTalk, WeCom and Feishu answer HTTP 200 with an error code in the body when they refuse a
message (bad signature, keyword, rate limit): a send counts as delivered only when that code
says so, which apprise's plugins for them do not check. Each sender is a few lines of the
vendor's documented protocol."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from tickwork.alerts.channels.base import (
    SendContext,
    check_host,
    http_failure,
    json_answer,
    post_json,
    url_masks,
)
from tickwork.alerts.messages import (
    Message,
    escape_lark,
    one_line,
    render_markdown,
    render_slack,
    render_text,
)
from tickwork.alerts.outbox import SendResult

# Codes the services answer when a robot sends too fast: wait a minute.
_RATE_CODES = {"dingtalk": {130101}, "wecom": {45009}, "feishu": {11232, 9499}}
_COLORS = {"info": "blue", "warning": "orange", "critical": "red"}


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's signature: base64(HMAC-SHA256(secret, "<timestamp>\\n<secret>"))."""
    digest = hmac.new(
        secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256
    ).digest()
    return base64.b64encode(digest).decode()


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """Feishu/Lark's signature: base64(HMAC-SHA256(key="<timestamp>\\n<secret>", msg=""))."""
    key = f"{timestamp_s}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()


def webhook_signature(secret: str, timestamp_s: int, body: bytes) -> str:
    """The generic webhook's ``X-Tickwork-Signature``: ``sha256=`` and the hex
    HMAC-SHA256 of ``"<timestamp>." + body`` under the channel's secret."""
    mac = hmac.new(secret.encode(), str(timestamp_s).encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def _coded(kind: str, status: int | None, text: str, error: str | None,
           headers: Mapping[str, str], code_keys: tuple[str, ...]) -> SendResult:  # fmt: skip
    """Delivered only on HTTP 200 with the body's error code 0."""
    if status != 200:
        return http_failure(status, text, error, headers)
    answer = json_answer(text)
    code = next((answer[k] for k in code_keys if k in answer), None)
    if code == 0:
        return SendResult(True, status, text)
    wait = 60.0 if code in _RATE_CODES.get(kind, ()) else None
    shown = "no error code in the answer" if code is None else f"error code {code}"
    message = answer.get("errmsg") or answer.get("msg") or ""
    return SendResult(False, status, text, f"{kind} refused the message: {shown} {message}".strip(),
                      wait)  # fmt: skip


def send_robot(
    kind: str, fields: Mapping[str, Any], message: Message, ctx: SendContext
) -> SendResult:
    url = str(fields["url"])
    check_host(kind, url, ctx.allow, "url")
    masks = url_masks(fields)
    secret = fields.get("secret")
    title = one_line(message.title())
    if kind == "dingtalk":
        if secret:
            ts = ctx.now_us // 1000
            sep = "&" if "?" in url else "?"
            url = f"{url}{sep}timestamp={ts}&sign={quote(dingtalk_sign(str(secret), ts), safe='')}"
        payload: dict[str, Any] = {
            "msgtype": "markdown",
            "markdown": {"title": title[:100], "text": render_markdown(message)},
        }
        status, text, headers, error = post_json(url, payload, ctx, masks)
        return _coded(kind, status, text, error, headers, ("errcode",))
    if kind == "wecom":
        payload = {"msgtype": "markdown", "markdown": {"content": render_markdown(message)[:4000]}}
        status, text, headers, error = post_json(url, payload, ctx, masks)
        return _coded(kind, status, text, error, headers, ("errcode",))
    if kind == "feishu":
        elements: list[dict[str, Any]] = [
            {"tag": "div", "text": {"tag": "lark_md", "content": _lark_body(message)}}
        ]
        if message.link:
            elements.append({
                "tag": "action",
                "actions": [{
                    "tag": "button", "type": "primary", "url": message.link,
                    "text": {"tag": "plain_text", "content": _open(message)},
                }],
            })  # fmt: skip
        payload = {
            "msg_type": "interactive",
            "card": {
                "header": {
                    "title": {"tag": "plain_text", "content": title[:200]},
                    "template": _COLORS.get(message.severity, "orange"),
                },
                "elements": elements,
            },
        }
        if secret:
            ts = ctx.now_us // 1_000_000
            payload = {"timestamp": str(ts), "sign": feishu_sign(str(secret), ts), **payload}
        status, text, headers, error = post_json(url, payload, ctx, masks)
        return _coded(kind, status, text, error, headers, ("code", "StatusCode"))
    if kind == "slack":
        payload = {"text": render_slack(message)}
        status, text, headers, error = post_json(url, payload, ctx, masks)
        if status == 200 and text.strip() == "ok":
            return SendResult(True, status, text)
        return http_failure(status, text, error, headers)
    raise ValueError(f"not a robot: {kind}")


def _open(message: Message) -> str:
    from tickwork.alerts.messages import TEXTS

    return TEXTS[message.lang]["open"]


def _lark_body(message: Message) -> str:
    lines = [f"- {label}: {escape_lark(value)}" for label, value in message.fields]
    lines += [f"- {escape_lark(d)}" for d in message.details]
    return "\n".join(lines)


def send_webhook(
    fields: Mapping[str, Any], alert: Mapping[str, Any], message: Message, ctx: SendContext
) -> SendResult:
    """POST the alert as JSON; delivered on any 2xx. Signed when the channel has a secret."""
    facts = alert.get("facts") or {}
    payload = {
        "alert_id": alert.get("id"),
        "delivery_id": ctx.delivery_id,
        "kind": alert.get("kind"),
        "rule": alert.get("rule_id"),
        "severity": alert.get("severity"),
        "job_id": alert.get("job_id"),
        "run_id": alert.get("run_id"),
        "created_at": alert.get("created_at"),
        "title": one_line(message.title()),
        "text": render_text(message),
        "link": message.link,
        "facts": facts,
    }
    body = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()
    ts = ctx.now_us // 1_000_000
    headers = [("X-Tickwork-Timestamp", str(ts))]
    if ctx.delivery_id is not None:
        headers.append(("X-Tickwork-Delivery", str(ctx.delivery_id)))
    if fields.get("secret"):
        headers.append(("X-Tickwork-Signature", webhook_signature(str(fields["secret"]), ts, body)))
    masks = url_masks(fields)
    status, text, got, error = post_json(str(fields["url"]), None, ctx, masks, headers, body)
    if status is not None and 200 <= status < 300:
        return SendResult(True, status, text)
    return http_failure(status, text, error, got)
