"""Shapes of /api/groups and of users' group grants."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from tickwork.api.schemas import JobIn, PoliciesIn, Strict

GrantRoleName = Literal["none", "viewer", "operator", "admin"]


class GroupDefaults(Strict):
    """What a new job of the group takes when it gives none (checked as a job's fields)."""

    executor: Literal["thread", "process", "asyncio"] | None = None
    misfire_policy: Literal["run_once", "run_all", "skip"] | None = None
    misfire_grace_s: float | None = None
    max_catchup: int | None = None
    concurrency_policy: Literal["allow", "forbid", "replace"] | None = None
    max_instances: int | None = None
    timeout_s: float | None = None
    retries: int | None = None
    retry_backoff_s: float | None = None
    retry_backoff_max_s: float | None = None


class GroupIn(Strict):
    name: str = Field(min_length=1, max_length=100)
    description: str = Field(default="", max_length=10_000)
    owner: str | None = Field(default=None, max_length=100, description="a username")
    timezone: str | None = Field(default=None, max_length=64)
    defaults: GroupDefaults = Field(default_factory=GroupDefaults)


class GroupPatch(Strict):
    description: str | None = Field(default=None, max_length=10_000)
    owner: str | None = Field(default=None, max_length=100)
    timezone: str | None = Field(default=None, max_length=64)
    defaults: GroupDefaults | None = None
    version: int | None = None


class GroupOut(BaseModel):
    name: str
    description: str
    owner: str | None
    timezone: str | None
    defaults: dict[str, Any]
    declared: bool  # False: only named by jobs (no description, no defaults)
    version: int
    jobs: int
    paused: int
    your_role: GrantRoleName  # the caller's effective role in the group
    updated_at: str | None
    updated_by: str | None


class GroupList(BaseModel):
    items: list[GroupOut]


class GroupMember(BaseModel):
    user_id: int
    username: str
    role: GrantRoleName


class GroupAction(BaseModel):
    """What a group action did, or with ``dry_run`` would do: ``jobs`` of the group it acts
    on, ``changes`` of them whose state it changes (the count a confirmation shows)."""

    group: str
    action: Literal["pause", "resume", "run"]
    dry_run: bool
    jobs: int
    changes: int
    run_ids: list[int] = Field(default_factory=list)


class GrantIn(Strict):
    role: GrantRoleName


class GrantsOut(BaseModel):
    user_id: int
    username: str
    role: str  # the global role: the default in every group without a grant
    grants: dict[str, GrantRoleName]


def with_group_defaults(body: JobIn, defaults: dict[str, Any]) -> JobIn:
    """``body`` with the group's defaults in the fields it leaves out."""
    if not defaults:
        return body
    policies = body.policies.model_dump()
    for name in PoliciesIn.model_fields:
        if policies.get(name) is None and defaults.get(name) is not None:
            policies[name] = defaults[name]
    update: dict[str, Any] = {"policies": PoliciesIn(**policies)}
    if body.timezone is None and defaults.get("timezone"):
        update["timezone"] = defaults["timezone"]
    if body.executor is None and defaults.get("executor"):
        update["executor"] = defaults["executor"]
    return body.model_copy(update=update)
