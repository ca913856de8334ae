""" "Test connection": try a connection as its jobs would use it, from the process asking
(the API server, the CLI). The HTTP and SMTP tests go through the SSRF guard; no test runs a
statement or a command of anyone's."""

from __future__ import annotations

import os
import socket
import ssl
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote, urlsplit

from tickwork.connections.sealed import Opened
from tickwork.net import ssrf

TIMEOUT_S = 10.0


def probe(opened: Opened, allow: ssrf.Allowlist) -> dict[str, Any]:
    """``{"ok": bool, "message": str, "elapsed_ms": float}``."""
    tests: dict[str, Callable[[dict[str, Any], ssrf.Allowlist], str]] = {
        "database": _database,
        "redis": _redis,
        "http": _http,
        "smtp": _smtp,
        "amqp": _amqp,
    }
    started = time.monotonic()
    try:
        message = tests[opened.kind](opened.fields, allow)
        ok = True
    except ssrf.OutboundRefused as exc:
        ok, message = False, f"refused by the SSRF guard: {exc}"
    except Exception as exc:
        ok, message = (
            False,
            f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}",
        )
    return {
        "ok": ok,
        "message": message,
        "elapsed_ms": round((time.monotonic() - started) * 1000, 1),
    }


def _database(fields: dict[str, Any], _allow: ssrf.Allowlist) -> str:
    import sqlalchemy as sa
    from sqlalchemy.pool import NullPool

    url = sa.engine.make_url(str(fields["url"]))
    args: dict[str, Any] = {}
    if url.get_backend_name() == "sqlite":
        path = url.database or ""
        if not os.path.exists(path):
            raise FileNotFoundError(f"the SQLite file {path} does not exist")
    else:
        args["connect_timeout"] = int(TIMEOUT_S)
    engine = sa.create_engine(url, poolclass=NullPool, connect_args=args)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
            version = conn.dialect.server_version_info
    finally:
        engine.dispose()
    shown = ".".join(str(v) for v in version) if version else ""
    return f"connected to {url.get_backend_name()} {shown}".strip()


def _resp(*words: str) -> bytes:
    out = [f"*{len(words)}\r\n".encode()]
    for word in words:
        data = word.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


def _redis(fields: dict[str, Any], _allow: ssrf.Allowlist) -> str:
    parts = urlsplit(str(fields["url"]))
    host, port = parts.hostname or "127.0.0.1", parts.port or 6379
    sock: socket.socket = socket.create_connection((host, port), TIMEOUT_S)
    try:
        if parts.scheme == "rediss":
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=host)
        data = b""
        if parts.password:
            user = unquote(parts.username or "")
            auth = (
                ("AUTH", user, unquote(parts.password))
                if user
                else ("AUTH", unquote(parts.password))
            )
            data += _resp(*auth)
        data += _resp("PING")
        sock.sendall(data)
        reply = b""
        while b"PONG" not in reply and b"-" not in reply[:1] and len(reply) < 4096:
            chunk = sock.recv(4096)
            if not chunk:
                break
            reply += chunk
    finally:
        sock.close()
    if b"+PONG" not in reply:
        first = reply.decode("utf-8", "replace").strip().splitlines()
        raise ConnectionError(f"Redis answered {first[0] if first else 'nothing'}")
    return f"Redis at {host}:{port} answered PONG"


def _http(fields: dict[str, Any], allow: ssrf.Allowlist) -> str:
    from tickwork.net import http

    headers = http.header_list(fields.get("headers"))
    secret: list[str] = []
    if fields.get("auth_value"):
        name = str(fields.get("auth_header") or "Authorization")
        headers.append((name, str(fields["auth_value"])))
        secret.append(name)
    base = str(fields["base_url"])
    response = http.Request(
        "GET", base, headers=headers, timeout_s=TIMEOUT_S, allow=allow, max_body=4096,
        secret_headers=secret,
    ).send()  # fmt: skip
    if response.status >= 500:
        raise ConnectionError(f"HTTP {response.status} {response.reason}")
    return f"HTTP {response.status} {response.reason} from {response.url}"


def _smtp(fields: dict[str, Any], allow: ssrf.Allowlist) -> str:
    from tickwork.net import smtp

    session = smtp.connect(
        str(fields["host"]), int(fields["port"]), str(fields.get("security", "starttls")),
        allow=allow, timeout_s=TIMEOUT_S,
    )  # fmt: skip
    try:
        if fields.get("username") and fields.get("password"):
            smtp.login(session, str(fields["username"]), str(fields["password"]))
            done = "logged in"
        else:
            done = "greeted"
        session.noop()
    finally:
        try:
            session.quit()
        except Exception:
            session.close()
    return f"SMTP {fields['host']}:{fields['port']} {done}"


def _amqp(fields: dict[str, Any], _allow: ssrf.Allowlist) -> str:
    """The broker's greeting (AMQP 0-9-1 Connection.Start) proves it is one; no login."""
    parts = urlsplit(str(fields["url"]))
    host, port = parts.hostname or "127.0.0.1", parts.port or 5672
    sock: socket.socket = socket.create_connection((host, port), TIMEOUT_S)
    try:
        if parts.scheme == "amqps":
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=host)
        sock.sendall(b"AMQP\x00\x00\x09\x01")
        reply = sock.recv(4096)
    finally:
        sock.close()
    if reply[:1] != b"\x01" or reply[7:11] != b"\x00\x0a\x00\x0a":
        raise ConnectionError("the server did not greet as an AMQP 0-9-1 broker")
    return f"AMQP broker at {host}:{port} greeted"
