"""Celery fixtures: a fresh PostgreSQL or MariaDB database, a broker (RabbitMQ or Redis) with
queue names of the test's own (``celerytest_...``), and ``tickwork worker`` subprocesses."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import pytest

from tests import dbs
from tests.conftest import service_missing
from tickwork import Tickwork
from tickwork.engine.node import NodeOptions
from tickwork.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
# Redis: a database number of these tests' own, so kombu's shared keys (unacked messages,
# bindings) never meet another suite's.
REDIS_DB = 13


@dataclass
class Broker:
    kind: str  # "rabbitmq" or "redis"
    url: str


@pytest.fixture(params=["rabbitmq", "redis"])
def broker(request: pytest.FixtureRequest) -> Broker:
    if request.param == "rabbitmq":
        return Broker("rabbitmq", request.getfixturevalue("rabbitmq_url"))
    url = request.getfixturevalue("redis_url")
    return Broker("redis", url.rsplit("/", 1)[0] + f"/{REDIS_DB}")


@pytest.fixture
def redis_broker(redis_url: str) -> Broker:
    return Broker("redis", redis_url.rsplit("/", 1)[0] + f"/{REDIS_DB}")


@pytest.fixture
def rabbitmq_broker(rabbitmq_url: str) -> Broker:
    return Broker("rabbitmq", rabbitmq_url)


@pytest.fixture(params=["postgres"])
def database_url(request: pytest.FixtureRequest) -> Iterator[str]:
    kind = request.param
    request.applymarker(getattr(pytest.mark, kind))
    problem = dbs.reachable(kind)
    if problem is not None:
        service_missing(dbs.SERVER_NAMES[kind], problem)
    gen = dbs.create_database(kind)
    url = next(gen)
    Tickwork(settings=Settings(database_url=url, timezone="UTC")).close()  # migrate once
    yield url
    next(gen, None)


@pytest.fixture
def queue() -> str:
    return f"celerytest_{uuid.uuid4().hex[:10]}"


@dataclass
class Workers:
    """``tickwork worker`` subprocesses of one test; stopped (SIGTERM, then SIGKILL) at the end."""

    database_url: str
    broker: Broker
    logs: Path
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    files: list[BinaryIO] = field(default_factory=list)

    def start(
        self, queues: str, *, concurrency: int = 2, env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        n = len(self.procs)
        out = open(self.logs / f"worker-{n}.log", "wb")  # noqa: SIM115 (closed in stop())
        self.files.append(out)
        command = [
            sys.executable, "-c", "import sys; from tickwork.cli import main; sys.exit(main())",
            "worker", "-Q", queues, "--concurrency", str(concurrency),
            "--database-url", self.database_url, "--heartbeat", "1", "--shutdown-wait", "5",
            "--loglevel", "INFO",
        ]  # fmt: skip
        proc = subprocess.Popen(
            command,
            cwd=ROOT,
            env={
                **os.environ,
                "PYTHONPATH": str(ROOT),
                "TICKWORK_CELERY_BROKER_URL": self.broker.url,
                **(env or {}),
            },
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        self.procs.append(proc)
        return proc

    def log(self, n: int) -> str:
        return (self.logs / f"worker-{n}.log").read_text(errors="replace")

    def stop(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)
        for f in self.files:
            f.close()


@pytest.fixture
def workers(database_url: str, broker: Broker, tmp_path: Path) -> Iterator[Workers]:
    w = Workers(database_url, broker, tmp_path)
    yield w
    w.stop()


def scheduler(database_url: str, broker: Broker, **options: object) -> Tickwork:
    """A scheduler node in this process, publishing to ``broker``; fast failure detection."""
    node_options = NodeOptions(
        celery_broker=broker.url,
        local_queues=frozenset(),
        heartbeat_s=1.0,
        dead_after_s=4.0,
        poll_s=0.2,
        **options,  # type: ignore[arg-type]
    )
    return Tickwork(
        settings=Settings(database_url=database_url, timezone="UTC"), node_options=node_options
    )


def wait_for(check: Callable[[], bool], timeout_s: float, what: str) -> None:
    """Poll ``check`` until it holds; a generous bound only keeps a broken run from hanging."""
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.1)
