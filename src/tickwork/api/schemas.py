"""The API's request and response shapes (Pydantic). Instants are ISO 8601 strings with an
offset: a job's next fire in the job's zone, everything else in UTC."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Path
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    WithJsonSchema,
)

JobState = Literal["scheduled", "paused", "completed"]
# The orders of the job list; a leading "-" reverses (jobs without a next fire stay last).
JobSort = Literal["id", "-id", "name", "-name", "group", "-group", "next_fire_at", "-next_fire_at"]
RunStatusName = Literal[
    "scheduled",
    "running",
    "succeeded",
    "failed",
    "timed_out",
    "cancelled",
    "skipped",
    "missed",
    "lost",
]
RoleName = Literal["viewer", "operator", "admin"]
# Path parameters, bounded as the columns are (a row id is a signed 64-bit integer).
RowId = Annotated[int, Path(ge=1, le=2**63 - 1)]
JobIdPath = Annotated[str, Path(min_length=1, max_length=191)]
GroupPath = Annotated[str, Path(min_length=1, max_length=100)]
TokenIdPath = Annotated[str, Path(min_length=1, max_length=32)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- errors ------------------------------------------------------------------------------------
class Problem(BaseModel):
    """RFC 9457 problem details; ``field`` names the input that was refused; ``code`` says
    why for machines (``string_too_long``, ``out_of_range``, ``not_found``...) with the values
    of the message in ``params`` (``{"max": 200}``), so a client can word it in any language."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    params: dict[str, Any] = Field(default_factory=dict)
    field: str | None = None
    retry_after_s: int | None = None


# -- jobs --------------------------------------------------------------------------------------
# What a job runs: {"kind": ..., the kind's fields}; without "kind", a Python target
# {"ref", "args", "kwargs"}. Validated by the kind (tickwork.targets), so refusals name
# target.<field>; documented as a oneOf of the kinds' shapes (api/schemas_kinds.py).
TARGET_KINDS = (
    "PythonTarget", "ShellTarget", "HttpTarget", "SqlTarget", "ScriptTarget", "BuiltinTarget",
)  # fmt: skip
TargetBody = Annotated[
    dict[str, Any],
    WithJsonSchema(
        {
            "type": "object",
            "description": "What the job runs: {kind, ...the kind's fields}; without kind, a "
            "Python target {ref, args, kwargs} (docs/targets.md)",
            "oneOf": [{"$ref": f"#/components/schemas/{name}"} for name in TARGET_KINDS],
        }
    ),
]


# A parameter's default or choice: a JSON scalar of the parameter's type.
Scalar = StrictBool | StrictInt | StrictFloat | StrictStr


class ParameterIn(Strict):
    """A run-time parameter: a kwarg of the job that a manual run may set (never a secret)."""

    name: str = Field(max_length=100, description="a Python identifier; a kwarg of the job")
    type: Literal["string", "integer", "number", "boolean"]
    default: Scalar | None = None
    required: bool = False
    minimum: StrictInt | StrictFloat | None = None
    maximum: StrictInt | StrictFloat | None = None
    max_length: int | None = Field(default=None, ge=0, le=65_536)
    choices: list[Scalar] | None = Field(default=None, max_length=100)
    help: str | None = Field(default=None, max_length=500)


class ParameterOut(BaseModel):
    name: str
    type: str
    default: Scalar | None = None
    required: bool = False
    minimum: float | None = None
    maximum: float | None = None
    max_length: int | None = None
    choices: list[Scalar] | None = None
    help: str | None = None


class TriggerIn(Strict):
    """One of: ``expr`` (a cron expression, kind cron), ``args`` (APScheduler keywords of the
    kind: cron fields, interval ``seconds``/``minutes``/..., date ``run_date``), or ``spec``
    (a stored trigger spec as the API returns it)."""

    kind: Literal["cron", "interval", "date"] = "cron"
    expr: str | None = Field(default=None, max_length=500)
    args: dict[str, Any] | None = None
    spec: dict[str, Any] | None = None


class PoliciesIn(Strict):
    misfire_policy: Literal["run_once", "run_all", "skip"] | None = None
    misfire_grace_s: float | None = None
    max_catchup: int | None = None
    concurrency_policy: Literal["allow", "forbid", "replace"] | None = None
    max_instances: int | None = None
    timeout_s: float | None = None
    retries: int | None = None
    retry_backoff_s: float | None = None
    retry_backoff_max_s: float | None = None


class JobIn(Strict):
    """A whole job definition (POST creates, PUT replaces)."""

    id: str | None = Field(default=None, max_length=191)
    name: str | None = Field(default=None, max_length=200)
    description: str = Field(default="", max_length=10_000)
    group: str = Field(default="default", max_length=100)
    tags: list[str] = Field(default_factory=list, max_length=50)
    target: TargetBody
    trigger: TriggerIn
    timezone: str | None = Field(default=None, max_length=64)
    executor: Literal["thread", "process", "asyncio"] | None = None
    queue: str | None = Field(
        default=None, max_length=100, description="a Celery queue: runs go to Celery workers"
    )
    policies: PoliciesIn = Field(default_factory=PoliciesIn)
    secret_keys: list[str] = Field(default_factory=list, max_length=100)
    parameters: list[ParameterIn] = Field(default_factory=list, max_length=50)
    paused: bool = False
    version: int | None = Field(
        default=None, description="PUT: the version you edited (or If-Match)"
    )


class JobPatch(Strict):
    """A partial change: only the fields given change (``target`` and ``policies`` field by
    field, ``target`` as a whole when it names another kind; ``trigger`` as a whole)."""

    name: str | None = Field(default=None, max_length=200)
    description: str | None = Field(default=None, max_length=10_000)
    group: str | None = Field(default=None, max_length=100)
    tags: list[str] | None = Field(default=None, max_length=50)
    target: TargetBody | None = None
    trigger: TriggerIn | None = None
    timezone: str | None = Field(default=None, max_length=64)
    executor: Literal["thread", "process", "asyncio"] | None = None
    queue: str | None = Field(
        default=None, max_length=100, description="a Celery queue: runs go to Celery workers"
    )
    policies: PoliciesIn | None = None
    secret_keys: list[str] | None = Field(default=None, max_length=100)
    parameters: list[ParameterIn] | None = Field(default=None, max_length=50)
    paused: bool | None = None
    version: int | None = None


class Description(BaseModel):
    en: str
    zh: str


class TargetOut(BaseModel):
    """``kind``, the kind's fields (python: ``ref``, ``args``, ``kwargs``, secret kwargs
    "******"; the others: their spec) and a one-line ``description`` in both languages."""

    model_config = ConfigDict(extra="allow")

    kind: str
    description: Description


class TriggerOut(BaseModel):
    kind: str
    expr: str | None
    spec: dict[str, Any]
    description: Description


class Policies(BaseModel):
    misfire_policy: str
    misfire_grace_s: float | None
    max_catchup: int
    concurrency_policy: str
    max_instances: int
    timeout_s: float | None
    retries: int
    retry_backoff_s: float
    retry_backoff_max_s: float


class LastRun(BaseModel):
    id: int
    status: RunStatusName
    scheduled_for: str
    finished_at: str | None
    duration_s: float | None


class JobOut(BaseModel):
    id: str
    name: str
    description: str
    group: str
    tags: list[str]
    target: TargetOut
    trigger: TriggerOut
    timezone: str
    executor: str
    queue: str | None = None
    policies: Policies
    secret_keys: list[str]
    parameters: list[ParameterOut]  # what POST .../run may set in params.kwargs
    state: JobState
    paused: bool
    next_fire_at: str | None
    last_run: LastRun | None
    version: int
    owner: str
    owner_ref: str | None
    created_at: str
    created_by: str | None
    updated_at: str
    updated_by: str | None


class JobPage(BaseModel):
    items: list[JobOut]
    next_cursor: str | None


class RunParams(Strict):
    """Only the job's declared ``parameters`` may be set in ``kwargs``; ``args`` cannot be
    replaced (a non-empty list is refused) and secret kwargs never change."""

    args: list[Any] | None = None
    kwargs: dict[str, Any] | None = None


class RunNowIn(Strict):
    params: RunParams | None = None


class RunQueued(BaseModel):
    run_id: int
    job_id: str
    status: RunStatusName


# -- runs --------------------------------------------------------------------------------------
class RunOut(BaseModel):
    id: int
    job_id: str
    scheduled_for: str
    due_at: str
    attempt: int
    retry_of: int | None
    reason: str
    status: RunStatusName
    node_id: str | None
    cancel_requested: bool
    created_at: str
    started_at: str | None
    finished_at: str | None
    duration_s: float | None
    result: str | None
    error: str | None
    params: dict[str, Any] | None
    triggered_by: str | None
    fires: int = Field(
        description="due fires this record accounts for: 1, or more for a counted missed record"
    )
    last_scheduled_for: str | None = Field(
        description="the last of those fires (the first is scheduled_for), when more than one"
    )


class RunDetail(RunOut):
    traceback: str | None
    log_size: int


class RunPage(BaseModel):
    items: list[RunOut]
    next_cursor: str | None


class CancelResult(BaseModel):
    run_id: int
    status: RunStatusName


# -- stats -------------------------------------------------------------------------------------
class RunStatsOut(BaseModel):
    job_id: str | None
    runs: int
    by_status: dict[str, int]
    success_rate: float | None
    duration_min_s: float | None
    duration_avg_s: float | None
    duration_max_s: float | None
    duration_p95_s: float | None
    last_status: str | None
    last_run_id: int | None
    slow_threshold_s: float
    slow_runs: int
    slowest: list[RunOut]


class StatsOut(BaseModel):
    since: str | None
    until: str | None
    total: RunStatsOut
    jobs: list[RunStatsOut]


# -- scheduler ---------------------------------------------------------------------------------
class NodeOut(BaseModel):
    id: str
    host: str
    pid: int
    roles: str
    version: str
    started_at: str
    heartbeat_at: str
    heartbeat_age_s: float
    alive: bool


class ThisNode(BaseModel):
    scheduler: bool
    node_id: str | None
    loop_alive: bool | None


class JobCounts(BaseModel):
    total: int
    scheduled: int
    paused: int
    completed: int


class SchedulerOut(BaseModel):
    paused: bool
    this_node: ThisNode
    nodes: list[NodeOut]
    jobs: JobCounts


class Readiness(BaseModel):
    status: Literal["ok", "warning", "error"]
    message: str
    checks: dict[str, str]


class Liveness(BaseModel):
    status: Literal["ok"]


# -- cron preview ------------------------------------------------------------------------------
class CronPreviewIn(Strict):
    expr: str = Field(max_length=500)
    timezone: str = Field(default="UTC", max_length=64)
    count: int = Field(default=5, ge=1, le=50)
    after: AwareDatetime | None = None
    seed: str | None = Field(default=None, max_length=191, description="job id spreading H")


class CronPreviewOut(BaseModel):
    expr: str
    timezone: str
    description: Description
    next: list[str]


# -- accounts ----------------------------------------------------------------------------------
class LoginIn(Strict):
    username: str = Field(max_length=100)
    password: str = Field(max_length=1024)


class UserOut(BaseModel):
    id: int
    username: str
    role: RoleName
    disabled: bool
    created_at: str
    created_by: str | None
    updated_at: str


class LoginOut(BaseModel):
    user: UserOut
    csrf_token: str
    expires_at: str


class MeOut(BaseModel):
    user: UserOut
    via: Literal["session", "token"]
    role: RoleName  # effective role (a token's may be lower than its user's)
    csrf_token: str | None  # for cookie sessions: send it as X-CSRF-Token on every write
    # Roles in single groups ("none": hidden), replacing ``role`` there (token-capped).
    groups: dict[str, str] = Field(default_factory=dict)


class PasswordChangeIn(Strict):
    current_password: str = Field(max_length=1024)
    new_password: str = Field(max_length=1024)


class UserCreateIn(Strict):
    username: str = Field(max_length=100)
    password: str = Field(max_length=1024)
    role: RoleName = "viewer"


class UserPatchIn(Strict):
    role: RoleName | None = None
    disabled: bool | None = None
    password: str | None = Field(default=None, max_length=1024)


class TokenIn(Strict):
    name: str = Field(max_length=100)
    role: RoleName | None = None  # default: your role; never above it
    expires_at: AwareDatetime | None = None


class TokenOut(BaseModel):
    id: str
    name: str
    user_id: int
    username: str
    role: RoleName
    created_at: str
    expires_at: str | None
    last_used_at: str | None
    revoked_at: str | None
    active: bool


class TokenCreated(BaseModel):
    token: str  # shown once; only its digest is stored
    info: TokenOut


# -- audit -------------------------------------------------------------------------------------
class AuditOut(BaseModel):
    id: int
    at: str
    actor: str
    action: str
    job_id: str | None
    run_id: int | None
    subject: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    detail: dict[str, Any] | None


class AuditPage(BaseModel):
    items: list[AuditOut]
    next_cursor: str | None
