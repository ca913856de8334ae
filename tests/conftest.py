"""Shared test helpers: real services, skipped on a machine without them, required in CI;
the instants at which the time-dependent tests run."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine

from tests import dbs, services
from tickwork.clock import FakeClock

BACKENDS = ("sqlite", "postgres", "mysql")
# `tickwork serve` adds the built-in retention job; the tests that start servers count their
# own jobs and runs, so it is off for them (inherited by subprocesses); tests/alerts turn it on.
os.environ.setdefault("TICKWORK_RETENTION", "off")

# -- time ------------------------------------------------------------------------------------
# A test that reads the time (through the app's clock, datetime.now() or time.time()) runs at
# each of these instants, so none depends on when CI runs (docs/testing.md, "Time in tests").
INSTANTS: dict[str, datetime] = {
    # just after midnight UTC, on the first of a month after a 28-day February
    "0000": datetime(2027, 3, 1, 0, 0, 1, tzinfo=UTC),
    # 05:10 UTC: a 48-hour window then reaches back into the day before yesterday
    "0510": datetime(2026, 12, 7, 5, 10, tzinfo=UTC),
    # the last second of a year
    "2359": datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC),
    # Europe/Berlin springs forward at 01:00 UTC: 01:59:30 CET, 30 s before 02:00 becomes 03:00
    "berlin-spring": datetime(2027, 3, 28, 0, 59, 30, tzinfo=UTC),
    # Europe/Berlin falls back at 01:00 UTC: 02:30 CEST, the first pass of the repeated hour
    "berlin-autumn": datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--instants",
        default=None,
        help="comma-separated names of tests.conftest.INSTANTS or ISO 8601 instants (UTC "
        "unless an offset is given) at which the time-dependent tests run, or 'real' for the "
        "real clock; default: every instant of INSTANTS",
    )


def chosen_instants(config: pytest.Config) -> dict[str, datetime | None]:
    option = config.getoption("--instants")
    if not option:
        return dict(INSTANTS)
    chosen: dict[str, datetime | None] = {}
    for word in (w.strip() for w in option.split(",") if w.strip()):
        if word == "real":
            chosen[word] = None
        elif word in INSTANTS:
            chosen[word] = INSTANTS[word]
        else:
            try:
                at = datetime.fromisoformat(word.replace("Z", "+00:00"))
            except ValueError:
                raise pytest.UsageError(
                    f"--instants: {word!r} is neither one of {', '.join(INSTANTS)}, 'real' "
                    "nor an ISO 8601 instant"
                ) from None
            chosen[word] = at if at.tzinfo else at.replace(tzinfo=UTC)
    return chosen


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "instant" in metafunc.fixturenames:
        chosen = chosen_instants(metafunc.config)
        metafunc.parametrize("instant", list(chosen.values()), ids=list(chosen), indirect=True)


@pytest.fixture
def instant(request: pytest.FixtureRequest) -> datetime | None:
    """The instant the test runs at (one of INSTANTS, or --instants); None: the real clock."""
    at: datetime | None = request.param
    return at


@pytest.fixture
def travel(instant: datetime | None) -> Iterator[datetime]:
    """The process's wall clock starts at ``instant`` and moves on in real time (time-machine):
    SystemClock, datetime.now() and time.time() all read it; monotonic time is untouched, so
    timeouts and waits behave as usual. Child processes keep the real clock."""
    if instant is None:
        yield datetime.now(UTC)
        return
    with time_machine.travel(instant, tick=True):
        yield instant


@pytest.fixture
def fake_clock(instant: datetime | None) -> FakeClock:
    """A clock that stands still at ``instant`` until the test moves it."""
    at = instant or datetime.now(UTC)
    return FakeClock(int(at.timestamp()) * 1_000_000 + at.microsecond)


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def requirement_missing(message: str) -> None:
    """Skip (or, with CI=true, fail) a test that lacks something it needs; ``message`` names
    it. CI has everything the tests need, so a skip there would hide a test that never ran."""
    if in_ci():
        pytest.fail(f"{message}; CI=true requires it", pytrace=False)
    pytest.skip(message)


def service_missing(name: str, reason: str) -> None:
    """Skip (or, with CI=true, fail) a test whose service is not reachable."""
    requirement_missing(f"{name} is not reachable ({reason})")


# -- Redis and RabbitMQ ----------------------------------------------------------------------
# A test that needs one asks for its fixture and is marked ``redis``/``rabbitmq`` for it
# (pytest -m "not rabbitmq" leaves them out).
SERVICE_FIXTURES = {"redis_url": "redis", "rabbitmq_url": "rabbitmq"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for fixture, marker in SERVICE_FIXTURES.items():
            if fixture in getattr(item, "fixturenames", ()):
                item.add_marker(getattr(pytest.mark, marker))


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The Redis server's URL (TICKWORK_TEST_REDIS, default redis://127.0.0.1:6379/0), once it
    answers PING; otherwise the test skips (fails with CI=true) saying why."""
    problem = services.redis_problem()
    if problem is not None:
        service_missing(services.SERVER_NAMES["redis"], problem)
    return services.REDIS_URL


@pytest.fixture(scope="session")
def rabbitmq_url() -> str:
    """The RabbitMQ server's AMQP URL (TICKWORK_TEST_AMQP, default
    amqp://guest:guest@127.0.0.1:5672//), once it greets as AMQP 0-9-1; otherwise the test
    skips (fails with CI=true) saying why."""
    problem = services.rabbitmq_problem()
    if problem is not None:
        service_missing(services.SERVER_NAMES["rabbitmq"], problem)
    return services.AMQP_URL


@pytest.fixture(scope="session")
def server_database() -> Iterator[dict[str, str]]:
    """Lazily created per-session databases on the PostgreSQL and MariaDB servers."""
    created: dict[str, str] = {}
    generators = []

    def get(kind: str) -> str:
        if kind not in created:
            problem = dbs.reachable(kind)
            if problem is not None:
                service_missing(dbs.SERVER_NAMES[kind], problem)
            gen = dbs.create_database(kind)
            created[kind] = next(gen)
            generators.append(gen)
        return created[kind]

    yield get  # type: ignore[misc]
    for gen in generators:
        next(gen, None)


def database_url(kind: str, tmp_path: Path, server_database: object) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'tickwork.db'}"
    return server_database(kind)  # type: ignore[operator, no-any-return]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    kind: str = request.param
    request.applymarker(getattr(pytest.mark, kind) if kind != "sqlite" else pytest.mark.sqlite)
    return kind


@pytest.fixture
def db_url(backend: str, tmp_path: Path, server_database: object) -> Iterator[str]:
    """A migrated, empty database of each backend in turn."""
    from tickwork.store import Store

    url = database_url(backend, tmp_path, server_database)
    store = Store(url)
    store.upgrade()
    dbs.empty_tables(store)
    store.close()
    return url


@pytest.fixture(autouse=True)
def _cold_trigger_caches_under_mutmut() -> None:
    """Under mutmut only (it sets MUTANT_UNDER_TEST): each test starts with empty trigger caches.

    Parses, schedules, day plans and zone tables are interned process-wide, so otherwise only
    the first test to build an expression runs the code behind it: mutmut would attribute that
    code to one test, and a cache warmed before the mutant was switched on would hide it.
    """
    if "MUTANT_UNDER_TEST" not in os.environ:
        return
    from tickwork.engine import trigger_cache
    from tickwork.triggers import cron_parse, keywords, schedule, zones

    for cached in (
        cron_parse._parse_cached,
        cron_parse._field_template,
        keywords._fields_cached,
        trigger_cache._compile,
    ):
        cached.cache_clear()
    for interned in (schedule._SCHEDULES, schedule._DAY_PLANS, zones._TABLES):
        interned.clear()
    trigger_cache._by_items.clear()
