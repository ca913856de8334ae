"""Sending one delivery: open the channel's secrets, compose the message in the channel's
language, send it with the channel's kind. Nothing here writes to the database (the outbox
records the attempt)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tickwork.alerts.channels.base import SendContext
from tickwork.alerts.messages import compose
from tickwork.alerts.outbox import SendResult
from tickwork.alerts.repo import ChannelRecord
from tickwork.connections.vault import Vault, open_sealed
from tickwork.net import ssrf

log = logging.getLogger("tickwork.alerts")


def secret_context(name: str) -> str:
    return f"alert-channel:{name}:secret"


def seal_secret(vault: Vault, name: str, secret: Mapping[str, Any]) -> str | None:
    if not secret:
        return None
    return vault.seal(json.dumps(dict(secret), ensure_ascii=False).encode(), secret_context(name))


def open_secret(name: str, sealed: str | None) -> dict[str, Any]:
    if not sealed:
        return {}
    value = json.loads(open_sealed(sealed, secret_context(name)))
    return dict(value) if isinstance(value, dict) else {}


@dataclass(frozen=True, slots=True)
class Sender:
    """What a process needs to send: the SSRF allowlist, the console's base URL (for links),
    and a way to open a named SMTP connection."""

    allow: ssrf.Allowlist
    base_url: str | None
    open_smtp: Callable[[str], tuple[dict[str, Any], Sequence[str]]] | None
    resolver: ssrf.Resolver | None = None
    timeout_s: float = 10.0

    def send(
        self,
        channel: ChannelRecord,
        alert: Mapping[str, Any],
        now_us: int,
        delivery_id: int | None = None,
    ) -> SendResult:
        from tickwork.alerts.channels.email import send_email
        from tickwork.alerts.channels.robots import send_robot, send_webhook

        try:
            secret = open_secret(channel.name, channel.secret)
        except Exception as exc:  # no key here, or tampered: say so without the value
            reason = f"the channel's secret could not be opened: {type(exc).__name__}"
            return SendResult(False, error=reason)
        fields = {**channel.public, **secret}
        message = compose(dict(alert), channel.language, self.base_url, channel.name)
        ctx = SendContext(
            allow=self.allow,
            now_us=now_us,
            open_smtp=self.open_smtp,
            timeout_s=self.timeout_s,
            resolver=self.resolver,
            delivery_id=delivery_id,
        )
        try:
            if channel.kind == "email":
                return send_email(fields, message, ctx)
            if channel.kind == "webhook":
                return send_webhook(fields, alert, message, ctx)
            return send_robot(channel.kind, fields, message, ctx)
        except Exception as exc:  # a bug or an unexpected answer: a failed attempt, logged
            log.exception("alert channel %s: the send failed unexpectedly", channel.name)
            return SendResult(False, error=f"{type(exc).__name__}")
