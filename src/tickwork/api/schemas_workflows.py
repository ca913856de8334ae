"""Request and response shapes of workflows, workflow runs and a job's ``then`` list. The
graph itself (unknown steps, self-edges, cycles) is checked by the facade, once for every
face, and refused naming the edge."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Path
from pydantic import BaseModel, Field

from tickwork.api.schemas import Strict

WorkflowIdPath = Annotated[str, Path(min_length=1, max_length=191)]
WorkflowRunIdPath = Annotated[int, Path(ge=1, le=2**63 - 1)]
Condition = Literal["success", "failure", "always"]


class EdgeIn(Strict):
    step: str = Field(max_length=100, description="the upstream step")
    on: Condition = "success"


class StepIn(Strict):
    id: str = Field(max_length=100)
    job: str | None = Field(default=None, max_length=191, description="default: the step id")
    after: list[str | EdgeIn] = Field(
        default_factory=list,
        max_length=500,
        description='upstream steps: an id (on success) or {"step": id, "on": condition}',
    )


class WorkflowIn(Strict):
    id: str = Field(max_length=191)
    name: str | None = Field(default=None, max_length=200)
    description: str = Field(default="", max_length=10_000)
    steps: list[StepIn] = Field(max_length=500)
    trigger: str | dict[str, Any] | None = Field(
        default=None,
        description='a cron expression, {"kind": "interval", "minutes": 30}, a stored spec; '
        "none: run by hand or by the API",
    )
    timezone: str | None = Field(default=None, max_length=64)
    deadline_s: float | None = Field(default=None, description="of each workflow run")
    paused: bool = False
    version: int | None = Field(default=None, description="PUT: the version you edited")


class EdgeOut(BaseModel):
    step: str
    on: Condition


class StepOut(BaseModel):
    id: str
    job: str
    after: list[EdgeOut]


class WorkflowOut(BaseModel):
    id: str
    name: str
    description: str
    steps: list[StepOut]
    trigger: dict[str, Any] | None
    timezone: str
    deadline_s: float | None
    paused: bool
    next_fire_at: str | None
    owner: str
    owner_ref: str | None
    version: int
    created_at: str
    created_by: str | None
    updated_at: str
    updated_by: str | None


class WorkflowList(BaseModel):
    items: list[WorkflowOut]


class StepRunOut(BaseModel):
    step: str
    job_id: str
    state: str = Field(description="waiting, running, succeeded, failed, timed_out, "
                       "cancelled, lost, missed or skipped")  # fmt: skip
    run_id: int | None = Field(description="the step's run record (its first attempt)")
    reason: str | None = Field(description="why it was skipped, or its run's error")
    carried: bool = Field(description="a rerun kept this step's earlier success")
    released_at: str | None
    finished_at: str | None


class WorkflowRunOut(BaseModel):
    id: int
    workflow_id: str
    scheduled_for: str
    reason: str
    status: str
    steps: list[StepOut]
    deadline_at: str | None
    rerun_of: int | None
    triggered_by: str | None
    created_at: str
    finished_at: str | None
    error: str | None
    step_runs: list[StepRunOut]


class WorkflowRunList(BaseModel):
    items: list[WorkflowRunOut]
    next_before: int | None = Field(description="pass as before= for the next page")


class WorkflowRunStarted(BaseModel):
    workflow_run_id: int
    workflow_id: str
    status: str


class ThenIn(Strict):
    then: list[str] = Field(max_length=100, description="job ids to run after each success")


class ThenOut(BaseModel):
    job_id: str
    then: list[str]
