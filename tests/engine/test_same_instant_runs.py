"""Runs of one job requested at one clock instant: each is its own record and each ends.

The clock stands still through every test (a coarse clock, or a burst of requests within one
tick of it): a manual run is due at the instant it was asked for, never a moment later."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.api.conftest import make_api
from tests.engine import tasks
from tests.engine.conftest import SEC, T0, wait_for
from tickwork import Tickwork
from tickwork.clock import FakeClock

pytestmark = pytest.mark.usefixtures("backend")  # every test on every database

MIN = 60 * SEC
Make = Callable[..., Tickwork]


def runs_of(tw: Tickwork, job_id: str) -> list[tuple[str, str]]:
    """(reason, status) of the job's runs, oldest first."""
    return [(r.reason, r.status) for r in reversed(tw.get_runs(job_id, limit=100))]


def ended(tw: Tickwork, job_id: str, n: int) -> Callable[[], bool]:
    def check() -> bool:
        runs = tw.get_runs(job_id, limit=100)
        return len(runs) == n and all(r.status not in ("scheduled", "running") for r in runs)

    return check


def test_two_manual_runs_at_one_instant_both_run(make_tw: Make, clock: FakeClock) -> None:
    tw = make_tw()
    tw.add_job("tests.engine.tasks:ok", "@yearly", id="twice", kwargs={"tag": "twice"})
    tw.start()
    first = tw.run_job("twice", by="alice")
    wait_for(ended(tw, "twice", 1), what="the first manual run ended")
    second = tw.run_job("twice", by="alice")  # the clock has not moved
    wait_for(ended(tw, "twice", 2), what="the second manual run ended")
    assert runs_of(tw, "twice") == [("manual", "succeeded"), ("manual", "succeeded")]
    assert first != second
    # Due at the instant it was asked for; its fire instant steps aside in the record only.
    assert tw.get_run(second).due_at == T0
    assert clock.now_us() == T0
    assert len(tasks.calls["twice"]) == 2


def test_a_burst_of_manual_runs_before_the_node_starts(make_tw: Make, clock: FakeClock) -> None:
    tw = make_tw()
    tw.add_job(
        "tests.engine.tasks:ok",
        "@yearly",
        id="burst",
        kwargs={"tag": "burst"},
        owner="python",
        max_instances=5,
    )
    ids = [tw.run_job("burst") for _ in range(5)]
    tw.start()
    wait_for(ended(tw, "burst", 5), what="five manual runs ended")
    assert [tw.get_run(i).status for i in ids] == ["succeeded"] * 5
    assert len(tasks.calls["burst"]) == 5


def test_the_api_run_route_twice_at_one_instant(
    make_tw: Make, clock: FakeClock, engine_url: str, tmp_path: Path
) -> None:
    node = make_tw()
    node.add_job("tests.engine.tasks:ok", "@yearly", id="api-twice", kwargs={"tag": "api"},
                 max_instances=2, owner="python")  # fmt: skip
    node.start()
    api = make_api(engine_url, tmp_path / "api", clock=clock)
    try:
        operator = api.client("operator")
        ids = []
        for _ in range(2):
            response = operator.post("/api/jobs/api-twice/run", json={})
            assert response.status_code == 202, response.text
            ids.append(response.json()["run_id"])
        # The node sees another process's runs at its next poll; the clock stands still, so
        # that poll is what this wake stands for.
        node.node.wake()  # type: ignore[union-attr]
        wait_for(ended(node, "api-twice", 2), what="both runs ended")
        assert [node.get_run(i).status for i in ids] == ["succeeded", "succeeded"]
        assert len(tasks.calls["api"]) == 2
    finally:
        api.tw.close()


def test_a_scheduled_fire_claimed_first_and_a_manual_run_at_its_instant(
    make_tw: Make, clock: FakeClock
) -> None:
    tw = make_tw()
    tw.add_job("tests.engine.tasks:ok", "* * * * *", id="both", kwargs={"tag": "both"},
               max_instances=2, owner="python")  # fmt: skip
    tw.start()
    clock.set(T0 + MIN - SEC // 2)  # the fire of 10:01 is claimed ahead of its time
    wait_for(lambda: len(tw.get_runs("both")) == 1, what="the fire of 10:01 claimed")
    clock.set(T0 + MIN)
    manual = tw.run_job("both")  # a manual run at that very instant
    wait_for(ended(tw, "both", 2), what="the fire and the manual run ended")
    runs = sorted((r.reason, r.status, r.scheduled_for) for r in tw.get_runs("both"))
    assert runs[0][:2] == ("manual", "succeeded")
    assert runs[1] == ("schedule", "succeeded", T0 + MIN)
    assert tw.get_run(manual).due_at == T0 + MIN  # due when asked


def test_a_manual_run_recorded_before_the_fire_of_its_instant(
    make_tw: Make, clock: FakeClock
) -> None:
    tw = make_tw()
    tw.add_job("tests.engine.tasks:ok", "* * * * *", id="first", kwargs={"tag": "first"},
               max_instances=2, owner="python")  # fmt: skip
    clock.set(T0 + MIN)  # no node yet: the fire of 10:01 is not claimed when the run is asked
    manual = tw.run_job("first")
    tw.start()
    wait_for(ended(tw, "first", 2), what="the manual run and the fire ended")
    runs = sorted((r.reason, r.status, r.scheduled_for) for r in tw.get_runs("first"))
    assert runs[0][:2] == ("manual", "succeeded")
    # The fire of 10:01 has its own record at its instant: none is lost to the manual run.
    assert runs[1] == ("schedule", "succeeded", T0 + MIN)
    assert tw.get_run(manual).due_at == T0 + MIN
    assert len(tasks.calls["first"]) == 2
