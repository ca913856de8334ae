"""The forecast benchmark's harness works at a tiny size (no timing asserted): the forecast
equals the naive walk of every trigger, and the fragment has its shape."""

from __future__ import annotations

from pathlib import Path

from bench import forecast


def test_forecast_bench_measures_at_a_tiny_size(tmp_path: Path) -> None:
    out = forecast.measure(f"sqlite:///{tmp_path / 'bench.db'}", 400)
    assert out["jobs"] == 400
    day = out["24h_per_60s"]
    assert day["fires"] > 0
    assert "naive_s" in day  # measured, and equal fires (asserted inside)
    assert out["168h_per_3600s"]["fires"] > day["fires"]
