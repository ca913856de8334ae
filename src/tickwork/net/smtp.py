"""SMTP through the SSRF guard: the server's name is resolved once and checked, the connection
goes to that address, and TLS verifies the certificate against the name. Used by the SMTP
connection test and, later, the email alert channel."""

from __future__ import annotations

import smtplib
import socket
import ssl
from typing import Any

from tickwork.net import ssrf


class PinnedSMTP(smtplib.SMTP):
    """smtplib.SMTP whose socket goes to a checked address; ``_host`` stays the name, so
    STARTTLS verifies the server's certificate against it."""

    _host: str

    def __init__(self, address: str, **kwargs: Any) -> None:
        self._pinned = address
        super().__init__(**kwargs)

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        return socket.create_connection((self._pinned, port), timeout, self.source_address)


class PinnedSMTPSSL(smtplib.SMTP_SSL):
    _host: str

    def __init__(self, address: str, **kwargs: Any) -> None:
        self._pinned = address
        super().__init__(**kwargs)

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        raw = socket.create_connection((self._pinned, port), timeout, self.source_address)
        return self.context.wrap_socket(raw, server_hostname=self._host)


def connect(
    host: str,
    port: int,
    security: str,
    *,
    allow: ssrf.Allowlist = ssrf.NOTHING,
    resolver: ssrf.Resolver | None = None,
    timeout_s: float = 15.0,
    context: ssl.SSLContext | None = None,
) -> smtplib.SMTP:
    """An SMTP session to ``host`` (``security``: starttls, tls or none), greeted (EHLO) and
    with TLS started when asked; raises OutboundRefused, OSError or smtplib errors."""
    address = str(ssrf.resolve_checked(host, port, allow, resolver))
    context = context or ssl.create_default_context()
    session: PinnedSMTP | PinnedSMTPSSL
    if security == "tls":
        session = PinnedSMTPSSL(address, timeout=timeout_s, context=context)
    else:
        session = PinnedSMTP(address, timeout=timeout_s)
    session._host = host  # the name TLS verifies
    session.connect(host, port)
    session.ehlo()
    if security == "starttls":
        session.starttls(context=context)
        session.ehlo()
    return session


def login(session: smtplib.SMTP, user: str, password: str) -> None:
    """AUTH with the best mechanism both sides have, once: a refused password is not tried
    again with the next mechanism (smtplib's ``login`` does, and some servers then stall)."""
    advertised = session.esmtp_features.get("auth", "").upper().split()
    for mechanism in ("CRAM-MD5", "PLAIN", "LOGIN"):
        if mechanism in advertised:
            session.user, session.password = user, password
            method = getattr(session, "auth_" + mechanism.lower().replace("-", "_"))
            code, reply = session.auth(mechanism, method, initial_response_ok=True)
            if code not in (235, 503):
                raise smtplib.SMTPAuthenticationError(code, reply)
            return
    raise smtplib.SMTPNotSupportedError("the server offers no AUTH mechanism we speak")
