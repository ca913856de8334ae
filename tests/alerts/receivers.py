"""Local HTTP receivers on 127.0.0.1 that imitate the IM robots' webhooks: each checks what the
real service checks (the access token, DingTalk's and Feishu's signatures, a DingTalk keyword,
the generic webhook's HMAC) and answers refusals the way the service does: DingTalk, WeCom
and Feishu with HTTP 200 and an error code in the body, Slack with 4xx and a word."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

SIGN_FAIL = "sign match fail or timestamp is not within one hour from current time"
TOKEN = "tok3n-CANARY-d1ngtalk-7f3a9c"
DING_SECRET = "SECcanary-ding-0c1d2e3f4a5b6c7d8e9f"
WECOM_KEY = "wecom-CANARY-key-6b1f2a"
FEISHU_TOKEN = "feishu-CANARY-hook-91ab77"
FEISHU_SECRET = "feishu-CANARY-sign-55aa"
SLACK_PATH = "/slack/services/T0CANARY/B0CANARY/slackCANARYsecret123"
HOOK_SECRET = "hook-CANARY-hmac-secret-42"
CANARIES = (TOKEN, DING_SECRET, WECOM_KEY, FEISHU_TOKEN, FEISHU_SECRET, "slackCANARYsecret123",
            HOOK_SECRET)  # fmt: skip


@dataclass
class Received:
    service: str
    payload: Any
    headers: dict[str, str]
    query: dict[str, str]
    raw: bytes


@dataclass
class Receivers:
    port: int = 0
    accepted: list[Received] = field(default_factory=list)
    refused: list[tuple[str, Any]] = field(default_factory=list)
    ding_keyword: str | None = None
    ding_limit: int = 20  # per minute, like the real robot (counted by the receiver)
    ding_count: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def dingtalk_url(self, token: str = TOKEN) -> str:
        return f"{self.base}/dingtalk/robot/send?access_token={token}"

    def wecom_url(self, key: str = WECOM_KEY) -> str:
        return f"{self.base}/wecom/cgi-bin/webhook/send?key={key}"

    def feishu_url(self, token: str = FEISHU_TOKEN) -> str:
        return f"{self.base}/feishu/open-apis/bot/v2/hook/{token}"

    def slack_url(self, path: str = SLACK_PATH) -> str:
        return f"{self.base}{path}"

    def hook_url(self) -> str:
        return f"{self.base}/hook"

    def of(self, service: str) -> list[Received]:
        with self.lock:
            return [r for r in self.accepted if r.service == service]


def _ding_sign(secret: str, ts: str) -> str:
    mac = hmac.new(secret.encode(), f"{ts}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(mac).decode()


def _feishu_sign(secret: str, ts: str) -> str:
    key = f"{ts}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()


def _handler(state: Receivers) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            parts = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            headers = {k.lower(): v for k, v in self.headers.items()}
            try:
                payload = json.loads(raw)
            except ValueError:
                payload = None
            path = parts.path
            if path == "/dingtalk/robot/send":
                self._dingtalk(query, payload, headers, raw)
            elif path == "/wecom/cgi-bin/webhook/send":
                if query.get("key") != WECOM_KEY:
                    return self._refuse(
                        "wecom", 200, {"errcode": 93000, "errmsg": "invalid webhook url"}
                    )
                if not isinstance(payload, dict) or payload.get("msgtype") != "markdown":
                    return self._refuse(
                        "wecom", 200, {"errcode": 40008, "errmsg": "invalid message type"}
                    )
                self._accept("wecom", payload, headers, query, raw, {"errcode": 0, "errmsg": "ok"})
            elif path.startswith("/feishu/open-apis/bot/v2/hook/"):
                token = unquote(path.rsplit("/", 1)[1])
                if token != FEISHU_TOKEN:
                    return self._refuse(
                        "feishu",
                        200,
                        {
                            "code": 19001,
                            "msg": "param invalid: incoming webhook access token invalid",
                        },
                    )
                ts, sign = str(payload.get("timestamp", "")), payload.get("sign")
                if sign != _feishu_sign(FEISHU_SECRET, ts):
                    return self._refuse(
                        "feishu",
                        200,
                        {
                            "code": 19021,
                            "msg": SIGN_FAIL,
                        },
                    )
                self._accept(
                    "feishu",
                    payload,
                    headers,
                    query,
                    raw,
                    {"code": 0, "msg": "success", "data": {}},
                )
            elif path.startswith("/slack/"):
                if path != SLACK_PATH:
                    return self._refuse("slack", 404, "no_service")
                if not isinstance(payload, dict) or not payload.get("text"):
                    return self._refuse("slack", 400, "invalid_payload")
                self._accept("slack", payload, headers, query, raw, "ok")
            elif path == "/hook":
                ts = headers.get("x-tickwork-timestamp", "")
                mac = hmac.new(HOOK_SECRET.encode(), ts.encode() + b"." + raw, hashlib.sha256)
                if headers.get("x-tickwork-signature") != "sha256=" + mac.hexdigest():
                    return self._refuse("webhook", 401, {"error": "bad signature"})
                self._accept("webhook", payload, headers, query, raw, {"thanks": True})
            else:
                self._send(404, b"not found", "text/plain")

        def _dingtalk(
            self, query: dict[str, str], payload: Any, headers: dict[str, str], raw: bytes
        ) -> None:
            if query.get("access_token") != TOKEN:
                return self._refuse(
                    "dingtalk", 200, {"errcode": 300001, "errmsg": "token is not exist"}
                )
            if query.get("sign") != _ding_sign(DING_SECRET, query.get("timestamp", "")):
                return self._refuse(
                    "dingtalk", 200, {"errcode": 310000, "errmsg": "sign not match"}
                )
            text = json.dumps(payload, ensure_ascii=False)
            if state.ding_keyword and state.ding_keyword not in text:
                return self._refuse(
                    "dingtalk", 200, {"errcode": 310000, "errmsg": "keywords not in content"}
                )
            with state.lock:
                state.ding_count += 1
                over = state.ding_count > state.ding_limit
            if over:
                return self._refuse("dingtalk", 200, {"errcode": 130101, "errmsg": "send too fast"})
            self._accept("dingtalk", payload, headers, query, raw, {"errcode": 0, "errmsg": "ok"})

        def _accept(self, service: str, payload: Any, headers: dict[str, str],
                    query: dict[str, str], raw: bytes, answer: Any) -> None:  # fmt: skip
            with state.lock:
                state.accepted.append(Received(service, payload, headers, query, raw))
            self._answer(200, answer)

        def _refuse(self, service: str, status: int, answer: Any) -> None:
            with state.lock:
                state.refused.append((service, answer))
            self._answer(status, answer)

        def _answer(self, status: int, answer: Any) -> None:
            if isinstance(answer, str):
                self._send(status, answer.encode(), "text/plain")
            else:
                self._send(status, json.dumps(answer).encode(), "application/json")

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


@contextmanager
def receivers() -> Iterator[Receivers]:
    state = Receivers()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
