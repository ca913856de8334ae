"""Cluster fixtures: a fresh database on each shared server, and a private server of the
test's own for outages (stopping a shared server would break other tests running meanwhile)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest

from tests import dbs
from tests.cluster.private_server import PrivateServer, private_server
from tests.conftest import requirement_missing, service_missing


@pytest.fixture(params=["postgres", "mysql"])
def server_url(request: pytest.FixtureRequest) -> Iterator[str]:
    kind = request.param
    request.applymarker(getattr(pytest.mark, kind))
    problem = dbs.reachable(kind)
    if problem is not None:
        service_missing(dbs.SERVER_NAMES[kind], problem)
    gen = dbs.create_database(kind)
    url = next(gen)
    yield url
    next(gen, None)


@pytest.fixture(params=["postgres", "mysql"])
def private(request: pytest.FixtureRequest) -> Iterator[PrivateServer]:
    """A server of this test's own, which it may stop and start (an outage)."""
    kind = request.param
    request.applymarker(getattr(pytest.mark, kind))
    try:
        server = private_server(kind)
    except (RuntimeError, FileNotFoundError, subprocess.CalledProcessError) as exc:
        requirement_missing(f"a private {dbs.SERVER_NAMES[kind]} server cannot start: {exc}")
    server.start()
    yield server
    server.close()
