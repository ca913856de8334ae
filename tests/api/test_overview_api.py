"""/api/overview (the console's dashboard): runs per hour by outcome, the next executions; and
the console's client-side paths, which answer with its page when it is built."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.api.conftest import Api, job_body
from tickwork.api.routers import pages
from tickwork.models import RunReason
from tickwork.store.runs import NewRun

HOUR_US = 3600 * 1_000_000


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


def test_timeline_counts_runs_per_hour_by_outcome(lite_api: Api) -> None:
    admin = lite_api.client("admin")
    assert admin.post("/api/jobs", json=job_body("tl")).status_code == 201
    now = lite_api.tw.clock.now_us()
    current = now // HOUR_US * HOUR_US
    _run(lite_api, "tl", current + 1, "succeeded")
    _run(lite_api, "tl", current + 2, "failed")
    _run(lite_api, "tl", current - HOUR_US + 5, "timed_out")
    _run(lite_api, "tl", current - 3 * HOUR_US, "skipped")
    _run(lite_api, "tl", current - 30 * HOUR_US, "failed")  # outside the window
    body = lite_api.client("viewer").get("/api/overview/timeline").json()
    buckets = body["buckets"]
    assert len(buckets) == 24
    assert body["bucket_s"] == 3600
    last, before = buckets[-1], buckets[-2]
    assert datetime.fromisoformat(last["start"]) == datetime.fromtimestamp(current / 1e6, UTC)
    assert (last["runs"], last["succeeded"], last["failed"]) == (2, 1, 1)
    assert (before["runs"], before["failed"]) == (1, 1)
    assert buckets[-4]["other"] == 1
    assert sum(b["runs"] for b in buckets) == 4
    week = lite_api.client("viewer").get("/api/overview/timeline?hours=48&bucket_s=86400")
    assert week.status_code == 200
    assert sum(b["runs"] for b in week.json()["buckets"]) == 5
    assert lite_api.client("viewer").get("/api/overview/timeline?hours=0").status_code == 422


def test_upcoming_lists_the_next_fires_soonest_first(lite_api: Api) -> None:
    admin = lite_api.client("admin")
    for job_id, expr in (("late", "0 23 * * *"), ("soon", "* * * * *"), ("mid", "0 * * * *")):
        body = job_body(job_id, trigger={"kind": "cron", "expr": expr}, timezone="UTC")
        assert admin.post("/api/jobs", json=body).status_code == 201
    assert admin.post("/api/jobs/mid/pause").status_code == 200
    items = lite_api.client("viewer").get("/api/overview/upcoming?limit=5").json()["items"]
    assert [j["id"] for j in items] == ["soon", "late"]  # the paused job has no next fire
    assert items[0]["trigger"]["description"]["en"] == "Every minute"
    assert lite_api.client().get("/api/overview/upcoming").status_code == 401


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
