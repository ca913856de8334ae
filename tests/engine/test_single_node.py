"""SQLite runs one scheduler node per database file."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tickwork import Tickwork
from tickwork.engine.single_node_lock import SchedulerAlreadyRunning

Make = Callable[..., Tickwork]


def test_a_second_scheduler_on_one_sqlite_file_is_refused(make_tw: Make) -> None:
    first = make_tw()
    first.start()
    second = make_tw()
    with pytest.raises(SchedulerAlreadyRunning, match="SQLite supports one scheduler node"):
        second.start()
    first.shutdown()
    second.start()  # once the first is gone, the lock is free
    assert second.running
