"""A small HTTP/1.1 client that connects only where the SSRF guard allowed.

Built on the standard library's ``http.client``: each hop of a request resolves its host
once through ``tickwork.net.ssrf``, connects to that checked address, and names the host in
the ``Host`` header and in TLS (SNI and certificate verification use the name, never the
address). Redirects are followed here, each one checked like the first; credentials (the
``Authorization`` header, a connection's auth header, cookies) are sent only to the origin
they were given for, so a redirect cannot carry them elsewhere (xxl-job leaked its access
token to user-chosen addresses, CVE-2022-43183).

Why not httpx or requests: pinning the connection to a checked address needs a custom
transport (httpcore's network backend, urllib3's connection classes), redirects would have to
be turned off and redone anyway to check each one, and neither is a dependency of the server
today. ``http.client`` gives exactly the seams needed (``connect``) with nothing else to keep.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import ssl
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import urljoin

from tickwork.net import ssrf

REDIRECTS = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 5
# Headers that hold credentials: sent only to the origin they were given for.
CREDENTIAL_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})
USER_AGENT = "Tickwork"


class HttpError(Exception):
    """The request could not be made or completed (connection, TLS, timeout, protocol)."""


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, dest: ssrf.Destination, timeout: float) -> None:
        super().__init__(dest.host.strip("[]"), dest.port, timeout=timeout)
        self._address = str(dest.address)

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, dest: ssrf.Destination, timeout: float, context: ssl.SSLContext) -> None:
        super().__init__(dest.host.strip("[]"), dest.port, timeout=timeout, context=context)
        self._address = str(dest.address)
        self._context = context

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(raw, server_hostname=self.host)


@dataclass(slots=True)
class Response:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes  # at most max_body bytes
    truncated: bool  # the body was longer than max_body
    url: str  # the last URL (after redirects)
    redirects: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0


class Request:
    """One request (with its redirects); :meth:`stop` from another thread ends it."""

    def __init__(
        self,
        method: str,
        url: str,
        *,
        headers: Sequence[tuple[str, str]] = (),
        body: bytes | None = None,
        timeout_s: float = 30.0,
        allow: ssrf.Allowlist = ssrf.NOTHING,
        resolver: ssrf.Resolver | None = None,
        follow_redirects: bool = True,
        max_body: int = 64 * 1024,
        credentials_origin: tuple[str, str, int] | None = None,
        secret_headers: Sequence[str] = (),
    ) -> None:
        self.method = method.upper()
        self.url = url
        self.headers = list(headers)
        self.body = body
        self.timeout_s = timeout_s
        self.allow = allow
        self.resolver = resolver
        self.follow_redirects = follow_redirects
        self.max_body = max_body
        # Credential headers go only to this origin (default: the first URL's).
        self.credentials_origin = credentials_origin
        self.secret_headers = CREDENTIAL_HEADERS | {h.lower() for h in secret_headers}
        self._lock = threading.Lock()
        self._conn: http.client.HTTPConnection | None = None
        self._stopped = False

    def stop(self) -> None:
        """Cut the request short (its socket is shut down); :meth:`send` raises HttpError."""
        with self._lock:
            self._stopped = True
            conn = self._conn
        sock = getattr(conn, "sock", None) if conn is not None else None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def send(self) -> Response:
        started = time.monotonic()
        deadline = started + self.timeout_s
        method, url, body = self.method, self.url, self.body
        headers = list(self.headers)
        redirects: list[str] = []
        origin = self.credentials_origin
        while True:
            dest = ssrf.destination(url, self.allow, self.resolver)
            if origin is None:
                origin = dest.origin
            sent = (
                headers
                if dest.origin == origin
                else [(k, v) for k, v in headers if k.lower() not in self.secret_headers]
            )
            status, reason, got, data, cut = self._hop(dest, method, sent, body, deadline)
            location = _header(got, "location")
            if not (self.follow_redirects and status in REDIRECTS and location):
                return Response(
                    status, reason, got, data, cut, url, redirects, time.monotonic() - started
                )
            if len(redirects) >= MAX_REDIRECTS:
                raise HttpError(f"more than {MAX_REDIRECTS} redirects (last to {location})")
            url = urljoin(url, location)
            redirects.append(url)
            if status == 303 or (status in (301, 302) and method not in ("GET", "HEAD")):
                method, body = "GET", None
                headers = [(k, v) for k, v in headers if k.lower() != "content-type"]

    def _hop(
        self,
        dest: ssrf.Destination,
        method: str,
        headers: Sequence[tuple[str, str]],
        body: bytes | None,
        deadline: float,
    ) -> tuple[int, str, list[tuple[str, str]], bytes, bool]:
        left = deadline - time.monotonic()
        if left <= 0:
            raise HttpError(f"timed out after {self.timeout_s:g} s")
        conn: http.client.HTTPConnection
        if dest.scheme == "https":
            conn = _PinnedHTTPS(dest, left, ssl.create_default_context())
        else:
            conn = _PinnedHTTP(dest, left)
        with self._lock:
            if self._stopped:
                raise HttpError("stopped")
            self._conn = conn
        try:
            conn.putrequest(method, dest.path, skip_accept_encoding=True)
            names = {k.lower() for k, _ in headers}
            if "user-agent" not in names:
                conn.putheader("User-Agent", USER_AGENT)
            if body is not None and "content-length" not in names:
                conn.putheader("Content-Length", str(len(body)))
            for key, value in headers:
                conn.putheader(key, value)
            conn.endheaders(body)
            response = conn.getresponse()
            chunks: list[bytes] = []
            size = 0
            cut = False
            while True:
                if time.monotonic() > deadline:
                    raise HttpError(f"timed out after {self.timeout_s:g} s")
                chunk = response.read1(16 * 1024) if method != "HEAD" else b""
                if not chunk:
                    break
                room = self.max_body - size
                if len(chunk) > room:
                    chunks.append(chunk[: max(0, room)])
                    cut = True
                    break
                chunks.append(chunk)
                size += len(chunk)
            return response.status, response.reason, response.getheaders(), b"".join(chunks), cut
        except HttpError:
            raise
        except (OSError, http.client.HTTPException, ssl.SSLError, ValueError) as exc:
            if self._stopped:
                raise HttpError("stopped") from None
            if isinstance(exc, TimeoutError | socket.timeout):
                raise HttpError(f"timed out after {self.timeout_s:g} s") from None
            raise HttpError(f"{type(exc).__name__}: {exc}") from None
        finally:
            with self._lock:
                self._conn = None
            conn.close()


def _header(headers: Sequence[tuple[str, str]], name: str) -> str | None:
    for key, value in headers:
        if key.lower() == name:
            return value
    return None


def header_list(headers: Mapping[str, str] | None) -> list[tuple[str, str]]:
    return [(str(k), str(v)) for k, v in (headers or {}).items()]
