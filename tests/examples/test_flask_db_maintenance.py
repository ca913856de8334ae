"""examples/flask-db-maintenance (seed 000) against this machine's MariaDB and Redis: the app
starts with its Flask-APScheduler ``Config``, runs ``db_health_check`` now and stores its
report on the run record; the Redis and 90-day chat cleanups; the seed's ``get_jobs``,
``get_job``, ``pause_job`` and ``resume_job``."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.examples.conftest import load
from tests.integrations.gunicorn import wait_for
from tickwork.builtins.resp import Redis

pytestmark = [pytest.mark.mysql, pytest.mark.redis]

SEED_IDS = {
    "db_health_check", "monitor_connection_pool", "cleanup_connection_pool",
    "check_slow_queries", "analyze_tables", "optimize_database_indexes", "cleanup_old_data",
    "check_table_fragmentation", "generate_performance_report", "vacuum_redis_cache",
}  # fmt: skip


def test_flask_db_maintenance(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    example_database: object,
    redis_url: str,
) -> None:
    monkeypatch.setenv("TICKWORK_ELECTION_DIR", str(tmp_path / "host"))
    url = example_database("mysql")  # type: ignore[operator]
    mod = load("flask-db-maintenance", "app")
    prefix = f"ex_{uuid.uuid4().hex[:8]}:"
    # the seed's Redis patterns, under a prefix of this test's own (the Redis is shared)
    jobs = [dict(j) for j in mod.Config.JOBS]
    for job in jobs:
        if job["id"] == "vacuum_redis_cache":
            job["func"] = {**job["func"], "patterns": [prefix + p for p in job["func"]["patterns"]]}

    class TestConfig(mod.Config):  # type: ignore[name-defined,misc]
        JOBS = jobs
        APP_DATABASE_URL = url
        TICKWORK_DATABASE_URL = url
        APP_REDIS_URL = redis_url
        TICKWORK_DATA_DIR = str(tmp_path / "data")

    app = mod.create_app(TestConfig())
    scheduler = mod.scheduler
    try:
        assert scheduler.running
        assert {j.id for j in scheduler.get_jobs()} == SEED_IDS
        job = scheduler.get_job("db_health_check")
        assert job is not None
        assert job.next_run_time is not None
        assert job.misfire_grace_time == 30

        run_id = scheduler.run_job("db_health_check")
        tw = scheduler.tickwork
        wait_for("the health check", lambda: tw.get_run(run_id).status not in
                 ("scheduled", "running"))  # fmt: skip
        run = tw.get_run(run_id)
        assert run.status == "succeeded", run.error
        report = json.loads(run.result or "{}")
        assert report["metrics"]["latency_ms"] <= report["metrics"]["latency_max_ms"]
        assert report["metrics"]["connect_ms"] >= 0
        assert not [f for f in report["findings"] if f["severity"] == "critical"]
        # the app's own page shows the same report
        page = app.test_client().get("/maintenance/db_health_check").get_json()
        assert page["last_run"] == {"id": run_id, "status": "succeeded", "report": report}

        # the seed's cache cleanup: a key with no TTL under its patterns goes, others stay
        r = Redis(redis_url)
        r.command("SET", prefix + "temp:1", "x")
        r.command("SET", prefix + "keep:1", "x")
        try:
            cache_run = scheduler.run_job("vacuum_redis_cache")
            wait_for("the cache cleanup", lambda: tw.get_run(cache_run).status not in
                     ("scheduled", "running"))  # fmt: skip
            assert tw.get_run(cache_run).status == "succeeded", tw.get_run(cache_run).error
            assert r.command("EXISTS", prefix + "temp:1") == 0
            assert r.command("EXISTS", prefix + "keep:1") == 1
        finally:
            r.command("DEL", prefix + "temp:1", prefix + "keep:1")
            r.close()

        # the seed's 90-day cleanup of chats: an old chat goes, today's stays
        client = app.test_client()
        assert client.post("/chats", json={"visitor_id": "v1", "message": "hi"}).status_code == 201
        engine = app.extensions["db_engine"]
        with engine.begin() as conn:
            conn.execute(mod.chats.insert().values(visitor_id="v0", message="old",
                         created_at=sa.func.now() - sa.text("INTERVAL 100 DAY")))  # fmt: skip
        clean_run = scheduler.run_job("cleanup_old_data")
        wait_for("the cleanup", lambda: tw.get_run(clean_run).status not in
                 ("scheduled", "running"))  # fmt: skip
        assert tw.get_run(clean_run).status == "succeeded", tw.get_run(clean_run).error
        assert json.loads(tw.get_run(clean_run).result or "{}")["metrics"]["rows_deleted"] == 1
        with engine.connect() as conn:
            left = conn.execute(sa.select(mod.chats.c.message)).scalars().all()
        assert left == ["hi"]

        paused = scheduler.pause_job("db_health_check")
        assert paused.paused
        assert scheduler.get_job("db_health_check").paused  # type: ignore[union-attr]
        assert app.test_client().get("/maintenance/db_health_check").get_json()["paused"]
        resumed = scheduler.resume_job("db_health_check")
        assert not resumed.paused
        assert resumed.next_run_time is not None
    finally:
        scheduler.shutdown()
        app.extensions["db_engine"].dispose()
