"""The app factory: ``create_app(tw, settings)`` builds the FastAPI app over a Tickwork
facade. The API calls only the facade; the console (issue 5) is mounted at ``/`` when
``tickwork/web/static`` holds its built files."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from tickwork import __version__
from tickwork.api import docs_page, problems
from tickwork.api.metrics import RunMetrics
from tickwork.api.middleware import BodyLimit, SecurityHeaders
from tickwork.api.routers import (
    accounts,
    alerts,
    audit,
    connections,
    forecast,
    groups,
    health,
    jobs,
    kinds,
    maintenance,
    overview,
    pages,
    queues,
    runs,
    scheduler,
    scripts,
    templates,
    workflows,
)
from tickwork.api.schemas import Problem
from tickwork.api.schemas_kinds import TARGET_MODELS
from tickwork.api.settings import ApiSettings
from tickwork.service import Tickwork

OPENAPI_URL = "/api/openapi.json"
_ERROR_CODES = ("400", "401", "403", "404", "409", "413", "415", "422", "429", "503")


def create_app(tw: Tickwork, settings: ApiSettings, *, console: bool | None = None) -> FastAPI:
    tw.accounts.set_secret_key(settings.secret_key)
    app = FastAPI(
        title="Tickwork API",
        version=__version__,
        description="Scheduled tasks: jobs, runs, the scheduler, accounts and the audit trail.",
        openapi_url=OPENAPI_URL,
        docs_url=None,
        redoc_url=None,
    )
    app.state.tw = tw
    app.state.settings = settings
    app.state.metrics = RunMetrics(tw)
    problems.install(app)
    for module in (
        jobs,
        runs,
        scheduler,
        accounts,
        audit,
        health,
        overview,
        connections,
        scripts,
        kinds,
        maintenance,  # built-in maintenance jobs (issue 13)
        workflows,
        forecast,
        templates,
        groups,
        queues,  # issue 14: Celery queues and workers
        alerts,
        pages,
    ):
        app.include_router(module.router)

    @app.get("/api/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(docs_page.render(app.openapi()))

    @app.get("/api/docs.css", include_in_schema=False)
    def docs_css() -> Response:
        return Response(docs_page.css(), media_type="text/css")

    @app.api_route(
        "/api/{rest:path}",
        methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        include_in_schema=False,
    )
    def unknown(rest: str, request: Request) -> JSONResponse:
        return problems.problem(
            404,
            f"no API route {request.method} /api/{rest}",
            code="no_route",
            params={"method": request.method, "path": f"/api/{rest}"},
        )

    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    if settings.console if console is None else console:
        _mount_console(app)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(SecurityHeaders, hsts=settings.hsts)
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document, with every error response declared as problem+json."""
    if app.openapi_schema:
        return app.openapi_schema
    from fastapi.openapi.utils import get_openapi

    spec = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    for model in TARGET_MODELS:  # the shapes a job's target may take (its oneOf)
        shape = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(shape.pop("$defs", {}))
        schemas[model.__name__] = shape
    problem_ref = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for item in spec.get("paths", {}).values():
        for op in item.values():
            responses = op.setdefault("responses", {})
            for code in _ERROR_CODES:
                if (
                    code == "401"
                    and op.get("x-required-role") == "public"
                    and "login" not in str(op.get("operationId"))
                ):
                    continue
                if code == "503" and code in responses:  # /readyz declares its own
                    continue
                responses[code] = {
                    "description": problems.TITLES[int(code)],
                    "content": problem_ref,
                }
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    app.openapi_schema = spec
    return spec


def _mount_console(app: FastAPI) -> None:
    """Serve the console's built files at / (the web console's hook)."""
    try:
        static = Path(str(resources.files("tickwork") / "web" / "static"))
    except (ModuleNotFoundError, FileNotFoundError):
        return
    if not (static / "index.html").is_file():
        return
    from fastapi.staticfiles import StaticFiles

    app.mount("/", StaticFiles(directory=static, html=True), name="console")
