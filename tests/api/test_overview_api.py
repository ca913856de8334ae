"""/api/overview (the console's dashboard): runs per hour by outcome, the next executions; and
the console's client-side paths, which answer with its page when it is built. The tests that
read the time run at each of tests.conftest.INSTANTS, on a FakeClock standing at it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from tests.api.conftest import Api, job_body
from tickwork.api.routers import pages
from tickwork.clock import FakeClock
from tickwork.models import RunReason
from tickwork.store.runs import NewRun

SEC = 1_000_000
HOUR_US = 3600 * SEC
DAY_US = 24 * HOUR_US


def _run(api: Api, job_id: str, at_us: int, status: str) -> None:
    store = api.tw.store
    new = NewRun(
        job_id=job_id,
        scheduled_for=at_us,
        due_at=at_us,
        reason=RunReason.SCHEDULE.value,
        status=status,
        finished_at=at_us + 1000,
    )
    with store.db.write() as conn:
        store.runs.insert_many(conn, [new], at_us)


@pytest.mark.usefixtures("travel")
def test_timeline_counts_runs_per_hour_by_outcome(
    lite_api_factory: Callable[..., Api], fake_clock: FakeClock
) -> None:
    api = lite_api_factory(clock=fake_clock)
    admin = api.client("admin")
    assert admin.post("/api/jobs", json=job_body("tl")).status_code == 201
    now = fake_clock.now_us()
    current = now // HOUR_US * HOUR_US
    instants = [
        current + 1,
        current + 2,
        current - HOUR_US + 5,
        current - 3 * HOUR_US,
        now - 24 * HOUR_US,  # the first instant of the window
        now - 24 * HOUR_US - 1,  # just before it
        current - 30 * HOUR_US,
        now - 48 * HOUR_US,  # the first instant of a 48-hour window
        now - 48 * HOUR_US - 1,  # just before it
    ]
    statuses = ["succeeded", "failed", "timed_out", "skipped", "succeeded", "failed"]
    statuses += ["failed", "succeeded", "failed"]
    for instant, status in zip(instants, statuses, strict=True):
        _run(api, "tl", instant, status)
    body = api.client("viewer").get("/api/overview/timeline").json()
    buckets = body["buckets"]
    assert body["bucket_s"] == 3600
    assert at(body["start"]) == now - 24 * HOUR_US  # the window covers 24 hours, whatever the hour
    assert at(body["end"]) == current + HOUR_US
    # whole hours from the one the window starts in to the current one
    assert [at(b["start"]) for b in buckets] == [current - k * HOUR_US for k in range(24, -1, -1)]
    assert body["partial_first_bucket"] is (now % HOUR_US != 0)
    last, before = buckets[-1], buckets[-2]
    assert (last["runs"], last["succeeded"], last["failed"]) == (2, 1, 1)
    assert (before["runs"], before["failed"]) == (1, 1)
    assert buckets[-4]["other"] == 1
    assert (buckets[0]["runs"], buckets[0]["succeeded"]) == (1, 1)  # from the window's start on
    assert sum(b["runs"] for b in buckets) == 5

    days = api.client("viewer").get("/api/overview/timeline?hours=48&bucket_s=86400").json()
    assert days["bucket_s"] == 86400
    assert at(days["start"]) == now - 48 * HOUR_US
    starts = [at(b["start"]) for b in days["buckets"]]
    assert all(s % DAY_US == 0 for s in starts)  # whole UTC days
    assert starts[0] <= now - 48 * HOUR_US < starts[0] + DAY_US
    assert starts[-1] <= now < starts[-1] + DAY_US
    assert days["partial_first_bucket"] is (now % DAY_US != 0)
    # each day counts the runs of its span that are in the window: all but the last run
    window_start = now - 48 * HOUR_US
    assert [b["runs"] for b in days["buckets"]] == [
        sum(max(s, window_start) <= t < s + DAY_US for t in instants) for s in starts
    ]
    assert sum(b["runs"] for b in days["buckets"]) == len(instants) - 1

    # on a whole hour the first bucket is whole
    fake_clock.set(current + HOUR_US)
    aligned = api.client("viewer").get("/api/overview/timeline").json()
    assert aligned["partial_first_bucket"] is False
    assert at(aligned["buckets"][0]["start"]) == at(aligned["start"])
    assert api.client("viewer").get("/api/overview/timeline?hours=0").status_code == 422


def at(text: str) -> int:
    """Epoch microseconds of an ISO 8601 instant of the API."""
    moment = datetime.fromisoformat(text)
    assert moment.tzinfo is not None, text
    return round(moment.timestamp()) * SEC + moment.microsecond


def next_cron_fire(now: datetime, minute: int | None, hour: int | None) -> datetime:
    """The first instant after ``now`` (UTC) of ``minute hour * * *`` (None: ``*``), found by
    walking minute by minute: an oracle independent of the trigger code."""
    moment = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
    while not (
        (minute is None or moment.minute == minute) and (hour is None or moment.hour == hour)
    ):
        moment += timedelta(minutes=1)
    return moment


@pytest.mark.usefixtures("travel")
def test_upcoming_lists_the_next_fires_soonest_first(
    lite_api_factory: Callable[..., Api], fake_clock: FakeClock
) -> None:
    api = lite_api_factory(clock=fake_clock)
    admin = api.client("admin")
    for job_id, expr in (("late", "0 23 * * *"), ("soon", "* * * * *"), ("mid", "0 * * * *")):
        body = job_body(job_id, trigger={"kind": "cron", "expr": expr}, timezone="UTC")
        assert admin.post("/api/jobs", json=body).status_code == 201
    assert admin.post("/api/jobs/mid/pause").status_code == 200
    items = api.client("viewer").get("/api/overview/upcoming?limit=5").json()["items"]
    now = fake_clock.now()
    fires = {"late": next_cron_fire(now, 0, 23), "soon": next_cron_fire(now, None, None)}
    # soonest first, jobs firing at the same instant by id; the paused job has no next fire
    assert [j["id"] for j in items] == sorted(fires, key=lambda i: (fires[i], i))
    assert {j["id"]: datetime.fromisoformat(j["next_fire_at"]) for j in items} == fires
    assert items[0]["trigger"]["description"]["en"] in ("Every minute", "At 23:00 (UTC)")
    assert api.client().get("/api/overview/upcoming").status_code == 401


def test_jobs_firing_at_the_same_instant_come_in_the_order_of_their_ids(
    lite_api_factory: Callable[..., Api],
) -> None:
    """At 22:59:30 UTC an every-minute, an hourly and two daily-at-23:00 jobs all fire next at
    23:00:00: the list is in the order of their ids, not of their creation or of the index."""
    clock = FakeClock(int(datetime(2026, 12, 7, 22, 59, 30, tzinfo=UTC).timestamp()) * SEC)
    api = lite_api_factory(clock=clock)
    admin = api.client("admin")
    jobs = (("soon", "* * * * *"), ("late", "0 23 * * *"), ("b-hourly", "0 * * * *"))
    for job_id, expr in (*jobs, ("a-daily", "0 23 * * *"), ("later", "1 23 * * *")):
        body = job_body(job_id, trigger={"kind": "cron", "expr": expr}, timezone="UTC")
        assert admin.post("/api/jobs", json=body).status_code == 201
    items = api.client("viewer").get("/api/overview/upcoming?limit=10").json()["items"]
    assert [j["id"] for j in items] == ["a-daily", "b-hourly", "late", "soon", "later"]
    assert {j["next_fire_at"] for j in items[:4]} == {"2026-12-07T23:00:00+00:00"}
    first_two = api.client("viewer").get("/api/overview/upcoming?limit=2").json()["items"]
    assert [j["id"] for j in first_two] == ["a-daily", "b-hourly"]


def test_console_paths_serve_the_page_or_say_it_is_not_built(lite_api: Api) -> None:
    client = lite_api.client()
    built = pages.index_file() is not None
    for path in ("/jobs", "/jobs/a%20b/edit", "/runs/7", "/login", "/tokens"):
        response = client.get(path)
        if built:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/html")
        else:
            assert response.status_code == 404
            assert "make console" in response.text
    assert client.get("/api/nothing-here").status_code == 404
    assert (
        client.get("/api/nothing-here")
        .headers["content-type"]
        .startswith("application/problem+json")
    )
