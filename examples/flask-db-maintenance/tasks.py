"""The scheduled jobs, in Flask-APScheduler's ``JOBS`` shape (seed 000's ``Tasks/task_list.py``).

Where the seed pointed ``func`` at a hand-written function (``Tasks.db_health_check:...``), each
job here is one of Tickwork's maintenance built-ins (``docs/maintenance.md``) on the named
connection ``app_db`` (the application's MariaDB) or ``cache`` (its Redis): the same ten checks,
with a structured report stored on every run instead of log lines.
"""

from __future__ import annotations

from typing import Any

DB, CACHE = "app_db", "cache"


def builtin(name: str, connection: str = DB, **params: Any) -> dict[str, Any]:
    return {"kind": "builtin", "name": name, "connection": connection, **params}


JOBS: list[dict[str, Any]] = [
    # health checks (frequent)
    {"id": "db_health_check", "func": builtin("db_health_check"),
     "trigger": "interval", "minutes": 3, "misfire_grace_time": 30},
    {"id": "monitor_connection_pool", "func": builtin("monitor_connection_pool",
                                                      warn_pct=60, critical_pct=80),
     "trigger": "interval", "minutes": 5, "misfire_grace_time": 60},
    {"id": "cleanup_connection_pool", "func": builtin("cleanup_connection_pool", idle_s=60),
     "trigger": "interval", "minutes": 10, "misfire_grace_time": 60},
    {"id": "check_slow_queries", "func": builtin("check_slow_queries", threshold_s=5),
     "trigger": "interval", "minutes": 15, "misfire_grace_time": 60},
    # maintenance (daily / weekly)
    {"id": "analyze_tables", "func": builtin("analyze_tables"),
     "trigger": "cron", "hour": 2, "minute": 0},
    {"id": "optimize_database_indexes", "func": builtin("optimize_database_indexes"),
     "trigger": "cron", "day_of_week": "sun", "hour": 3, "minute": 0},
    # 90 days of chats, 1000 rows a batch, as the seed deletes them
    {"id": "cleanup_old_data", "func": builtin("cleanup_old_data", table="chats",
                                               time_column="created_at", older_than_days=90,
                                               batch_size=1000, dry_run=False),
     "trigger": "cron", "hour": 4, "minute": 0},
    {"id": "check_table_fragmentation", "func": builtin("check_table_fragmentation",
                                                        threshold_pct=20),
     "trigger": "cron", "day_of_week": "mon", "hour": 5, "minute": 0},
    {"id": "generate_performance_report", "func": builtin("generate_performance_report"),
     "trigger": "cron", "hour": 8, "minute": 0},
    {"id": "vacuum_redis_cache", "func": builtin("vacuum_redis_cache", CACHE,
                                                 patterns=["dashboard:*", "stats:*", "temp:*"],
                                                 dry_run=False),
     "trigger": "cron", "hour": 1, "minute": 0},
]  # fmt: skip
