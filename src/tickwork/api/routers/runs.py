"""/api/runs: list with filters, one run, its log (whole, or streamed while it runs), cancel.
A run is read by those who may view its job's group and cancelled by its operators; the list
leaves out the runs of groups hidden from the caller."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import PlainTextResponse, StreamingResponse
from pydantic import AwareDatetime
from starlette.concurrency import run_in_threadpool

from tickwork.accounts.access import Action
from tickwork.accounts.roles import Role
from tickwork.api import convert
from tickwork.api import schemas as s
from tickwork.api.access import hidden, run_for
from tickwork.api.atomic import atomic
from tickwork.api.security import TW, Me, route
from tickwork.errors import NotFound
from tickwork.models import FINISHED_STATUSES
from tickwork.service import Tickwork
from tickwork.store.records import RunRecord

router = APIRouter(tags=["runs"])
_FINISHED = {st.value for st in FINISHED_STATUSES}
POLL_S = 0.5  # how often a stream looks at the run row (the engine writes the log ~1/s)
PING_S = 15.0  # a comment line this often keeps proxies from closing an idle stream
MAX_STREAM_S = 24 * 3600.0


def _secrets(tw: Tickwork, runs: list[RunRecord]) -> dict[str, list[str]]:
    """Secret kwarg names of the jobs of runs that carry parameter overrides."""
    out: dict[str, list[str]] = {}
    for job_id in {r.job_id for r in runs if r.params}:
        job = tw.get_job(job_id)
        if job is not None:
            out[job_id] = list(job.record.secret_keys)
    return out


@route(router, "GET", "/api/runs", role=Role.VIEWER, grouped=True, response_model=s.RunPage)
def list_runs(
    tw: TW,
    me: Me,
    job_id: Annotated[str | None, Query(max_length=191)] = None,
    status: Annotated[list[s.RunStatusName] | None, Query()] = None,
    since: Annotated[AwareDatetime | None, Query(description="scheduled_for >= since")] = None,
    until: Annotated[AwareDatetime | None, Query(description="scheduled_for < until")] = None,
    q: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=200,
            description="text in the log, error or result (case-insensitive); searched within "
            "a window of the newest 10,000 runs matching the other filters per request, so a "
            "page may be short and still have a next_cursor",
        ),
    ] = None,
    cursor: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Response:
    """Runs newest first, a page at a time (pass ``next_cursor`` back as ``cursor``).
    ``status`` may repeat."""
    before = convert.decode_int_cursor(cursor)
    statuses = list(status) if status else None
    start, end = convert.micros(since, "since"), convert.micros(until, "until")
    next_before: int | None
    if q is not None and q.strip():
        runs, next_before = tw.search_runs(
            q,
            job_id,
            status=statuses,
            since=start,
            until=end,
            before=before,
            limit=limit,
            hidden_groups=hidden(me),
        )
    else:
        runs = tw.get_runs(
            job_id,
            status=statuses,
            since=start,
            until=end,
            before=before,
            limit=limit + 1,
            hidden_groups=hidden(me),
        )
        next_before = runs[limit - 1].id if len(runs) > limit else None
        runs = runs[:limit]
    secrets = _secrets(tw, runs)
    page = s.RunPage(
        items=[convert.run_out(r, secrets.get(r.job_id)) for r in runs],
        next_cursor=convert.encode_cursor(next_before) if next_before is not None else None,
    )
    return convert.json_response(page)


@route(
    router, "GET", "/api/runs/{run_id}", role=Role.VIEWER, grouped=True, response_model=s.RunDetail
)
def get_run(tw: TW, me: Me, run_id: s.RowId) -> s.RunDetail:
    """One run with its error and traceback (the log is at .../log)."""
    record = run_for(tw, me, run_id, Action.VIEW)
    return convert.run_detail(record, _secrets(tw, [record]).get(record.job_id))


@route(
    router,
    "GET",
    "/api/runs/{run_id}/log",
    role=Role.VIEWER,
    grouped=True,
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
)
def get_run_log(tw: TW, me: Me, run_id: s.RowId) -> PlainTextResponse:
    """The run's captured log as text (secrets masked by the executor)."""
    record = run_for(tw, me, run_id, Action.VIEW)
    return PlainTextResponse(record.log or "")


@route(
    router,
    "GET",
    "/api/runs/{run_id}/log/stream",
    role=Role.VIEWER,
    grouped=True,
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {"schema": {"type": "string"}}}}},
)
async def stream_run_log(tw: TW, me: Me, run_id: s.RowId, request: Request) -> StreamingResponse:
    """Server-Sent Events while the run runs: ``log`` events carry new log text
    (``{"text": ...}``), ``reset`` the whole log when the kept tail moved, ``status`` each
    change of status, and ``end`` (``{"status": ...}``) the finished run, then the stream
    closes. A finished run gives its whole log and ``end`` at once."""
    first = await run_in_threadpool(run_for, tw, me, run_id, Action.VIEW)
    return StreamingResponse(
        _events(tw, first, request),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def _events(tw: Tickwork, first: RunRecord, request: Request) -> AsyncIterator[str]:
    import asyncio

    sent = ""
    status: str | None = None
    record: RunRecord | None = first
    started = last_ping = time.monotonic()
    event_id = 0
    while record is not None:
        event_id += 1
        if record.status != status:
            status = record.status
            yield _sse("status", {"status": status}, event_id)
        log = record.log or ""
        if log != sent:
            if log.startswith(sent):
                yield _sse("log", {"text": log[len(sent) :]}, event_id)
            else:
                yield _sse("reset", {"text": log}, event_id)
            sent = log
        if status in _FINISHED:
            yield _sse(
                "end",
                {
                    "status": status,
                    "finished_at": convert.iso(record.finished_at),
                    "error": record.error,
                },
                event_id,
            )
            return
        now = time.monotonic()
        if now - started > MAX_STREAM_S or await request.is_disconnected():
            return
        if now - last_ping >= PING_S:
            last_ping = now
            yield ": ping\n\n"
        await asyncio.sleep(POLL_S)
        try:
            record = await run_in_threadpool(tw.get_run, first.id)
        except NotFound:
            record = None
    yield _sse("end", {"status": "gone", "finished_at": None, "error": "the run was removed"}, 0)


def _sse(event: str, data: object, event_id: int) -> str:
    return f"event: {event}\nid: {event_id}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


@route(
    router,
    "POST",
    "/api/runs/{run_id}/cancel",
    role=Role.OPERATOR,
    grouped=True,
    response_model=s.CancelResult,
)
@atomic
def cancel_run(tw: TW, me: Me, run_id: s.RowId) -> s.CancelResult:
    """Cancel a queued run at once, or ask the node running it to stop it (409 if it ended)."""
    run_for(tw, me, run_id, Action.OPERATE)
    status = tw.cancel_run(run_id, by=me.actor)
    return s.CancelResult(run_id=run_id, status=status)  # type: ignore[arg-type]
