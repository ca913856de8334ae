"""Module-level task functions shaped like the seed documents' (they must be importable)."""

from __future__ import annotations


class SchedulerService:
    @staticmethod
    def reset_periodic_tasks() -> str:
        return "reset"

    @staticmethod
    def check_task_warnings() -> str:
        return "warned"


def daily_cleanup_task() -> str:
    return "cleaned"


async def health_check_task() -> str:
    return "healthy"


def year_end_task() -> str:
    return "year end"


def sync_accounts() -> str:
    return "synced"


def check_db_health() -> str:
    return "db ok"
