"""Every built-in maintenance job: its name (seed 000's job ids), what it needs (a database, a
Redis or no connection), its parameters with their defaults, its default schedule and where
its code lives. The job kind (``tickwork.builtins.kind``), the CLI's ``builtins list`` and
``builtins install`` read this table."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tickwork.builtins.params import Param
from tickwork.targets.base import Text

# Every database built-in takes these (statement timeouts on everything).
DB_COMMON = (
    Param("statement_timeout_s", "number", 30.0, 0.1, 86_400, "limit of each statement"),
    Param("lock_timeout_s", "number", 2.0, 0.1, 600, "limit of each lock wait"),
)


@dataclass(frozen=True, slots=True)
class Builtin:
    name: str
    label: Text
    connection: str | None  # "database", "redis", "database|redis", None (files)
    run: str  # "module:function" in tickwork.builtins
    params: tuple[Param, ...]
    schedule: dict[str, Any]  # {"cron": "0 2 * * *"} or {"interval": {"minutes": 3}}
    dialects: tuple[str, ...] = ("postgresql", "mysql", "sqlite")
    destructive: tuple[str, ...] = ()  # the params that turn on changes (all off by default)
    extra: dict[str, Any] = field(default_factory=dict)

    def all_params(self) -> tuple[Param, ...]:
        if self.connection and "database" in self.connection:
            return (*self.params, *DB_COMMON)
        return self.params


BUILTINS: dict[str, Builtin] = {}


def _add(item: Builtin) -> None:
    BUILTINS[item.name] = item


_add(
    Builtin(
        "db_health_check",
        Text("Database health check", "数据库健康检查"),
        "database|redis",
        "health:db_health_check",
        (
            Param("rounds", "int", 3, 1, 20, "round trips measured"),
            Param("warn_ms", "number", 200.0, 0, 600_000, "median round trip that warns"),
            Param(
                "critical_ms", "number", 1000.0, 0, 600_000, "median round trip that is critical"
            ),
        ),
        {"interval": {"minutes": 3}},
    )
)
_add(
    Builtin(
        "monitor_connection_pool",
        Text("Connection pool monitor", "连接池监控"),
        "database",
        "health:monitor_connection_pool",
        (
            Param("warn_pct", "number", 60.0, 0, 100, "use of max_connections that warns"),
            Param(
                "critical_pct", "number", 80.0, 0, 100, "use of max_connections that is critical"
            ),
            Param(
                "pool",
                "text",
                None,
                help="an application pool registered with tickwork.builtins.pools.register",
            ),
        ),
        {"interval": {"minutes": 5}},
        ("postgresql", "mysql"),
    )
)
_add(
    Builtin(
        "cleanup_connection_pool",
        Text("Connection cleanup", "连接池清理"),
        "database",
        "health:cleanup_connection_pool",
        (
            Param(
                "idle_s",
                "number",
                60.0,
                0.1,
                864_000,
                "idle sessions longer than this are reported",
            ),
            Param(
                "terminate_after_s",
                "number",
                600.0,
                1,
                864_000,
                "with terminate: idle sessions longer than this are ended",
            ),
            Param(
                "terminate",
                "bool",
                False,
                help="end idle-in-transaction sessions over idle_s and "
                "idle sessions over terminate_after_s",
            ),
            Param("max_terminate", "int", 20, 1, 1000, "sessions ended per run at most"),
            Param("exclude_users", "names", [], help="users whose sessions are never ended"),
            Param(
                "all_databases",
                "bool",
                False,
                help="look at every database's sessions (default: the connection's database)",
            ),
        ),
        {"interval": {"minutes": 10}},
        ("postgresql", "mysql"),
        ("terminate",),
    )
)
_add(
    Builtin(
        "check_slow_queries",
        Text("Slow query check", "慢查询检查"),
        "database",
        "health:check_slow_queries",
        (
            Param("threshold_s", "number", 5.0, 0.1, 864_000, "statements running longer are slow"),
            Param(
                "critical_s",
                "number",
                300.0,
                0.1,
                864_000,
                "statements running longer are critical",
            ),
            Param(
                "max_statement_chars", "int", 300, 20, 4000, "statement text kept (literals masked)"
            ),
        ),
        {"interval": {"minutes": 15}},
        ("postgresql", "mysql"),
    )
)
_add(
    Builtin(
        "analyze_tables",
        Text("Analyze table statistics", "表统计信息分析"),
        "database",
        "tables:analyze_tables",
        (
            Param("tables", "names", [], help="tables to analyze (default: those changed most)"),
            Param("max_tables", "int", 20, 1, 500, "tables analyzed per run"),
            Param(
                "min_changes",
                "int",
                1000,
                0,
                10**12,
                "PostgreSQL: rows changed since the last ANALYZE",
            ),
        ),
        {"cron": "0 2 * * *"},
    )
)
_add(
    Builtin(
        "optimize_database_indexes",
        Text("Index advice", "数据库索引优化"),
        "database",
        "indexes:optimize_database_indexes",
        (
            Param("tables", "names", [], help="tables looked at (default: all)"),
            Param("min_rows", "int", 10_000, 0, 10**12, "tables smaller are not worth advice"),
            Param("create", "indexes", [], help="indexes to create: [{table, columns, name?}]"),
            Param("apply", "bool", False, help="create the listed indexes (CONCURRENTLY / online)"),
            Param("index_timeout_s", "number", 3600.0, 1, 86_400, "limit of each CREATE INDEX"),
        ),
        {"cron": "0 3 * * 0"},
        ("postgresql", "mysql"),
        ("apply",),
    )
)
_add(
    Builtin(
        "cleanup_old_data",
        Text("Delete old rows in batches", "清理过期数据"),
        "database",
        "retention:cleanup_old_data",
        (
            Param(
                "table", "identifier", None, required=True, help="the table rows are deleted from"
            ),
            Param("time_column", "column", None, required=True, help="the row's time (indexed)"),
            Param("older_than_days", "number", 90.0, 0.001, 36_500, "rows older than this go"),
            Param("batch_size", "int", 1000, 1, 50_000, "rows per batch (one short transaction)"),
            Param("pause_s", "number", 0.1, 0, 60, "pause between batches"),
            Param("max_rows", "int", 1_000_000, 1, 10**10, "rows deleted per run at most"),
            Param(
                "children",
                "children",
                [],
                help="child tables deleted first: [{table, column, parent_column?}]",
            ),
            Param("dry_run", "bool", True, help="only count (set false to delete)"),
        ),
        {"cron": "0 4 * * *"},
        destructive=("dry_run",),
    )
)
_add(
    Builtin(
        "check_table_fragmentation",
        Text("Table fragmentation", "检查表碎片"),
        "database",
        "tables:check_table_fragmentation",
        (
            Param("threshold_pct", "number", 20.0, 0, 100, "free or dead share that warns"),
            Param("min_bytes", "int", 10 * 1024 * 1024, 0, 10**15, "tables smaller are skipped"),
            Param("min_dead_rows", "int", 1000, 0, 10**12, "PostgreSQL: dead rows worth a finding"),
        ),
        {"cron": "0 5 * * 1"},
    )
)
_add(
    Builtin(
        "generate_performance_report",
        Text("Performance report", "生成性能报告"),
        "database",
        "tables:generate_performance_report",
        (Param("max_tables", "int", 20, 1, 50, "largest tables listed"),),
        {"cron": "0 8 * * *"},
    )
)
_add(
    Builtin(
        "vacuum_redis_cache",
        Text("Redis cache cleanup", "清理Redis缓存"),
        "redis",
        "redis_cache:vacuum_redis_cache",
        (
            Param(
                "patterns", "patterns", ["dashboard:*", "stats:*", "temp:*"], help="key patterns"
            ),
            Param(
                "idle_s",
                "int",
                86_400,
                0,
                10**9,
                "keys idle longer than this go (and keys without a TTL)",
            ),
            Param("max_scan", "int", 100_000, 1, 10**8, "keys looked at per run at most"),
            Param("max_delete", "int", 10_000, 1, 10**7, "keys unlinked per run at most"),
            Param("dry_run", "bool", True, help="only count (set false to unlink)"),
        ),
        {"cron": "0 1 * * *"},
        (),
        ("dry_run",),
    )
)
_add(
    Builtin(
        "queue_backlog",
        Text("Queue backlog monitor", "队列积压监控"),
        "redis|amqp",
        "queues:queue_backlog",
        (
            Param("queues", "queues", ["celery"], help="Redis lists or Celery queues"),
            Param("threshold", "int", 1000, 0, 10**12, "messages waiting that warn"),
            Param("critical", "int", 10_000, 0, 10**12, "messages waiting that are critical"),
        ),
        {"interval": {"minutes": 5}},
        (),
    )
)
_add(
    Builtin(
        "cleanup_log_files",
        Text("Log file cleanup", "清理旧日志"),
        None,
        "files:cleanup_log_files",
        (
            Param("path", "text", None, required=True, help="directory inside an allowed root"),
            Param("pattern", "text", "*.log*", help="file name pattern"),
            Param("older_than_days", "number", 30.0, 0.001, 36_500, "files modified earlier go"),
            Param("max_files", "int", 10_000, 1, 10**7, "files removed per run at most"),
            Param("dry_run", "bool", True, help="only count (set false to remove)"),
        ),
        {"cron": "30 3 * * *"},
        (),
        ("dry_run",),
    )
)
_add(
    Builtin(
        "collect_database_sizes",
        Text("Database size collection", "容量同步"),
        "database",
        "tables:collect_database_sizes",
        (Param("max_tables", "int", 50, 1, 50, "largest tables recorded"),),
        {"cron": "0 3 * * *"},
    )
)

# `tickwork builtins install <set>`: seed 000's ten jobs for one connection
SEED_SET = (
    "db_health_check",
    "monitor_connection_pool",
    "cleanup_connection_pool",
    "check_slow_queries",
    "analyze_tables",
    "optimize_database_indexes",
    "cleanup_old_data",
    "check_table_fragmentation",
    "generate_performance_report",
    "vacuum_redis_cache",
)
SETS: dict[str, tuple[str, ...]] = {
    "mysql-maintenance": SEED_SET,
    "postgres-maintenance": SEED_SET,
}
