"""/api/scheduler (status of the nodes, pause/resume all), /api/stats and /api/cron/preview."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AwareDatetime

from tickwork.accounts.roles import Role
from tickwork.api import convert
from tickwork.api import schemas as s
from tickwork.api.access import hidden
from tickwork.api.atomic import atomic
from tickwork.api.security import TW, Me, route
from tickwork.service import Tickwork
from tickwork.triggers import cron
from tickwork.triggers.zones import coerce_instant, resolve_tz, us_to_local

router = APIRouter()
DEAD_AFTER_S = 20.0  # a node silent this long is considered dead (the engine's default)


def scheduler_status(tw: Tickwork) -> s.SchedulerOut:
    now = tw.clock.now_us()
    nodes = []
    for node in tw.nodes():
        age = max(0.0, (now - node.heartbeat_at) / 1e6)
        nodes.append(
            s.NodeOut(
                id=node.id,
                host=node.host,
                pid=node.pid,
                roles=node.roles,
                version=node.version,
                started_at=convert.iso_required(node.started_at),
                heartbeat_at=convert.iso_required(node.heartbeat_at),
                heartbeat_age_s=round(age, 3),
                alive=age < DEAD_AFTER_S,
            )
        )
    return s.SchedulerOut(
        paused=tw.is_paused(),
        this_node=s.ThisNode(**tw.scheduler_here()),
        nodes=nodes,
        jobs=s.JobCounts(**tw.job_counts()),
    )


@route(
    router,
    "GET",
    "/api/scheduler",
    role=Role.VIEWER,
    response_model=s.SchedulerOut,
    tags=["scheduler"],
)
def get_scheduler(tw: TW) -> s.SchedulerOut:
    """Whether the scheduler is paused, the live nodes with their heartbeats, this node's
    loop, and jobs by state."""
    return scheduler_status(tw)


@route(
    router,
    "POST",
    "/api/scheduler/pause",
    role=Role.OPERATOR,
    response_model=s.SchedulerOut,
    tags=["scheduler"],
)
@atomic
def pause_scheduler(tw: TW, me: Me) -> s.SchedulerOut:
    """Pause job processing on every node (due fires follow each job's misfire policy on
    resume)."""
    tw.pause(by=me.actor)
    return scheduler_status(tw)


@route(
    router,
    "POST",
    "/api/scheduler/resume",
    role=Role.OPERATOR,
    response_model=s.SchedulerOut,
    tags=["scheduler"],
)
@atomic
def resume_scheduler(tw: TW, me: Me) -> s.SchedulerOut:
    tw.resume(by=me.actor)
    return scheduler_status(tw)


@route(
    router,
    "GET",
    "/api/stats",
    role=Role.VIEWER,
    grouped=True,
    response_model=s.StatsOut,
    tags=["stats"],
)
def all_stats(
    tw: TW,
    me: Me,
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
    slow_s: Annotated[float, Query(ge=0, le=10**9)] = 60.0,
) -> s.StatsOut:
    """Runs scheduled in [since, until) (default: all): totals and one entry per job with
    runs, most runs first (runs of jobs in groups hidden from the caller left out)."""
    report = tw.stats(
        since=convert.micros(since, "since"),
        until=convert.micros(until, "until"),
        slow_s=slow_s,
        hidden_groups=hidden(me),
    )
    ids = {r.job_id for r in report.total.slowest}
    secrets = {}
    for job_id in ids:
        job = tw.get_job(job_id)
        if job is not None:
            secrets[job_id] = list(job.record.secret_keys)
    return convert.stats_out(report, secrets)


@route(
    router,
    "POST",
    "/api/cron/preview",
    role=Role.VIEWER,
    response_model=s.CronPreviewOut,
    tags=["cron"],
)
def cron_preview(tw: TW, body: s.CronPreviewIn) -> s.CronPreviewOut:
    """Validate a cron expression (422 naming the field when it is wrong), describe it in
    English and Chinese, and list its next fire times."""
    zone = resolve_tz(body.timezone)
    trigger = cron(body.expr, zone, body.seed)
    after = tw.clock.now_us() if body.after is None else coerce_instant(body.after, zone, "after")
    fires: list[str] = []
    cursor = after
    for _ in range(body.count):
        nxt = trigger.next_fire_us(cursor)
        if nxt is None:
            break
        fires.append(us_to_local(nxt, zone).isoformat())
        cursor = nxt
    return s.CronPreviewOut(
        expr=body.expr,
        timezone=body.timezone,
        description=s.Description(en=trigger.describe("en"), zh=trigger.describe("zh")),
        next=fires,
    )
