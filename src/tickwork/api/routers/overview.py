"""/api/overview: what the console's dashboard needs beyond /api/scheduler and /api/stats:
runs per hour with their outcome over a recent window, and the next executions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from tickwork import overview
from tickwork.accounts.roles import Role
from tickwork.api import convert
from tickwork.api import schemas as s
from tickwork.api.access import hidden
from tickwork.api.security import TW, Me, route

router = APIRouter(tags=["overview"])


class BucketOut(BaseModel):
    start: str
    runs: int
    succeeded: int
    failed: int  # failed, timed out or lost
    other: int  # queued, running, cancelled, skipped or missed


class TimelineOut(BaseModel):
    start: str  # exactly `hours` before now
    end: str  # the end of the current bucket
    bucket_s: int
    # True when buckets[0] began before `start`: it counts runs from `start` on only
    partial_first_bucket: bool
    buckets: list[BucketOut]


class UpcomingOut(BaseModel):
    items: list[s.JobOut]


@route(
    router,
    "GET",
    "/api/overview/timeline",
    role=Role.VIEWER,
    grouped=True,
    response_model=TimelineOut,
)
def get_timeline(
    tw: TW,
    me: Me,
    hours: Annotated[int, Query(ge=1, le=24 * 31)] = 24,
    bucket_s: Annotated[int, Query(ge=60, le=86_400)] = 3600,
) -> TimelineOut:
    """Runs scheduled in the last ``hours`` (from exactly ``hours`` before now to the end of
    the current bucket), counted per ``bucket_s`` seconds, buckets aligned to the epoch: all,
    succeeded, failed (failed, timed out, lost), other. ``partial_first_bucket`` says the
    first bucket began before ``start`` and counts runs from ``start`` on only."""
    line = overview.timeline(tw, hours=hours, bucket_s=bucket_s, hidden_groups=hidden(me))
    return TimelineOut(
        start=convert.iso_required(line.start),
        end=convert.iso_required(line.end),
        bucket_s=line.bucket_s,
        partial_first_bucket=line.partial_first_bucket,
        buckets=[
            BucketOut(
                start=convert.iso_required(b.start),
                runs=b.runs,
                succeeded=b.succeeded,
                failed=b.failed,
                other=b.other,
            )
            for b in line.buckets
        ],
    )


@route(
    router,
    "GET",
    "/api/overview/upcoming",
    role=Role.VIEWER,
    grouped=True,
    response_model=UpcomingOut,
)
def get_upcoming(tw: TW, me: Me, limit: Annotated[int, Query(ge=1, le=100)] = 10) -> UpcomingOut:
    """The jobs that fire next, soonest first (paused and finished jobs, and jobs of groups
    hidden from the caller, are left out)."""
    records = overview.upcoming(tw, limit, hidden(me))
    last = tw.last_runs([r.id for r in records])
    return UpcomingOut(items=[convert.job_out(r, last.get(r.id)) for r in records])
