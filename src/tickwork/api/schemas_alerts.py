"""Request and response shapes of /api/alerts (docs/alerts.md)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from tickwork.api.schemas import Strict

ChannelKind = Literal["email", "dingtalk", "wecom", "feishu", "slack", "webhook"]
Language = Literal["en", "zh-CN"]
Severity = Literal["info", "warning", "critical"]
RuleKind = Literal[
    "failed", "consecutive_failures", "error_rate", "long_run", "timed_out", "lost", "missed",
    "recovery", "finding",
]  # fmt: skip
Scope = Literal["job", "group", "tag", "all"]
HistoryStatus = Literal["queued", "deduplicated", "pending", "sending", "delivered", "failed"]


class ChannelIn(Strict):
    """A new channel; ``fields`` are its kind's: email ``connection`` (an SMTP connection)
    and ``to``; the robots and the webhook ``url`` and, where the service signs, ``secret``."""

    name: str = Field(max_length=63)
    kind: ChannelKind
    language: Language = "en"
    description: str = Field(default="", max_length=2000)
    enabled: bool = True
    fields: dict[str, Any]


class ChannelPatch(Strict):
    """Change some fields; a secret field left out or sent as "******" keeps its value."""

    language: Language | None = None
    description: str | None = Field(default=None, max_length=2000)
    enabled: bool | None = None
    fields: dict[str, Any] | None = None
    version: int | None = None


class ChannelOut(BaseModel):
    name: str
    kind: str
    language: str
    description: str
    enabled: bool
    fields: dict[str, Any] = Field(description='public fields; secret ones "******" (or null)')
    version: int
    created_at: str
    created_by: str | None
    updated_at: str
    updated_by: str | None
    used_by: list[str] = Field(description="the rules that send to it")


class ChannelList(BaseModel):
    items: list[ChannelOut]


class ChannelTestIn(Strict):
    language: Language | None = None


class ChannelTestOut(BaseModel):
    ok: bool
    status_code: int | None
    response: str | None = Field(description="an excerpt of the service's answer, secrets masked")
    error: str | None
    alert_id: int


class Quiet(Strict):
    start: str = Field(max_length=5, description="HH:MM")
    end: str = Field(max_length=5, description="HH:MM")
    timezone: str = Field(default="UTC", max_length=64)


class RuleIn(Strict):
    """A rule (docs/alerts.md lists each kind's ``params``)."""

    id: str = Field(max_length=63)
    kind: RuleKind
    scope: Scope = "all"
    scope_value: str | None = Field(default=None, max_length=191)
    params: dict[str, Any] = Field(default_factory=dict)
    severity: Severity = "warning"
    dedupe_s: int | None = Field(default=None, ge=0, le=30 * 86_400)
    quiet: Quiet | None = None
    channels: list[str] = Field(default_factory=list, max_length=20)
    enabled: bool = True
    description: str = Field(default="", max_length=2000)


class RulePatch(Strict):
    kind: RuleKind | None = None
    scope: Scope | None = None
    scope_value: str | None = Field(default=None, max_length=191)
    params: dict[str, Any] | None = None
    severity: Severity | None = None
    dedupe_s: int | None = Field(default=None, ge=0, le=30 * 86_400)
    quiet: Quiet | None = None
    channels: list[str] | None = Field(default=None, max_length=20)
    enabled: bool | None = None
    description: str | None = Field(default=None, max_length=2000)
    version: int | None = None


class RuleOut(BaseModel):
    id: str
    kind: str
    scope: str
    scope_value: str | None
    params: dict[str, Any]
    severity: str
    dedupe_s: int
    quiet: dict[str, str] | None
    channels: list[str]
    enabled: bool
    description: str
    version: int
    created_at: str
    created_by: str | None
    updated_at: str
    updated_by: str | None


class RuleList(BaseModel):
    items: list[RuleOut]


class AttemptOut(BaseModel):
    channel: str
    node_id: str | None
    started_at: str
    finished_at: str | None
    ok: bool | None
    status_code: int | None
    response: str | None
    error: str | None


class DeliveryOut(BaseModel):
    id: int
    channel: str
    status: str
    attempts: int
    next_attempt_at: str
    delivered_at: str | None
    last_error: str | None


class AlertOut(BaseModel):
    id: int
    rule_id: str | None
    kind: str
    job_id: str | None
    run_id: int | None
    severity: str
    status: str = Field(description="queued (sent to its channels) or deduplicated")
    facts: dict[str, Any]
    created_at: str
    deliveries: list[DeliveryOut]
    attempts: list[AttemptOut] | None = None


class AlertList(BaseModel):
    items: list[AlertOut]
    next_before: int | None = Field(description="the `before` of the next page, if any")
