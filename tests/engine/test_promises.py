"""The engine's promises end to end, through real nodes on real databases: what a downtime
leaves behind under each misfire option, cancelling a running run through the API on each
executor, max_instances counted across nodes, and a node declared dead while it still lives."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.api.conftest import make_api
from tests.engine import tasks
from tests.engine.conftest import SEC, T0, wait_for
from tests.engine.test_node import watched
from tickwork import Tickwork
from tickwork.clock import FakeClock
from tickwork.engine.node import NodeOptions
from tickwork.settings import Settings

MIN = 60 * SEC
Make = Callable[..., Tickwork]


def records(tw: Tickwork, job_id: str) -> list[tuple[int, str, str, int]]:
    """(minute offset from T0, status, reason, fires), oldest first."""
    return sorted(
        ((r.scheduled_for - T0) // MIN, r.status, r.reason, r.fires)
        for r in tw.get_runs(job_id, limit=10_000)
    )


def all_finished(tw: Tickwork) -> bool:
    runs = tw.get_runs(limit=10_000)
    return bool(runs) and all(r.status not in ("scheduled", "running") for r in runs)


@pytest.mark.usefixtures("backend")
@pytest.mark.parametrize(
    ("options", "expected"),
    [
        # down from 10:01:30 to 10:10:30: the fires of 10:02 ... 10:10 (9 of them) are late
        ({"misfire_policy": "run_all", "max_catchup": 100},
         [(m, "succeeded", "catch-up", 1) for m in range(2, 11)]),
        ({"misfire_policy": "run_all", "max_catchup": 3},
         [(2, "missed", "schedule", 6)] + [(m, "succeeded", "catch-up", 1) for m in (8, 9, 10)]),
        ({"misfire_policy": "skip"}, [(2, "missed", "schedule", 9)]),
        ({"misfire_policy": "run_once"},
         [(2, "missed", "schedule", 8), (10, "succeeded", "catch-up", 1)]),
        # 150 s of grace: 10:08, 10:09 and 10:10 are within it (150, 90, 30 s late)
        ({"misfire_policy": "run_all", "misfire_grace_time": 150},
         [(2, "missed", "schedule", 6)] + [(m, "succeeded", "catch-up", 1) for m in (8, 9, 10)]),
    ],
)  # fmt: skip
def test_a_real_downtime_follows_the_misfire_options(
    make_tw: Make,
    clock: FakeClock,
    options: dict[str, object],
    expected: list[tuple[int, str, str, int]],
) -> None:
    tw = make_tw()
    tw.add_job("tests.engine.tasks:ok", "* * * * *", id="j", owner="python", **options)
    tw.start()
    clock.advance(60)  # 10:01 runs on time
    wait_for(lambda: all_finished(tw), what="the on-time run")
    clock.advance(30)
    tw.shutdown()  # the node stops for nine minutes
    clock.advance(9 * 60)
    again = make_tw()
    again.start()
    wait_for(lambda: len(again.get_runs(limit=100)) == 1 + len(expected), what="the records")
    wait_for(lambda: all_finished(again), what="catch-up runs finished")
    assert records(again, "j") == [(1, "succeeded", "schedule", 1), *expected]
    # every fire from 10:01 to 10:10 is accounted for exactly once
    assert sum(fires for *_, fires in records(again, "j")) == 10


@pytest.fixture
def real_node(tmp_path: Path) -> Iterator[Callable[[str], Tickwork]]:
    """A scheduler node on the real clock (cancels travel through the database)."""
    made: list[Tickwork] = []

    def make(url: str) -> Tickwork:
        options = NodeOptions(workers={"thread": 4, "process": 2, "asyncio": 4}, poll_s=1.0)
        settings = Settings(data_dir=tmp_path, database_url=url, timezone="UTC")
        tw = Tickwork(settings=settings, node_options=options)
        made.append(tw)
        return tw

    yield make
    for tw in made:
        tw.close()


@pytest.mark.usefixtures("backend")
@pytest.mark.parametrize(
    ("target", "kwargs"),
    [
        ("tests.engine.tasks:block", {"tag": "api-cancel", "timeout": 60.0}),
        ("tests.engine.tasks:sleep_marked", {"seconds": 60.0}),  # process executor
        ("tests.engine.tasks:asleep", {"seconds": 60.0, "tag": "api-cancel"}),
    ],
    ids=["thread", "process", "asyncio"],
)
def test_cancelling_a_running_run_through_the_api_ends_it(
    db_url: str,
    tmp_path: Path,
    real_node: Callable[[str], Tickwork],
    target: str,
    kwargs: dict[str, object],
) -> None:
    """The API process has no node: the cancel is a flag in the database that the run's node
    picks up at its next loop pass (within ``poll_s``, 1 s)."""
    marker = tmp_path / "started"
    if target.endswith("sleep_marked"):
        kwargs = {**kwargs, "marker": str(marker)}
    executor = {"sleep_marked": "process"}.get(target.rsplit(":", 1)[1])
    node = real_node(db_url)
    node.add_job(target, "0 0 1 1 *", id="long", kwargs=kwargs, owner="python",
                 executor=executor)  # fmt: skip
    node.start()
    api = make_api(db_url, tmp_path / "api")
    try:
        operator = api.client("operator")
        run_id = operator.post("/api/jobs/long/run", json={}).json()["run_id"]
        wait_for(lambda: node.get_run(run_id).status == "running", what="the run started")
        if target.endswith("sleep_marked"):
            wait_for(marker.exists, what="the child process began the body")
        else:
            wait_for(lambda: len(tasks.calls["api-cancel"]) == 1, what="the body began")
        response = operator.post(f"/api/runs/{run_id}/cancel")
        assert response.status_code == 200, response.text
        # The body would run 60 s; the cancel ends the run long before (docs: within a
        # second of the node's next pass; the wait here only bounds the test).
        wait_for(lambda: node.get_run(run_id).status == "cancelled", timeout=15,
                 what="the run cancelled")  # fmt: skip
        run = node.get_run(run_id)
        assert run.error is not None
        assert "cancelled by operator-user" in run.error
        assert not tasks.gates["api-cancel"].is_set()
    finally:
        api.tw.close()


@pytest.fixture(params=["postgres", "mysql"])
def cluster_url(request: pytest.FixtureRequest, server_database: object) -> str:
    """An empty database on a server several nodes can share."""
    from tests import dbs
    from tickwork.store import Store

    request.applymarker(getattr(pytest.mark, request.param))
    url: str = server_database(request.param)  # type: ignore[operator]
    store = Store(url)
    store.upgrade()
    dbs.empty_tables(store)
    store.close()
    return url


def test_max_instances_is_counted_across_nodes(
    cluster_url: str, make_tw: Make, clock: FakeClock
) -> None:
    first = make_tw(cluster_url)
    first.add_job("tests.engine.tasks:block", "* * * * *", id="one-at-a-time",
                  max_instances=1, owner="python")  # fmt: skip
    first.start()
    clock.advance(60)
    wait_for(lambda: len(tasks.calls["block"]) == 1, what="the first instance runs")
    first.node.loop.stop()  # type: ignore[union-attr]  # it claims no more; its run goes on
    second = make_tw(cluster_url)
    second.start()
    clock.advance(60)
    wait_for(lambda: len(second.get_runs(status="skipped")) == 1, what="the second fire skipped")
    skipped = second.get_runs(status="skipped")[0]
    assert skipped.node_id == second.node.node_id  # type: ignore[union-attr]
    assert skipped.error is not None
    assert "1 instance(s) already running" in skipped.error
    assert len(tasks.calls["block"]) == 1  # never two at once
    tasks.gates["block"].set()
    wait_for(lambda: first.get_runs(status="succeeded") != [], what="the first run ends")


def test_a_node_declared_dead_while_alive_is_fenced_and_its_outcome_still_lands(
    cluster_url: str, make_tw: Make, clock: FakeClock
) -> None:
    a = make_tw(cluster_url)
    a.add_job("tests.engine.tasks:block", "0 * * * *", id="long", retries=1, retry_backoff=1,
              owner="python")  # fmt: skip
    a.start()
    clock.advance(3600)
    wait_for(lambda: len(tasks.calls["block"]) == 1, what="the run on node A")
    original = a.get_runs("long")[0]
    assert original.status == "running"
    old_id = a.node.node_id  # type: ignore[union-attr]
    a.node.watchman.stop()  # type: ignore[union-attr]  # A goes silent (a partition)
    b = make_tw(cluster_url)
    b.start()
    watched(b, clock, 30)  # B keeps beating and watching, A stays silent
    wait_for(lambda: a.get_run(original.id).status == "lost", what="A declared dead")
    clock.advance(2)  # past the retry's backoff
    # A is still alive: its next heartbeat finds itself fenced; it takes a new identity
    a.node.watchman.beat()  # type: ignore[union-attr]
    assert a.node.node_id != old_id  # type: ignore[union-attr]
    with a.store.db.read() as conn:
        live = {n.id for n in a.store.nodes.all(conn)}
    assert a.node.node_id in live  # type: ignore[union-attr]
    assert old_id not in live
    # The retry queued for the lost run runs once (at least once: the original still runs)
    moved = [0.0]

    def retry_started() -> bool:
        # The fake clock moves a little more, as real time would: a loop that computed its
        # wait just before the last advance would otherwise sleep until an advance that never
        # comes (bounded well below the dead-after time, so no node is declared dead by it).
        if moved[0] < 3:
            clock.advance(0.1)
            moved[0] += 0.1
        return len(tasks.calls["block"]) == 2

    wait_for(retry_started, timeout=15, what="the retry started")
    tasks.gates["block"].set()  # both bodies end
    wait_for(lambda: all(r.status == "succeeded" for r in a.get_runs("long")), timeout=15,
             what="both records end with their real outcome")  # fmt: skip
    runs = sorted(a.get_runs("long"), key=lambda r: r.attempt)
    assert (runs[0].attempt, runs[0].status, runs[0].node_id) == (1, "succeeded", old_id)
    assert runs[1].retry_of == original.id
