"""A small Redis client (RESP2 over a socket, with pipelining) for the built-ins: the few
commands they send (SCAN, TYPE, TTL, OBJECT IDLETIME, UNLINK, LLEN, PING, INFO) do not justify
a dependency. Every read has a timeout."""

from __future__ import annotations

import contextlib
import socket
import ssl
from collections.abc import Sequence
from typing import Any
from urllib.parse import unquote, urlsplit

TIMEOUT_S = 10.0


class RedisError(Exception):
    """An error reply (``-ERR ...``)."""


class Redis:
    def __init__(self, url: str, timeout_s: float = TIMEOUT_S) -> None:
        parts = urlsplit(url)
        host, port = parts.hostname or "127.0.0.1", parts.port or 6379
        try:
            sock: socket.socket = socket.create_connection((host, port), timeout_s)
        except OSError as exc:
            raise ConnectionError(f"{host}:{port}: {exc.strerror or exc}") from None
        if parts.scheme == "rediss":
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=host)
        self.sock = sock
        self.buf = b""
        self.closed = False
        first: list[Sequence[str | bytes]] = []
        if parts.password:
            user = unquote(parts.username or "")
            secret = unquote(parts.password)
            first.append(("AUTH", user, secret) if user else ("AUTH", secret))
        db = parts.path.strip("/")
        if db and db != "0":
            first.append(("SELECT", db))
        if first:
            for reply in self.pipeline(first):
                if isinstance(reply, RedisError):
                    self.close()
                    raise ConnectionError(f"Redis refused the login: {reply}")

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            with contextlib.suppress(OSError):
                self.sock.close()

    def command(self, *words: str | bytes | int) -> Any:
        reply = self.pipeline([words])[0]
        if isinstance(reply, RedisError):
            raise reply
        return reply

    def pipeline(self, commands: Sequence[Sequence[str | bytes | int]]) -> list[Any]:
        """Send every command, then read every reply (errors come back as RedisError
        values, not raised)."""
        data = b"".join(_encode(c) for c in commands)
        try:
            self.sock.sendall(data)
            return [self._reply() for _ in commands]
        except OSError as exc:
            raise ConnectionError(f"Redis: {exc}") from None

    def _line(self) -> bytes:
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("Redis closed the connection")
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\r\n")
        return line

    def _exact(self, size: int) -> bytes:
        while len(self.buf) < size + 2:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("Redis closed the connection")
            self.buf += chunk
        data, self.buf = self.buf[:size], self.buf[size + 2 :]
        return data

    def _reply(self) -> Any:
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            return RedisError(rest.decode("utf-8", "replace"))
        if kind == b":":
            return int(rest)
        if kind == b"$":
            size = int(rest)
            return None if size < 0 else self._exact(size)
        if kind == b"*":
            count = int(rest)
            return None if count < 0 else [self._reply() for _ in range(count)]
        raise ConnectionError(f"Redis sent something else than RESP: {line[:40]!r}")


def _encode(words: Sequence[str | bytes | int]) -> bytes:
    out = [b"*%d\r\n" % len(words)]
    for word in words:
        data = word if isinstance(word, bytes) else str(word).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)
