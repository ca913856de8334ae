"""Plain records of stored rows, and their conversion to and from row mappings."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from sqlalchemy import RowMapping


@dataclass(frozen=True, slots=True)
class JobRecord:
    """A job as stored. Built and validated by the service layer, never by faces directly."""

    id: str
    name: str
    target_kind: str
    target: dict[str, Any]  # {"ref": "pkg.mod:func", "args": [...], "kwargs": {...}}
    trigger_kind: str
    trigger: dict[str, Any]  # tickwork.triggers spec
    timezone: str
    description: str = ""
    group: str = "default"
    tags: list[str] = field(default_factory=list)
    executor: str = "thread"
    misfire_policy: str = "run_once"
    misfire_grace_s: float | None = None
    max_catchup: int = 100
    concurrency_policy: str = "allow"
    max_instances: int = 1
    timeout_s: float | None = None
    retries: int = 0
    retry_backoff_s: float = 10.0
    retry_backoff_max_s: float = 600.0
    secret_keys: list[str] = field(default_factory=list)
    paused: bool = False
    owner: str = "api"
    owner_ref: str | None = None
    version: int = 1
    next_fire_at: int | None = None
    created_at: int = 0
    created_by: str | None = None
    updated_at: int = 0
    updated_by: str | None = None

    def to_row(self) -> dict[str, Any]:
        row = asdict(self)
        row["group_name"] = row.pop("group")
        return row

    @classmethod
    def from_row(cls, row: RowMapping | dict[str, Any]) -> JobRecord:
        data = dict(row)
        data["group"] = data.pop("group_name")
        return cls(**{f.name: data[f.name] for f in fields(cls)})


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One fire of one job (or one attempt of it), whatever became of it."""

    id: int
    job_id: str
    scheduled_for: int
    due_at: int
    attempt: int
    reason: str
    status: str
    created_at: int
    retry_of: int | None = None
    node_id: str | None = None
    cancel_requested: bool = False
    started_at: int | None = None
    finished_at: int | None = None
    duration_s: float | None = None
    result: str | None = None
    error: str | None = None
    traceback: str | None = None
    log: str | None = None
    params: dict[str, Any] | None = None
    triggered_by: str | None = None

    @classmethod
    def from_row(cls, row: RowMapping | dict[str, Any]) -> RunRecord:
        return cls(**{f.name: row[f.name] for f in fields(cls) if f.name in row})


JOB_COLUMNS = tuple(f.name if f.name != "group" else "group_name" for f in fields(JobRecord))
