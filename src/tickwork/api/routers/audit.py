"""/api/audit: the audit trail (admins)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import AwareDatetime

from tickwork.accounts.roles import Role
from tickwork.api import convert
from tickwork.api import schemas as s
from tickwork.api.security import TW, route
from tickwork.audit import AuditFilter

router = APIRouter(tags=["audit"])


@route(router, "GET", "/api/audit", role=Role.ADMIN, response_model=s.AuditPage)
def list_audit(
    tw: TW,
    actor: Annotated[str | None, Query(max_length=100)] = None,
    job_id: Annotated[str | None, Query(max_length=191)] = None,
    action: Annotated[
        str | None, Query(max_length=40, description="e.g. job.pause, or job.")
    ] = None,
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
    cursor: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Response:
    """Who changed what and when, newest first, with the job before and after (secrets
    masked). ``action`` ending in a dot matches a prefix (``job.``)."""
    flt = AuditFilter(
        actor=actor,
        job_id=job_id,
        action=action,
        since=convert.micros(since, "since"),
        until=convert.micros(until, "until"),
    )
    events = tw.audit.page(flt, before_id=convert.decode_int_cursor(cursor), limit=limit + 1)
    more = len(events) > limit
    events = events[:limit]
    page = s.AuditPage(
        items=[convert.audit_out(e) for e in events],
        next_cursor=convert.encode_cursor(events[-1].id) if more and events else None,
    )
    return convert.json_response(page)
