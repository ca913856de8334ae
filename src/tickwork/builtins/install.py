"""``tickwork builtins install``: the jobs of a set (seed 000's ten) for one connection, each
under its seed job id with its schedule and the built-in's defaults. Destructive switches stay
off (dry runs); cleanup_old_data needs a table and is created paused unless one is given."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tickwork.builtins.catalog import BUILTINS, SETS
from tickwork.errors import InvalidInput

# The seed's table for cleanup_old_data (its chat records), used when none is given: the job
# is then created paused, to be pointed at the application's table first.
SEED_TABLE, SEED_TIME_COLUMN = "chats", "created_at"
TIMEOUTS = {"db_health_check": 60.0, "monitor_connection_pool": 120.0,
            "cleanup_connection_pool": 300.0, "check_slow_queries": 120.0,
            "vacuum_redis_cache": 1800.0}  # fmt: skip
DEFAULT_TIMEOUT = 3600.0


@dataclass(frozen=True, slots=True)
class Planned:
    job_id: str
    target: dict[str, Any]
    schedule: dict[str, Any]
    paused: bool
    note: str
    timeout_s: float


def plan(
    set_name: str,
    connection: str,
    *,
    redis: str | None = None,
    table: str | None = None,
    time_column: str | None = None,
    id_prefix: str = "",
) -> tuple[list[Planned], list[str]]:
    """The jobs to add and the notes on those left out."""
    if set_name not in SETS:
        raise InvalidInput("set", f"{set_name!r} is not a set; sets: {', '.join(SETS)}",
                           code="not_one_of", params={"value": set_name,
                                                      "choices": list(SETS)})  # fmt: skip
    out: list[Planned] = []
    skipped: list[str] = []
    for name in SETS[set_name]:
        item = BUILTINS[name]
        target: dict[str, Any] = {"kind": "builtin", "name": name}
        paused, note = False, ""
        if item.connection == "redis":
            if redis is None:
                skipped.append(f"{name}: needs a Redis connection (--redis NAME)")
                continue
            target["connection"] = redis
        elif item.connection is not None:
            target["connection"] = connection
        if name == "cleanup_old_data":
            target["table"] = table or SEED_TABLE
            target["time_column"] = time_column or SEED_TIME_COLUMN
            if table is None:
                paused = True
                note = (f"paused: set its table (now the seed's {SEED_TABLE}.{SEED_TIME_COLUMN})"
                        " and resume it")  # fmt: skip
        out.append(Planned(f"{id_prefix}{name}", target, item.schedule, paused, note,
                           TIMEOUTS.get(name, DEFAULT_TIMEOUT)))  # fmt: skip
    return out, skipped


def install(
    tw: Any, planned: list[Planned], *, replace: bool, set_name: str, owner: str = "cli"
) -> int:
    """Add the planned jobs through the facade (validated as any job is, written at once);
    the count."""
    for p in planned:
        trigger, trigger_args = _trigger(p.schedule)
        tw.add_job(
            p.target, trigger, id=p.job_id, name=BUILTINS[p.target["name"]].label.en,
            group="maintenance", tags=["builtin", set_name], paused=p.paused,
            timeout_s=p.timeout_s, replace_existing=replace, owner=owner, **trigger_args,
        )  # fmt: skip
    return len(planned)


def _trigger(schedule: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    if "cron" in schedule:
        return str(schedule["cron"]), {}
    return "interval", dict(schedule["interval"])
