"""Shared test helpers: real services, skipped on a machine without them, required in CI."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import dbs

BACKENDS = ("sqlite", "postgres", "mysql")


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def service_missing(name: str, reason: str) -> None:
    """Skip (or, with CI=true, fail) a test whose service is not reachable."""
    message = f"{name} is not reachable ({reason})"
    if in_ci():
        pytest.fail(f"{message}; CI=true requires it", pytrace=False)
    pytest.skip(message)


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
