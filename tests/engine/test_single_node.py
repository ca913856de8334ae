"""SQLite runs one scheduler node per database file."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.engine.conftest import SEC, T0, wait_for
from tickwork import Tickwork
from tickwork.clock import FakeClock
from tickwork.engine.single_node_lock import SchedulerAlreadyRunning
from tickwork.store.runs import NewRun

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


def test_a_restarted_scheduler_settles_the_previous_processs_runs_at_start(
    make_tw: Make, clock: FakeClock
) -> None:
    """SQLite: the previous scheduler process died (its node still looks live): the new one
    holds the file's lock, so it ends the old runs at once; no spurious "already running"."""
    tw = make_tw()
    tw.add_job("tests.engine.tasks:ok", "* * * * *", id="f", concurrency="forbid",
               owner="python")  # fmt: skip
    with tw.store.db.write() as conn:
        tw.store.nodes.register(conn, "previous", "scheduler", T0 - SEC)
        (old,) = tw.store.runs.insert_many(
            conn,
            [
                NewRun(
                    job_id="f",
                    scheduled_for=T0 - 60 * SEC,
                    due_at=T0 - 60 * SEC,
                    reason="schedule",
                    status="scheduled",
                    node_id="previous",
                )
            ],
            T0,
        )
        tw.store.runs.start(conn, "previous", [(old, T0 - 60 * SEC)])  # type: ignore[list-item]
    tw.start()
    assert tw.get_run(old).status == "lost"  # type: ignore[arg-type]  # settled before claiming
    clock.advance(60)
    wait_for(lambda: tw.get_runs("f", status="succeeded") != [], what="the next fire ran")
    assert tw.get_runs("f", status="skipped") == []
