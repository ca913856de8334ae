"""The built-ins in the REST API: the catalog, database sizes over time with growth per week,
the latest metrics and findings on /metrics, and a refused spec with its code."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.api.conftest import job_body, make_api
from tests.builtins.test_jobs import T0, run_now
from tickwork.clock import FakeClock
from tickwork.engine.node import NodeOptions

pytestmark = pytest.mark.sqlite


def test_sizes_history_metrics_and_refusals(tmp_path: Path) -> None:
    node = NodeOptions(workers={"thread": 2, "process": 1, "asyncio": 1}, shutdown_wait_s=5)
    api = make_api(f"sqlite:///{tmp_path / 'tw.db'}", tmp_path / "data",
                   clock=FakeClock(T0), node_options=node)  # fmt: skip
    tw = api.tw
    try:
        app_db = f"sqlite:///{tmp_path / 'app.db'}"
        engine = sa.create_engine(app_db)
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE mnt_grow (id INTEGER PRIMARY KEY, pad TEXT)"))
        tw.add_connection("app", "database", {"url": app_db})
        tw.add_job({"kind": "builtin", "name": "collect_database_sizes", "connection": "app"},
                   "0 0 1 1 *", id="sizes")  # fmt: skip
        tw.add_job({"kind": "builtin", "name": "check_slow_queries", "connection": "app"},
                   "0 0 1 1 *", id="slow")  # fmt: skip
        tw.start()
        assert run_now(tw, "sizes").status == "succeeded"
        with engine.begin() as conn:  # the database grows by about 1 MB
            conn.execute(sa.text(
                "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 1000) "
                "INSERT INTO mnt_grow (pad) SELECT hex(randomblob(500)) FROM s"
            ))  # fmt: skip
        engine.dispose()
        assert isinstance(tw.clock, FakeClock)
        tw.clock.advance(7 * 86_400)
        assert run_now(tw, "sizes").status == "succeeded"
        assert run_now(tw, "slow").status == "succeeded"

        viewer = api.client("viewer")
        sizes = viewer.get("/api/maintenance/sizes", params={"connection": "app"}).json()
        assert len(sizes["points"]) == 2
        first, last = sizes["points"]
        assert last["database_bytes"] > first["database_bytes"]
        assert sizes["growth_per_week_bytes"]["app"] == pytest.approx(
            last["database_bytes"] - first["database_bytes"], rel=0.01
        )
        assert viewer.get("/api/maintenance/sizes", params={"connection": "other"}).json()[
            "points"] == []  # fmt: skip

        names = [b["name"] for b in viewer.get("/api/builtins").json()]
        assert {"cleanup_old_data", "vacuum_redis_cache", "queue_backlog"} <= set(names)

        metrics = viewer.get("/metrics").text
        # prometheus-client writes floats (1.032192e+06): compare the number, not the text
        line = next(
            x for x in metrics.splitlines()
            if x.startswith('tickwork_builtin_metric{job="sizes",metric="database_bytes"} ')
        )  # fmt: skip
        assert float(line.rsplit(" ", 1)[1]) == last["database_bytes"]
        assert 'tickwork_builtin_findings{job="slow",severity="info"} 1' in metrics

        bad = api.client("admin").post("/api/jobs", json=job_body(
            "broad", target={"kind": "builtin", "name": "vacuum_redis_cache",
                             "connection": "app", "patterns": ["*"]}))  # fmt: skip
        assert bad.status_code == 422, bad.text
        assert bad.json()["code"] == "pattern_too_broad"
        assert bad.json()["field"] == "target.patterns[0]"
    finally:
        tw.close()
