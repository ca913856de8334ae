"""Engine fixtures: a Tickwork node on a FakeClock, and polling helpers with real timeouts."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.engine import tasks
from tickwork import Tickwork
from tickwork.clock import FakeClock
from tickwork.engine.node import NodeOptions
from tickwork.settings import Settings

# 2026-01-05 10:00:00 UTC, a Monday, on a minute boundary
T0 = 1_767_607_200_000_000
SEC = 1_000_000


def wait_for(predicate: Callable[[], object], timeout: float = 10.0, what: str = "") -> None:
    """Poll ``predicate`` (real time) until it is truthy; fail with ``what`` otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what or predicate}")


@pytest.fixture(autouse=True)
def _reset_tasks() -> Iterator[None]:
    tasks.reset()
    yield
    for gate in list(tasks.gates.values()):
        gate.set()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def engine_url(request: pytest.FixtureRequest, tmp_path: Path) -> str | None:
    """The database the engine tests run on: SQLite by default; test modules that run on
    every backend parametrise ``backend`` (tests/conftest.py) and get a fresh one each."""
    if "backend" not in request.fixturenames:
        return None
    url: str = request.getfixturevalue("db_url")
    return url


@pytest.fixture
def make_tw(
    tmp_path: Path, clock: FakeClock, engine_url: str | None
) -> Iterator[Callable[..., Tickwork]]:
    made: list[Tickwork] = []

    def make(url: str | None = None, **options: object) -> Tickwork:
        url = url or engine_url
        node = NodeOptions(
            workers={"thread": 8, "process": 2, "asyncio": 8},
            lookahead_s=float(options.pop("lookahead_s", 1.0)),  # type: ignore[arg-type]
            poll_s=float(options.pop("poll_s", 1.0)),  # type: ignore[arg-type]
            heartbeat_s=5.0,
            dead_after_s=20.0,
            shutdown_wait_s=float(options.pop("shutdown_wait_s", 5.0)),  # type: ignore[arg-type]
        )
        settings = Settings(data_dir=tmp_path, database_url=url, timezone="UTC")
        tw = Tickwork(settings=settings, clock=clock, node_options=node, **options)  # type: ignore[arg-type]
        made.append(tw)
        return tw

    yield make
    for tw in made:
        tw.close()
