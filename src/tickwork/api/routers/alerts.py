"""/api/alerts: channels (admins; secrets masked), rules (read by viewers: a job page shows
its rules; written by admins) and the alert history with its deliveries and attempts
(viewers)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Response
from pydantic import AwareDatetime
from starlette.status import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from tickwork.accounts.roles import Role
from tickwork.alerts.model import Rule
from tickwork.api import convert
from tickwork.api import schemas_alerts as a
from tickwork.api.atomic import atomic
from tickwork.api.convert import iso, iso_required
from tickwork.api.routers.jobs import _expected_version
from tickwork.api.security import TW, Me, route
from tickwork.service.alerts import ChannelView

router = APIRouter(tags=["alerts"])
NamePath = Annotated[str, Path(min_length=1, max_length=63)]
MAX_ID = 2**63 - 1  # a row id: larger ones are refused by validation, not by the database


def channel_out(view: ChannelView) -> a.ChannelOut:
    return a.ChannelOut(
        name=view.name,
        kind=view.kind,
        language=view.language,
        description=view.description,
        enabled=view.enabled,
        fields=view.fields,
        version=view.version,
        created_at=iso_required(view.created_at),
        created_by=view.created_by,
        updated_at=iso_required(view.updated_at),
        updated_by=view.updated_by,
        used_by=view.used_by,
    )


def rule_out(rule: Rule) -> a.RuleOut:
    return a.RuleOut(
        id=rule.id,
        kind=rule.kind,
        scope=rule.scope,
        scope_value=rule.scope_value,
        params=dict(rule.params),
        severity=rule.severity,
        dedupe_s=rule.dedupe_s,
        quiet=rule.quiet.to_json() if rule.quiet else None,
        channels=list(rule.channels),
        enabled=rule.enabled,
        description=rule.description,
        version=rule.version,
        created_at=iso_required(rule.created_at),
        created_by=rule.created_by,
        updated_at=iso_required(rule.updated_at),
        updated_by=rule.updated_by,
    )


def alert_out(row: dict[str, Any]) -> a.AlertOut:
    attempts = row.get("attempts")
    return a.AlertOut(
        id=row["id"],
        rule_id=row["rule_id"],
        kind=row["kind"],
        job_id=row["job_id"],
        run_id=row["run_id"],
        severity=row["severity"],
        status=row["status"],
        facts=dict(row["facts"] or {}),
        created_at=iso_required(row["created_at"]),
        deliveries=[
            a.DeliveryOut(
                id=d["id"],
                channel=d["channel"],
                status=d["status"],
                attempts=d["attempts"],
                next_attempt_at=iso_required(d["next_attempt_at"]),
                delivered_at=iso(d["delivered_at"]),
                last_error=d["last_error"],
            )
            for d in row["deliveries"]
        ],
        attempts=None
        if attempts is None
        else [
            a.AttemptOut(
                channel=t["channel"],
                node_id=t["node_id"],
                started_at=iso_required(t["started_at"]),
                finished_at=iso(t["finished_at"]),
                ok=t["ok"],
                status_code=t["status_code"],
                response=t["response"],
                error=t["error"],
            )
            for t in attempts
        ],
    )


# -- channels ----------------------------------------------------------------------------------
@route(router, "GET", "/api/alerts/channels", role=Role.ADMIN, response_model=a.ChannelList)
def list_channels(tw: TW) -> a.ChannelList:
    """Every channel, secrets masked, with the rules that send to it."""
    return a.ChannelList(items=[channel_out(v) for v in tw.alert_channels()])


@route(
    router,
    "POST",
    "/api/alerts/channels",
    role=Role.ADMIN,
    response_model=a.ChannelOut,
    status_code=HTTP_201_CREATED,
)
@atomic
def create_channel(tw: TW, me: Me, body: a.ChannelIn, response: Response) -> a.ChannelOut:
    """Create a channel; its webhook URL and signing secret are sealed, never shown again."""
    view = tw.add_alert_channel(
        body.name, body.kind, body.fields, language=body.language,
        description=body.description, enabled=body.enabled, by=me.actor,
    )  # fmt: skip
    response.headers["Location"] = f"/api/alerts/channels/{view.name}"
    response.headers["ETag"] = f'"{view.version}"'
    return channel_out(view)


@route(router, "GET", "/api/alerts/channels/{name}", role=Role.ADMIN, response_model=a.ChannelOut)
def get_channel(tw: TW, name: NamePath, response: Response) -> a.ChannelOut:
    view = tw.alert_channel(name)
    response.headers["ETag"] = f'"{view.version}"'
    return channel_out(view)


@route(router, "PATCH", "/api/alerts/channels/{name}", role=Role.ADMIN, response_model=a.ChannelOut)
@atomic
def patch_channel(
    tw: TW,
    me: Me,
    name: NamePath,
    body: a.ChannelPatch,
    response: Response,
    if_match: Annotated[str | None, Header(max_length=40)] = None,
) -> a.ChannelOut:
    """Change a channel; a secret field left out or sent back as "******" keeps its value."""
    view = tw.update_alert_channel(
        name, body.fields, language=body.language, description=body.description,
        enabled=body.enabled, expected_version=_expected_version(if_match, body.version),
        by=me.actor,
    )  # fmt: skip
    response.headers["ETag"] = f'"{view.version}"'
    return channel_out(view)


@route(
    router,
    "DELETE",
    "/api/alerts/channels/{name}",
    role=Role.ADMIN,
    status_code=HTTP_204_NO_CONTENT,
)
@atomic
def delete_channel(tw: TW, me: Me, name: NamePath) -> Response:
    """Remove a channel (409 while a rule sends to it)."""
    tw.remove_alert_channel(name, by=me.actor)
    return Response(status_code=HTTP_204_NO_CONTENT)


@route(
    router,
    "POST",
    "/api/alerts/channels/{name}/test",
    role=Role.ADMIN,
    response_model=a.ChannelTestOut,
)
def send_test_message(
    tw: TW, me: Me, name: NamePath, body: a.ChannelTestIn | None = None
) -> a.ChannelTestOut:
    """Send a test message now, from this server through the SSRF guard; the answer says
    whether the service accepted it (an error code in a 200 answer is a failure). Recorded
    in the history."""
    result = tw.test_alert_channel(
        name, by=me.actor, language=body.language if body is not None else None
    )
    return a.ChannelTestOut(**result)


# -- rules -------------------------------------------------------------------------------------
@route(router, "GET", "/api/alerts/rules", role=Role.VIEWER, response_model=a.RuleList)
def list_rules(tw: TW, job_id: Annotated[str | None, Query(max_length=191)] = None) -> a.RuleList:
    """Every rule; with ``job_id``, the rules that cover that job (its own, its group's, its
    tags' and the global ones)."""
    rules = tw.alert_rules() if job_id is None else tw.alert_rules_for_job(job_id)
    return a.RuleList(items=[rule_out(r) for r in rules])


@route(
    router,
    "POST",
    "/api/alerts/rules",
    role=Role.ADMIN,
    response_model=a.RuleOut,
    status_code=HTTP_201_CREATED,
)
@atomic
def create_rule(tw: TW, me: Me, body: a.RuleIn, response: Response) -> a.RuleOut:
    rule = tw.add_alert_rule(body.model_dump(exclude_none=True), by=me.actor)
    response.headers["Location"] = f"/api/alerts/rules/{rule.id}"
    response.headers["ETag"] = f'"{rule.version}"'
    return rule_out(rule)


@route(router, "GET", "/api/alerts/rules/{rule_id}", role=Role.VIEWER, response_model=a.RuleOut)
def get_rule(tw: TW, rule_id: NamePath, response: Response) -> a.RuleOut:
    rule = tw.alert_rule(rule_id)
    response.headers["ETag"] = f'"{rule.version}"'
    return rule_out(rule)


@route(router, "PATCH", "/api/alerts/rules/{rule_id}", role=Role.ADMIN, response_model=a.RuleOut)
@atomic
def patch_rule(
    tw: TW,
    me: Me,
    rule_id: NamePath,
    body: a.RulePatch,
    response: Response,
    if_match: Annotated[str | None, Header(max_length=40)] = None,
) -> a.RuleOut:
    """Change the fields given (the rest is kept); ``"quiet": null`` removes quiet hours."""
    changes = body.model_dump(exclude_unset=True, exclude={"version"})
    rule = tw.update_alert_rule(
        rule_id, changes, expected_version=_expected_version(if_match, body.version), by=me.actor
    )
    response.headers["ETag"] = f'"{rule.version}"'
    return rule_out(rule)


@route(
    router,
    "DELETE",
    "/api/alerts/rules/{rule_id}",
    role=Role.ADMIN,
    status_code=HTTP_204_NO_CONTENT,
)
@atomic
def delete_rule(tw: TW, me: Me, rule_id: NamePath) -> Response:
    tw.remove_alert_rule(rule_id, by=me.actor)
    return Response(status_code=HTTP_204_NO_CONTENT)


# -- history -----------------------------------------------------------------------------------
@route(router, "GET", "/api/alerts/history", role=Role.VIEWER, response_model=a.AlertList)
def history(
    tw: TW,
    rule_id: Annotated[str | None, Query(max_length=63)] = None,
    job_id: Annotated[str | None, Query(max_length=191)] = None,
    channel: Annotated[str | None, Query(max_length=63)] = None,
    status: Annotated[a.HistoryStatus | None, Query()] = None,
    severity: Annotated[a.Severity | None, Query()] = None,
    since: Annotated[AwareDatetime | None, Query(description="created_at >= since")] = None,
    until: Annotated[AwareDatetime | None, Query(description="created_at < until")] = None,
    before: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="alerts with a smaller id")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> a.AlertList:
    """Alerts newest first, each with its deliveries. ``status`` filters on the alert
    (queued, deduplicated) or on a delivery (pending, sending, delivered, failed)."""
    rows = tw.alert_history(
        rule_id=rule_id, job_id=job_id, channel=channel, status=status, severity=severity,
        since=convert.micros(since, "since"), until=convert.micros(until, "until"),
        before_id=before, limit=limit + 1,
    )  # fmt: skip
    more = len(rows) > limit
    rows = rows[:limit]
    return a.AlertList(
        items=[alert_out(r) for r in rows], next_before=rows[-1]["id"] if more else None
    )


@route(router, "GET", "/api/alerts/history/{alert_id}", role=Role.VIEWER, response_model=a.AlertOut)
def get_alert(tw: TW, alert_id: Annotated[int, Path(ge=1, le=MAX_ID)]) -> a.AlertOut:
    """One alert with its deliveries and every attempt (channel, status, response code and
    excerpt, time)."""
    return alert_out(tw.alert(alert_id))
