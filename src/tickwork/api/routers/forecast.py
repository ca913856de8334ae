"""/api/forecast: the upcoming load per bucket, computed from the triggers (nothing written),
its hot spots with their jobs, and the heat map the ``H`` form would give."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from tickwork.accounts.roles import Role
from tickwork.api import convert
from tickwork.api.security import TW, route
from tickwork.forecast import MAX_HOURS

router = APIRouter(tags=["forecast"])


class HotSpotOut(BaseModel):
    start: str
    fires: int
    on_the_hour: int  # fires at minute :00, second :00
    jobs: list[str]  # up to 50, most fires first
    job_count: int


class ChangeOut(BaseModel):
    job_id: str
    expr: str
    suggested: str


class SuggestionOut(BaseModel):
    changes: list[ChangeOut]  # up to 500
    change_count: int
    buckets: list[int]
    peak: int
    hot_spots: int


class ForecastOut(BaseModel):
    start: str
    end: str
    bucket_s: int
    first_bucket: str  # buckets are aligned to the epoch; the first may begin before start
    buckets: list[int]
    fires: int
    jobs: int
    threshold: int
    peak: int
    hot_spots: list[HotSpotOut]
    suggestion: SuggestionOut | None
    truncated: list[str]
    unreadable: list[str]


def _iso(seconds: int) -> str:
    return convert.iso_required(seconds * 1_000_000)


@route(router, "GET", "/api/forecast", role=Role.VIEWER, response_model=ForecastOut)
def get_forecast(
    tw: TW,
    hours: Annotated[int, Query(ge=1, le=MAX_HOURS)] = 24,
    bucket_s: Annotated[int, Query(ge=60, le=86_400)] = 60,
    hot: Annotated[int | None, Query(ge=1, description="a hot spot has more fires")] = None,
    group: Annotated[str | None, Query(max_length=100)] = None,
) -> ForecastOut:
    """Fires of the active jobs in the next ``hours``, per ``bucket_s`` seconds (24 hours per
    minute, 7 days per hour, ...), from the triggers alone. Buckets with more than ``hot``
    fires (default: 4 times the mean bucket, at least 10) are hot spots,
    listed with their jobs; ``suggestion`` spreads those jobs' fixed minutes with ``H`` and
    previews the heat map that gives."""
    fc = tw.forecast(hours, bucket_s, hot=hot, group=group)
    sug = fc.suggestion
    return ForecastOut(
        start=_iso(fc.start_s),
        end=_iso(fc.end_s),
        bucket_s=fc.bucket_s,
        first_bucket=_iso(fc.first_bucket_s),
        buckets=fc.buckets,
        fires=fc.fires,
        jobs=fc.jobs,
        threshold=fc.threshold,
        peak=fc.peak,
        hot_spots=[
            HotSpotOut(
                start=_iso(h.start_s),
                fires=h.fires,
                on_the_hour=h.on_the_hour,
                jobs=h.jobs,
                job_count=h.job_count,
            )
            for h in fc.hot_spots
        ],
        suggestion=None
        if sug is None
        else SuggestionOut(
            changes=[
                ChangeOut(job_id=c.job_id, expr=c.expr, suggested=c.suggested) for c in sug.changes
            ],
            change_count=sug.change_count,
            buckets=sug.buckets,
            peak=sug.peak,
            hot_spots=sug.hot_spots,
        ),
        truncated=fc.truncated,
        unreadable=fc.unreadable,
    )
