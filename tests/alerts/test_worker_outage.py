"""The alert worker during a database outage: one traceback, then one line per failed round,
and a growing pause. A traceback a second flooded the log: the cluster drills' nodes log to a
pipe read at their end, and the full pipe blocked the heartbeat (the outage drill caught it)."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tickwork.alerts.repo import AlertRepo
from tickwork.alerts.worker import AlertWorker
from tickwork.clock import SystemClock


class DownDatabase:
    """Every transaction fails, as during an outage."""

    calls = 0

    @contextlib.contextmanager
    def _fail(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        DownDatabase.calls += 1
        raise ConnectionError("connection refused (the database is down)")
        yield  # pragma: no cover

    read = write = _fail


def test_an_outage_gives_one_traceback_then_one_line_per_round(
    caplog: pytest.LogCaptureFixture,
) -> None:
    DownDatabase.calls = 0
    worker = AlertWorker(
        DownDatabase(),  # type: ignore[arg-type]
        AlertRepo(),
        SystemClock(),
        lambda: "node-x",
        lambda: None,  # type: ignore[arg-type,return-value]
        poll_s=0.01,
        sweep_s=0.01,
    )
    with caplog.at_level(logging.WARNING, logger="tickwork.alerts"):
        worker.start()
        time.sleep(1.0)
        worker.stop()
    records = [r for r in caplog.records if r.name == "tickwork.alerts"]
    assert len(records) >= 3
    assert sum(1 for r in records if r.exc_info) == 1  # the traceback once
    assert all("failed round" in r.getMessage() for r in records[1:])
    # the pause grows (0.02, 0.04, 0.08, 0.16, 0.32 s ...): far fewer rounds than at 0.01 s
    assert len(records) < 20, len(records)
