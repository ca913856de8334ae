"""The maintenance benchmark's harness still works at a tiny size: every method on both
servers deletes what it should while the writer runs. No timing is asserted."""

from __future__ import annotations

import pytest

from bench import maintenance
from tests import dbs
from tests.conftest import service_missing


@pytest.mark.postgres
@pytest.mark.mysql
def test_maintenance_bench_runs_every_method_at_a_tiny_size(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for kind in ("postgres", "mysql"):
        problem = dbs.reachable(kind)
        if problem is not None:
            service_missing(dbs.SERVER_NAMES[kind], problem)  # with CI=true: a failure
    out = maintenance.run(rows=3_000)
    results = out["maintenance_retention"]
    assert set(results) == {"mariadb", "postgresql"}
    for engine, by_method in results.items():
        assert by_method["tickwork"]["rows"] == 3_000, engine
        assert by_method["naive_delete"]["rows"] == 3_000, engine
        assert by_method["row_by_row"]["rows"] == 3_000, engine
        assert by_method["tickwork"]["writer_errors"] == 0, (engine, by_method["tickwork"])
        assert by_method["tickwork"]["writer_txns"] > 0, engine
    assert "tickwork rows/s" in capsys.readouterr().out
