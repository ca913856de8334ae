"""An HTTP server of the tests' own on 127.0.0.1 (the only place the HTTP tests connect to).

Paths: ``/ok`` (200, JSON), ``/status/NNN``, ``/redirect?to=URL[&code=302]``, ``/echo`` (the
request's method, path, headers and body as JSON), ``/big`` (1 MiB), ``/slow?s=N``. Every
request is recorded (method, path, headers) for the tests to inspect."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class LocalServer:
    port: int
    seen: list[Seen] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _handler(server: LocalServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            server.seen.append(Seen(self.command, self.path, dict(self.headers.items()), body))
            parts = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            if parts.path == "/ok":
                self._send(200, json.dumps({"ok": True}).encode(), "application/json")
            elif parts.path.startswith("/status/"):
                self._send(int(parts.path.rsplit("/", 1)[1]), b"status page", "text/plain")
            elif parts.path == "/redirect":
                self.send_response(int(query.get("code", "302")))
                self.send_header("Location", query["to"])
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif parts.path == "/echo":
                echo = {
                    "method": self.command,
                    "path": self.path,
                    "headers": dict(self.headers.items()),
                    "body": body.decode("utf-8", "replace"),
                }
                self._send(200, json.dumps(echo).encode(), "application/json")
            elif parts.path == "/big":
                self._send(200, b"x" * (1024 * 1024), "text/plain")
            elif parts.path == "/slow":
                time.sleep(float(query.get("s", "5")))
                self._send(200, b"slow", "text/plain")
            else:
                self._send(404, b"not found", "text/plain")

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _answer

    return Handler


@contextmanager
def local_server() -> Iterator[LocalServer]:
    state = LocalServer(port=0)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    httpd.daemon_threads = True
    state.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, name="local-http", daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
