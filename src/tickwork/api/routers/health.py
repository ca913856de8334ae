"""/healthz (the process answers), /readyz (database, scheduler, jobs; levels as a Flask
scheduler console's health check has them: error when no scheduler runs, warning when there are
no jobs or all are paused) and
/metrics (Prometheus text; needs a viewer token)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from tickwork.accounts.roles import Role
from tickwork.api import schemas as s
from tickwork.api.routers.scheduler import DEAD_AFTER_S
from tickwork.api.security import TW, route

router = APIRouter(tags=["health"])


@route(router, "GET", "/healthz", role=None, response_model=s.Liveness)
def healthz() -> s.Liveness:
    """The process is up (no database access)."""
    return s.Liveness(status="ok")


@route(
    router,
    "GET",
    "/readyz",
    role=None,
    response_model=s.Readiness,
    responses={503: {"model": s.Readiness, "description": "not ready"}},
)
def readyz(tw: TW, request: Request) -> JSONResponse:
    """200 with ``ok`` or ``warning``; 503 with ``error`` (database unreachable, a thread of
    this node's scheduler dead, its scheduler process exited, or no scheduler running
    anywhere). Anonymous: it says how things are, never how many jobs there are."""
    checks: dict[str, str] = {}
    try:
        tw.ping()
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"error: {type(exc).__name__}"
        return _ready("error", "the database is unreachable", checks)
    health = tw.node_health()
    if health is not None:
        dead = [name for name, alive in health.items() if not alive]
        if dead:
            checks["scheduler"] = f"error: this node's {', '.join(dead)} thread(s) died"
            return _ready("error", "the scheduler node is broken; restart it", checks)
    child = getattr(request.app.state, "scheduler_process", None)
    if child is not None and not child.alive():
        checks["scheduler"] = f"error: the scheduler process {child.describe()}"
        return _ready("error", "the scheduler is not running", checks)
    now = tw.clock.now_us()
    live = [
        n
        for n in tw.nodes()
        if "scheduler" in n.roles and (now - n.heartbeat_at) / 1e6 < DEAD_AFTER_S
    ]
    if health is None and not live:
        checks["scheduler"] = "error: no scheduler node has a recent heartbeat"
        return _ready("error", "the scheduler is not running", checks)
    checks["scheduler"] = "ok"
    counts = tw.job_counts()
    checks["jobs"] = "ok" if counts["scheduled"] else "none scheduled"
    if tw.is_paused():
        return _ready("warning", "the scheduler is paused", checks)
    if counts["total"] == 0:
        return _ready("warning", "no jobs are configured", checks)
    if counts["scheduled"] == 0:
        return _ready("warning", "all jobs are paused or completed", checks)
    return _ready("ok", "the scheduler runs", checks)


def _ready(status: str, message: str, checks: dict[str, str]) -> JSONResponse:
    body = s.Readiness(status=status, message=message, checks=checks)  # type: ignore[arg-type]
    return JSONResponse(body.model_dump(), status_code=503 if status == "error" else 200)


@route(
    router,
    "GET",
    "/metrics",
    role=Role.VIEWER,
    response_class=PlainTextResponse,
    responses={
        200: {
            "content": {
                "text/plain": {"schema": {"type": "string"}},
                "application/openmetrics-text": {"schema": {"type": "string"}},
            }
        }
    },
)
def metrics(request: Request) -> Response:
    """Prometheus text format, or OpenMetrics 1.0 when the scraper's ``Accept`` asks for
    ``application/openmetrics-text`` (scrape with a viewer API token as bearer)."""
    body, content_type = request.app.state.metrics.render(request.headers.get("accept"))
    return Response(body, media_type=content_type)
