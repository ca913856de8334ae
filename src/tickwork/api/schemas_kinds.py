"""Request and response shapes of job kinds, named connections and scripts.

A job's ``target`` is a mapping validated by its kind (``tickwork.targets``), so its refusals
name ``target.<field>`` the same way for every face; the per-kind models below document the
shapes in the OpenAPI document (``schemas.TargetBody``'s schema is their ``oneOf``)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tickwork.api.schemas import TARGET_KINDS, Description, Strict


# -- targets (documentation of the kinds' shapes) --------------------------------------------
class PythonTarget(Strict):
    """A Python function (the kind may be left out: today's shape)."""

    kind: Literal["python"] = "python"
    ref: str = Field(max_length=500, description="package.module:function")
    args: list[Any] = Field(default_factory=list)
    kwargs: dict[str, Any] = Field(default_factory=dict)


class ShellTarget(Strict):
    kind: Literal["shell"]
    command: list[str] | str = Field(description="arguments, or one string with shell: true")
    shell: bool = False
    env: dict[str, str] = Field(default_factory=dict)
    cwd: str | None = None
    ok_exit_codes: list[int] = Field(default_factory=lambda: [0])
    connections: list[str] = Field(
        default_factory=list, description="handed to the command as TW_CONN_<NAME> (JSON)"
    )


class HttpTarget(Strict):
    kind: Literal["http"]
    method: Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] = "GET"
    url: str = Field(description="http(s) URL, or a path with a connection")
    headers: dict[str, str] = Field(default_factory=dict)
    params: dict[str, str] = Field(default_factory=dict, description="query parameters")
    json_body: Any = Field(default=None, alias="json")
    body: str | None = None
    expect_status: list[int | str] = Field(
        default=["200-299"], description='codes or ranges: [200, "300-399"]'
    )
    timeout_s: float = 30.0
    follow_redirects: bool = True
    connection: str | None = Field(default=None, description="a named HTTP connection")


class SqlTarget(Strict):
    kind: Literal["sql"]
    connection: str = Field(description="a named database connection")
    statement: str
    params: dict[str, Any] = Field(default_factory=dict, description="bound as :name")
    read_only: bool = False
    timeout_s: float | None = None
    max_rows: int | None = Field(default=None, description="rows kept (default 20, at most 200)")


class ScriptLimits(Strict):
    cpu_s: int = 600
    memory_mb: int = 1024
    file_mb: int = 64
    open_files: int = 256


class ScriptTarget(Strict):
    kind: Literal["script"]
    language: Literal["python", "bash"]
    script: str
    version: int | None = Field(default=None, description="pin a version; none: the latest")
    env: dict[str, str] = Field(default_factory=dict)
    connections: list[str] = Field(default_factory=list)
    limits: ScriptLimits | None = None


class BuiltinTarget(BaseModel):
    """A built-in maintenance job (docs/maintenance.md): its name, the connection it works
    on and its parameters (GET /api/builtins lists them with their defaults)."""

    model_config = ConfigDict(extra="allow")
    kind: Literal["builtin"]
    name: str = Field(description="check_slow_queries, cleanup_old_data, ...")
    connection: str | None = Field(default=None, description="a named database/Redis/AMQP one")


TARGET_MODELS = (PythonTarget, ShellTarget, HttpTarget, SqlTarget, ScriptTarget, BuiltinTarget)
assert tuple(m.__name__ for m in TARGET_MODELS) == TARGET_KINDS


# -- kinds and settings ----------------------------------------------------------------------
class KindOut(BaseModel):
    kind: str
    label: Description
    enabled: bool = Field(description="false when the deployment switched it off")
    admin_only: bool = Field(description="runs commands or code: admins only")
    switch: str | None = Field(description="the setting that turns it off")
    parameter_field: str | None = Field(
        description="where a manual run's declared parameters go (kwargs, env, params)"
    )


class SettingsOut(BaseModel):
    """What the deployment configured (read-only; set by environment variables)."""

    ssrf_allow: list[str] = Field(description="TICKWORK_SSRF_ALLOW: hosts and networks allowed")
    kinds_off: list[str] = Field(description="job kinds switched off (TICKWORK_SHELL/SCRIPTS)")
    scripts_sandbox: str
    scripts_user: str
    allowed_targets: list[str] | None = Field(
        description="TICKWORK_ALLOWED_TARGETS (None: the default, see docs/security.md)"
    )


class HttpTestIn(Strict):
    """A request as an HTTP job would send it (the target's fields, without kind)."""

    target: dict[str, Any]


class HttpTestOut(BaseModel):
    ok: bool
    error: str | None
    result: dict[str, Any] | None = Field(
        description="status, reason, url, headers, body, body_truncated, elapsed_ms"
    )


# -- connections -----------------------------------------------------------------------------
class ConnectionIn(Strict):
    """A new connection: ``fields`` are its kind's (docs/targets.md)."""

    name: str = Field(max_length=63)
    kind: Literal["database", "redis", "http", "smtp", "amqp"]
    description: str = Field(default="", max_length=2000)
    fields: dict[str, Any]


class ConnectionPatch(Strict):
    """Change some fields; a secret field left out or sent as "******" keeps its value, and
    "" clears it."""

    description: str | None = Field(default=None, max_length=2000)
    fields: dict[str, Any] | None = None
    version: int | None = None


class ConnectionOut(BaseModel):
    name: str
    kind: str
    description: str
    fields: dict[str, Any] = Field(description='public fields; secret ones "******" (or null)')
    version: int
    created_at: str
    created_by: str | None
    updated_at: str
    updated_by: str | None
    used_by: list[str]


class ConnectionList(BaseModel):
    items: list[ConnectionOut]


class ConnectionTestOut(BaseModel):
    ok: bool
    message: str
    elapsed_ms: float


# -- scripts ---------------------------------------------------------------------------------
class ScriptIn(Strict):
    name: str = Field(max_length=63)
    language: Literal["python", "bash"]
    code: str = Field(max_length=262_144)
    message: str = Field(default="", max_length=500)
    description: str = Field(default="", max_length=2000)


class ScriptVersionIn(Strict):
    code: str = Field(max_length=262_144)
    message: str = Field(default="", max_length=500)
    description: str | None = Field(default=None, max_length=2000)


class RollbackIn(Strict):
    version: int = Field(ge=1, le=2**31 - 1)
    message: str | None = Field(default=None, max_length=500)


class ScriptVersionOut(BaseModel):
    script: str
    version: int
    message: str
    author: str | None
    created_at: str
    sha256: str
    size: int
    code: str | None = Field(description="in GET .../versions/{version} and the script")


class ScriptOut(BaseModel):
    name: str
    language: str
    description: str
    latest_version: int
    created_at: str
    created_by: str | None
    updated_at: str
    updated_by: str | None
    used_by: list[str]
    latest: ScriptVersionOut | None = Field(description="the latest version, with its code")


class ScriptList(BaseModel):
    items: list[ScriptOut]


class ScriptHistory(BaseModel):
    items: list[ScriptVersionOut]


class ScriptDiff(BaseModel):
    script: str
    from_version: int
    to_version: int
    diff: str = Field(description="unified diff")
