"""Alert fixtures: a Tickwork on a FakeClock whose SSRF allowlist lets channels reach the
receivers on 127.0.0.1, the imitation robots, and a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from tests.alerts import tasks
from tests.alerts.receivers import Receivers, receivers
from tests.cluster.conftest import server_url  # noqa: F401  # a fresh PostgreSQL/MariaDB db
from tickwork import Tickwork
from tickwork.clock import FakeClock
from tickwork.engine.node import NodeOptions
from tickwork.settings import Settings

T0 = 1_767_607_200_000_000  # 2026-01-05 10:00:00 UTC, a Monday
SEC = 1_000_000
SMTP_PASSWORD = "smtp-CANARY-password-9e8d"
BASE_URL = "https://tickwork.example.com"


@dataclass
class Mailbox:
    port: int = 0
    messages: list[EmailMessage] = field(default_factory=list)
    rcpt: list[list[str]] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def smtp_server() -> Iterator[Mailbox]:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    box = Mailbox(port=free_port())

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        if isinstance(data, LoginPassword):
            user, password = data.login.decode(), data.password.decode()
            box.logins.append((user, password))
            return AuthResult(success=(user, password) == ("ops", SMTP_PASSWORD), handled=False)
        return AuthResult(success=False, handled=False)

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            box.messages.append(message_from_bytes(envelope.content, policy=policy.default))  # type: ignore[arg-type]
            box.rcpt.append(list(envelope.rcpt_tos))
            return "250 OK queued"

    controller = Controller(
        Handler(), hostname="127.0.0.1", port=box.port, authenticator=authenticator,
        auth_require_tls=False, require_starttls=False,
    )  # fmt: skip
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def robots() -> Iterator[Receivers]:
    with receivers() as state:
        yield state


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    with smtp_server() as box:
        yield box


@pytest.fixture(autouse=True)
def _reset_tasks() -> None:
    tasks.state["fail"] = True


def settings_for(tmp_path: Path, url: str | None) -> Settings:
    return Settings(
        data_dir=tmp_path,
        database_url=url,
        timezone="UTC",
        ssrf_allow=("127.0.0.1",),
        base_url=BASE_URL,
        alerts_poll_s=0.05,
    )


@pytest.fixture
def make_tw(tmp_path: Path, clock: FakeClock) -> Iterator[Callable[..., Tickwork]]:
    made: list[Tickwork] = []

    def make(url: str | None = None) -> Tickwork:
        node = NodeOptions(
            workers={"thread": 4, "process": 1, "asyncio": 4},
            heartbeat_s=5.0,
            dead_after_s=20.0,
            shutdown_wait_s=5.0,
        )
        tw = Tickwork(settings=settings_for(tmp_path, url), clock=clock, node_options=node)
        made.append(tw)
        return tw

    yield make
    for tw in made:
        tw.close()
