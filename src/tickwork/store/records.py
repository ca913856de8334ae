"""Plain records of stored rows, and their conversion to and from row mappings."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from functools import lru_cache
from typing import Any

from sqlalchemy import RowMapping


@dataclass(slots=True)
class JobRecord:
    """A job as stored. Built and validated by the service layer, never by faces directly.
    Treated as immutable (``dataclasses.replace`` makes a changed copy) but not frozen: a
    frozen dataclass sets each field through ``object.__setattr__``, which made building
    one 3x slower (4.7 against 1.4 us), seconds of a million-job bulk add."""

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
    queue: str | None = None  # a Celery queue: runs go to Celery workers (docs/celery.md)

    def to_row(self) -> dict[str, Any]:
        """The row to store. Its JSON values are copies one level deep (the record's own
        lists and dicts are never handed out); deeper values (args, kwargs) are shared and,
        like the record, must not be changed. A million jobs are added through here, so no
        ``dataclasses.asdict`` (which deep-copies every value)."""
        row = {name: getattr(self, attr) for name, attr in _JOB_ROW_ATTRS}
        row["tags"] = list(self.tags)
        row["target"] = dict(self.target)
        row["trigger"] = dict(self.trigger)
        row["secret_keys"] = list(self.secret_keys)
        return row

    @classmethod
    def from_row(cls, row: RowMapping | dict[str, Any]) -> JobRecord:
        return cls(**{attr: row[name] for name, attr in _JOB_ROW_ATTRS})


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
    fires: int = 1  # due fires this record accounts for (many for a counted missed record)
    last_scheduled_for: int | None = None  # the last of them, when more than one
    queue: str | None = None  # handed to Celery on this queue (its message published)
    published_at: int | None = None

    @classmethod
    def from_row(cls, row: RowMapping | dict[str, Any]) -> RunRecord:
        return cls(**{name: row[name] for name in _RUN_FIELDS if name in row})


JOB_COLUMNS = tuple(f.name if f.name != "group" else "group_name" for f in fields(JobRecord))
# (column name, attribute name) of every JobRecord field: the record <-> row mapping.
_JOB_ROW_ATTRS = tuple(zip(JOB_COLUMNS, (f.name for f in fields(JobRecord)), strict=True))
_RUN_FIELDS = tuple(f.name for f in fields(RunRecord))


# -- reading job rows fast (the claim) ------------------------------------------------------------
_JSON_FIELDS = frozenset({"tags", "target", "trigger", "secret_keys"})
_JSON_INDEXES = tuple(i for i, (name, _) in enumerate(_JOB_ROW_ATTRS) if name in _JSON_FIELDS)
_TRIGGER_INDEX = next(i for i, (name, _) in enumerate(_JOB_ROW_ATTRS) if name == "trigger")


@lru_cache(maxsize=8192)
def _decoded(text: str) -> Any:
    return json.loads(text)


def job_columns_raw(is_sqlite: bool) -> list[Any]:
    """The job table's columns in JobRecord field order, JSON columns as their text."""
    from sqlalchemy import Text, cast, type_coerce

    from tickwork.store.tables import job

    out: list[Any] = []
    for name, _ in _JOB_ROW_ATTRS:
        col = job.c[name]
        if name in _JSON_FIELDS:
            text = type_coerce(col, Text) if is_sqlite else cast(col, Text)
            out.append(text.label(name))
        else:
            out.append(col)
    return out


def job_from_raw(row: Sequence[Any]) -> JobRecord:
    """A JobRecord from a row of ``job_columns_raw``. Equal JSON texts decode to one shared
    value (records and their values are never changed in place), so a claim of many jobs
    with the same target decodes it once; trigger texts differ per job (they carry the job id
    as seed) and are decoded each time, into a value of the record's own."""
    values = list(row)
    for i in _JSON_INDEXES:
        text = values[i]
        if isinstance(text, str):
            values[i] = json.loads(text) if i == _TRIGGER_INDEX else _decoded(text)
    return JobRecord(*values)
