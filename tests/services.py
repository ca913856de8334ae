"""The message servers of the tests, Redis and RabbitMQ, like tests/dbs.py for the databases:
where they are (TICKWORK_TEST_REDIS, TICKWORK_TEST_AMQP) and whether they answer. A probe
speaks a word of each protocol, so a port held by something else does not pass for them."""

from __future__ import annotations

import os
import socket
from urllib.parse import unquote, urlsplit

REDIS_URL = os.environ.get("TICKWORK_TEST_REDIS", "redis://127.0.0.1:6379/0")
AMQP_URL = os.environ.get("TICKWORK_TEST_AMQP", "amqp://guest:guest@127.0.0.1:5672//")
SERVER_NAMES = {"redis": "Redis", "rabbitmq": "RabbitMQ"}
_AMQP_HEADER = b"AMQP\x00\x00\x09\x01"  # protocol 0-9-1
_CONNECTION_START = b"\x00\x0a\x00\x0a"  # class 10 (connection), method 10 (start)


def _address(url: str, default_port: int) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or default_port


def _command(*words: str) -> bytes:
    """A Redis command in RESP, the protocol's framing."""
    out = [f"*{len(words)}\r\n".encode()]
    for word in words:
        data = word.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


def _exchange(host: str, port: int, data: bytes, timeout_s: float) -> bytes:
    with socket.create_connection((host, port), timeout=timeout_s) as sock:
        sock.sendall(data)
        return sock.recv(4096)


def redis_problem(url: str = REDIS_URL, timeout_s: float = 3.0) -> str | None:
    """None if the Redis server at ``url`` answers PING, else what is wrong."""
    host, port = _address(url, 6379)
    password = urlsplit(url).password
    data = (_command("AUTH", unquote(password)) if password else b"") + _command("PING")
    try:
        reply = _exchange(host, port, data, timeout_s)
    except OSError as exc:
        return f"{host}:{port}: {exc.strerror or exc}"
    if b"+PONG" not in reply:
        return f"{host}:{port} did not answer PING with PONG: {reply[:60]!r}"
    return None


def rabbitmq_problem(url: str = AMQP_URL, timeout_s: float = 3.0) -> str | None:
    """None if an AMQP 0-9-1 server (RabbitMQ) at ``url`` opens a connection, else what is
    wrong. Only the greeting is exchanged; the server's Connection.Start proves who it is."""
    host, port = _address(url, 5672)
    try:
        reply = _exchange(host, port, _AMQP_HEADER, timeout_s)
    except OSError as exc:
        return f"{host}:{port}: {exc.strerror or exc}"
    if reply[:1] != b"\x01" or reply[7:11] != _CONNECTION_START:
        return f"{host}:{port} did not greet as an AMQP 0-9-1 server: {reply[:16]!r}"
    return None
