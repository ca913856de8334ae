"""GET /api/forecast: the heat map, hot spots and the H preview through the API."""

from __future__ import annotations

from collections.abc import Callable

from tests.api.conftest import Api, job_body
from tests.forecast.test_forecast import NOW_S
from tickwork.clock import FakeClock


def test_api_forecast(lite_api_factory: Callable[..., Api]) -> None:
    api = lite_api_factory(clock=FakeClock(NOW_S * 1_000_000))
    admin = api.client("admin")
    for i in range(12):
        body = job_body(f"fc-{i}", trigger={"kind": "cron", "expr": "0 2 * * *"}, timezone="UTC")
        assert admin.post("/api/jobs", json=body).status_code == 201
    viewer = api.client("viewer")
    res = viewer.get("/api/forecast", params={"hours": 24, "bucket_s": 60, "hot": 10})
    assert res.status_code == 200, res.text
    data = res.json()
    assert data["fires"] == 12
    assert len(data["buckets"]) == 24 * 60 + 1
    assert data["hot_spots"][0]["start"].startswith("2026-03-29T02:00:00")
    assert data["hot_spots"][0]["job_count"] == 12
    assert data["suggestion"]["change_count"] == 12
    assert data["suggestion"]["changes"][0]["suggested"] == "H 2 * * *"
    week = viewer.get("/api/forecast", params={"hours": 168, "bucket_s": 3600}).json()
    assert week["fires"] == 12 * 7
    assert len(week["buckets"]) == 169
    bad = viewer.get("/api/forecast", params={"hours": 300, "bucket_s": 60})
    assert bad.status_code in (400, 422)
    assert bad.json()["code"] == "too_many_buckets"
    assert api.client().get("/api/forecast").status_code == 401
