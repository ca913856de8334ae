"""/api/builtins (the built-in maintenance jobs and their parameters) and
/api/maintenance/sizes (database sizes collected over time, with growth per week)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from tickwork.accounts.roles import Role
from tickwork.api.security import TW, route

router = APIRouter(tags=["maintenance"])


@route(router, "GET", "/api/builtins", role=Role.VIEWER, response_model=list[dict[str, Any]])
def list_builtins(tw: TW) -> list[dict[str, Any]]:
    """Every built-in: name, labels, the connection kind it needs, default schedule, the
    parameters (type, default, range) and those that turn on changes."""
    from tickwork.builtins.catalog import BUILTINS

    return [
        {"name": b.name, "label": {"en": b.label.en, "zh": b.label.zh},
         "connection": b.connection, "schedule": b.schedule, "dialects": list(b.dialects),
         "destructive": list(b.destructive), "params": [p.describe() for p in b.all_params()]}
        for b in BUILTINS.values()
    ]  # fmt: skip


@route(router, "GET", "/api/maintenance/sizes", role=Role.VIEWER, response_model=dict[str, Any])
def database_sizes(
    tw: TW,
    connection: str | None = Query(default=None, max_length=63),
    job_id: str | None = Query(default=None, max_length=200),
    limit: int = Query(default=200, ge=1, le=1000),
) -> dict[str, Any]:
    """Database and table sizes recorded by the collect_database_sizes (and
    generate_performance_report) jobs, oldest first, and each connection's growth per week."""
    from tickwork.builtins.history import size_history

    return size_history(tw, connection=connection, job_id=job_id, limit=limit)
