"""The engine benchmark's harness still works: every system and scenario at tiny sizes.

No timing is asserted (CI machines vary); only that each measurement ran, that the JSON
fragment has its shape, and Tickwork's invariant: one run record per due fire."""

from __future__ import annotations

import pytest

from bench import engine

TINY = engine.Sizes(
    n=50,
    seconds=2,
    burst=200,
    many=(300,),
    idle_s=0.5,
    warmup_s=2.0,
    add_budget_s=20.0,
    aps_sqlite_add_budget_s=0.5,
    fill_aps_sqlite_up_to=1_000,
    timeout_s=120.0,
)


@pytest.mark.slow
def test_engine_bench_runs_every_system_at_tiny_sizes(capsys: pytest.CaptureFixture[str]) -> None:
    fragment, results = engine.run(sizes=TINY, detail=True)
    assert set(fragment) == {
        "burst_runs_per_s",
        "lateness_p99_ms",
        "rss_mb_1m_jobs",
        "start_s_1m_jobs",
        "fires_kept_ratio",
    }
    for section, by_system in results.items():
        for system, out in by_system.items():
            assert "error" not in out, (section, system, out)
    for system in ("tickwork_sqlite", "apscheduler_memory", "apscheduler_sqlite", "celery_beat"):
        assert fragment["lateness_p99_ms"][system] is not None, system
    assert fragment["burst_runs_per_s"]["tickwork_sqlite"] is not None
    # Every due fire of the 20 ms jobs ends as exactly one run record.
    kept = results["kept"]["tickwork_sqlite"]
    assert kept["records"] == kept["unique_fires"] == kept["due"] == TINY.n * TINY.seconds
    assert kept["executed"] <= kept["due"]
    many = results["many_300"]["tickwork_sqlite"]
    assert many["added"] == 300
    assert many["fired"] == 0  # the registered-jobs mix is not due during the test
    out = capsys.readouterr().out
    assert "Tickwork (SQLite) vs each peer" in out
