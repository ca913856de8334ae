"""The console's client-side routes: a deep link (``/jobs/nightly``) or a reload answers with
the console's ``index.html``, whose script then shows that page. The built files themselves
are served by the static mount in ``app._mount_console``; these paths are not files there.
They are public like any static file: the page holds no data, and every API call it makes
needs a login."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, Response

router = APIRouter(include_in_schema=False)

# Top-level paths the console routes itself (console/src/router.ts); with sub-paths.
PAGES = (
    "login", "jobs", "runs", "audit", "users", "tokens", "account",
    "scripts", "connections", "settings",
    "workflows", "forecast", "templates", "groups", "queues", "alerts",
)  # fmt: skip


def index_file() -> Path | None:
    try:
        path = Path(str(resources.files("tickwork") / "web" / "static" / "index.html"))
    except (ModuleNotFoundError, FileNotFoundError):
        return None
    return path if path.is_file() else None


def _shell() -> Response:
    path = index_file()
    if path is None:
        return Response("the console is not built (run `make console`)\n", 404)
    return FileResponse(path, media_type="text/html", headers={"Cache-Control": "no-cache"})


for _page in PAGES:
    router.add_api_route(f"/{_page}", _shell, methods=["GET"])
    router.add_api_route(f"/{_page}/{{rest:path}}", _shell, methods=["GET"])
