"""A Flask-APScheduler style config class (seed 000), referenced as a job source."""

from __future__ import annotations

from typing import Any, ClassVar


class Config:
    JOBS: ClassVar[list[dict[str, Any]]] = [
        {
            "id": "db_health_check",
            "func": "tests.service.seed_tasks:check_db_health",
            "trigger": "interval",
            "minutes": 3,
            "misfire_grace_time": 30,
        },
        {
            "id": "analyze_tables",
            "func": "tests.service.seed_tasks:sync_accounts",
            "trigger": "cron",
            "hour": 2,
        },
    ]
