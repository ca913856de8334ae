"""The pure parts of the built-ins: statement masking, the report's bounds, parameters."""

from __future__ import annotations

import pytest

from tickwork.builtins.catalog import BUILTINS, SEED_SET
from tickwork.builtins.mask import mask_statement
from tickwork.builtins.result import MAX_FINDINGS, MAX_TABLE_ROWS, Report
from tickwork.targets import kinds


@pytest.mark.parametrize(
    ("sql", "masked"),
    [
        ("SELECT * FROM t1 WHERE name = 'bob' AND age > 42",
         "SELECT * FROM t1 WHERE name = ? AND age > ?"),
        ("UPDATE u SET pw = 'it''s secret' WHERE id IN (1, 2, 3)",
         "UPDATE u SET pw = ? WHERE id IN (?...)"),
        ("SELECT $tag$ a secret $tag$, 0xDEADBEEF, -1.5e3", "SELECT ?, ?, ?"),
        # a list of literals folds (MySQL's "..." are strings: masked too)
        ("INSERT INTO log VALUES ('a\\'b', \"quoted\")", "INSERT INTO log VALUES (?...)"),
    ],
)  # fmt: skip
def test_literals_are_masked(sql: str, masked: str) -> None:
    assert mask_statement(sql, 300) == masked


def test_a_long_statement_is_cut_and_a_cut_literal_still_masked() -> None:
    sql = "SELECT '" + "secret " * 1000
    text = mask_statement(sql, 50)
    assert "secret" not in text
    assert len(mask_statement("SELECT " + "a, " * 1000, 50)) == 50


def test_the_report_is_bounded() -> None:
    report = Report()
    for i in range(MAX_FINDINGS + 5):
        report.finding("warning", f"o{i}", "m" * 2000, "a")
    report.table("t", ["a"], [[i] for i in range(MAX_TABLE_ROWS + 10)])
    result = report.as_result()
    assert len(result["findings"]) == MAX_FINDINGS
    assert result["metrics"]["findings_dropped"] == 5
    assert len(result["findings"][0]["message"]) == 500
    assert len(result["tables"]["t"]["rows"]) == MAX_TABLE_ROWS
    assert result["tables"]["t"]["total"] == MAX_TABLE_ROWS + 10
    assert report.worst() == "warning"


def test_the_seed_set_has_the_seed_ids_and_schedules() -> None:
    assert len(SEED_SET) == 10
    schedules = {name: BUILTINS[name].schedule for name in SEED_SET}
    assert schedules["db_health_check"] == {"interval": {"minutes": 3}}
    assert schedules["monitor_connection_pool"] == {"interval": {"minutes": 5}}
    assert schedules["cleanup_connection_pool"] == {"interval": {"minutes": 10}}
    assert schedules["check_slow_queries"] == {"interval": {"minutes": 15}}
    assert schedules["analyze_tables"] == {"cron": "0 2 * * *"}
    assert schedules["optimize_database_indexes"] == {"cron": "0 3 * * 0"}
    assert schedules["cleanup_old_data"] == {"cron": "0 4 * * *"}
    assert schedules["check_table_fragmentation"] == {"cron": "0 5 * * 1"}
    assert schedules["generate_performance_report"] == {"cron": "0 8 * * *"}
    assert schedules["vacuum_redis_cache"] == {"cron": "0 1 * * *"}


def test_defaults_are_the_seeds_thresholds() -> None:
    kind = kinds.get("builtin")
    pool = kind.validate({"name": "monitor_connection_pool", "connection": "db"})
    assert (pool["warn_pct"], pool["critical_pct"]) == (60.0, 80.0)
    slow = kind.validate({"name": "check_slow_queries", "connection": "db"})
    assert slow["threshold_s"] == 5.0
    idle = kind.validate({"name": "cleanup_connection_pool", "connection": "db"})
    assert (idle["idle_s"], idle["terminate"]) == (60.0, False)
    old = kind.validate({"name": "cleanup_old_data", "connection": "db", "table": "chats",
                         "time_column": "created_at"})  # fmt: skip
    assert (old["older_than_days"], old["batch_size"], old["dry_run"]) == (90.0, 1000, True)
    frag = kind.validate({"name": "check_table_fragmentation", "connection": "db"})
    assert frag["threshold_pct"] == 20.0
    cache = kind.validate({"name": "vacuum_redis_cache", "connection": "cache"})
    assert cache["patterns"] == ["dashboard:*", "stats:*", "temp:*"]
    assert cache["dry_run"] is True
    queue = kind.validate({"name": "queue_backlog", "connection": "cache"})
    assert queue["threshold"] == 1000
    assert kind.describe(slow).zh == "慢查询检查（db）"
