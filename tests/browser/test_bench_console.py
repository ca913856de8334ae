"""The console benchmark's harness (bench/console.py) works at tiny sizes; no timing is
asserted. Here beside the browser tests to share their one Playwright per session."""

from __future__ import annotations

import math
from typing import Any

import pytest

from bench import console


@pytest.mark.browser
def test_console_bench_measures_both_pages_at_tiny_sizes(browser: Any) -> None:
    out = console.run(sizes=console.Sizes(jobs=30, runs=300, rounds=1), browser=browser)
    assert set(out) == {
        "console_first_paint_ms",
        "console_first_contentful_paint_ms",
        "console_list_rendered_ms",
    }
    for metric in out.values():
        assert set(metric) == {"jobs_10k", "runs_1m"}
        assert all(v > 0 and math.isfinite(v) for v in metric.values()), metric


def test_fill_writes_the_rows(tmp_path: object) -> None:
    from pathlib import Path

    from tickwork.store import Store

    url = f"sqlite:///{Path(str(tmp_path)) / 'fill.db'}"
    console.fill(url, jobs=20, runs=150)
    store = Store(url)
    with store.db.read() as conn:
        jobs = conn.exec_driver_sql("SELECT count(*) FROM tw_job").scalar_one()
        runs = conn.exec_driver_sql("SELECT count(*), count(DISTINCT job_id) FROM tw_run").one()
    store.close()
    assert jobs == 20
    assert tuple(runs) == (150, 20)
