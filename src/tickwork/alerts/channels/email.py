"""Email over SMTP with a named ``smtp`` connection (STARTTLS, TLS or plain, through the SSRF
guard, ``tickwork.net.smtp``): a text and an HTML part. Delivered when the server accepted
the message for at least one recipient (the refused ones are named in the record)."""

from __future__ import annotations

import smtplib
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from tickwork.alerts.channels.base import SendContext, masker
from tickwork.alerts.messages import Message, one_line, render_html, render_text
from tickwork.alerts.outbox import SendResult
from tickwork.net import smtp, ssrf


def build(message: Message, sender: str, to: list[str]) -> EmailMessage:
    mail = EmailMessage()
    mail["Subject"] = f"[Tickwork] {one_line(message.title())}"[:250]
    mail["From"] = sender
    mail["To"] = ", ".join(to)
    mail["Date"] = formatdate(localtime=False)
    mail["Message-ID"] = make_msgid(domain="tickwork")
    mail.set_content(render_text(message))
    mail.add_alternative(render_html(message), subtype="html")
    return mail


def send_email(fields: Mapping[str, Any], message: Message, ctx: SendContext) -> SendResult:
    if ctx.open_smtp is None:
        return SendResult(False, error="no SMTP connection can be opened here")
    try:
        conn, masks = ctx.open_smtp(str(fields["connection"]))
    except Exception as exc:
        return SendResult(False, error=f"SMTP connection {fields['connection']!r}: {exc}")
    mask = masker([*masks, *ctx.extra_masks])
    to = list(fields["to"])
    try:
        session = smtp.connect(
            str(conn["host"]), int(conn["port"]), str(conn.get("security", "starttls")),
            allow=ctx.allow, resolver=ctx.resolver, timeout_s=ctx.timeout_s,
        )  # fmt: skip
    except ssrf.OutboundRefused as exc:
        return SendResult(False, error=mask(f"refused by the SSRF guard: {exc.reason}"))
    except (OSError, smtplib.SMTPException) as exc:
        return SendResult(False, error=mask(f"{type(exc).__name__}: {exc}"))
    try:
        if conn.get("username") and conn.get("password"):
            smtp.login(session, str(conn["username"]), str(conn["password"]))
        refused = session.send_message(build(message, str(conn["from_addr"]), to))
    except smtplib.SMTPRecipientsRefused as exc:
        return SendResult(False, 550, mask(str(exc.recipients)[:500]), "every recipient refused")
    except smtplib.SMTPResponseException as exc:
        raw = exc.smtp_error
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
        return SendResult(False, exc.smtp_code, mask(text[:500]), mask(f"{type(exc).__name__}"))
    except (OSError, smtplib.SMTPException) as exc:
        return SendResult(False, error=mask(f"{type(exc).__name__}: {exc}"))
    finally:
        try:
            session.quit()
        except Exception:
            session.close()
    accepted = [a for a in to if a not in refused]
    note = f"accepted for {len(accepted)} of {len(to)} recipient(s)"
    if refused:
        note += "; refused: " + ", ".join(sorted(refused))
    return SendResult(True, 250, note)
