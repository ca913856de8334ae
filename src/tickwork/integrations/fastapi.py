"""FastAPI integration: a lifespan that runs the scheduler beside the app (one node per host
however many ``uvicorn --workers``), and Tickwork's REST API mounted under a prefix of the
app with Tickwork's own login kept::

    from fastapi import FastAPI
    from tickwork import Tickwork
    from tickwork.integrations.fastapi import lifespan, mount

    tw = Tickwork("postgresql://app@db/app", timezone="Asia/Shanghai")
    app = FastAPI(lifespan=lifespan(tw))          # or lifespan(tw, inner=your_lifespan)
    mount(app, tw, prefix="/tickwork")             # /tickwork/api/jobs, ... (tokens, roles)

Job functions declared with ``tw.add_job`` / ``@tw.scheduled_job`` before the app starts are
synced when the elected worker starts its node; ``async def`` jobs run on Tickwork's asyncio
executor.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from fastapi import FastAPI

from tickwork.integrations.embedded import Embedded
from tickwork.service import Tickwork

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[Any]]


def lifespan(
    tw: Tickwork,
    *,
    inner: Lifespan | None = None,
    start_scheduler: bool = True,
    paused: bool = False,
    close: bool = True,
) -> Lifespan:
    """A lifespan for ``FastAPI(lifespan=...)``: at start-up this worker runs the scheduler
    node if elected (the others stand by and take over if it dies); at shutdown the node stops
    gracefully. ``inner`` is the app's own lifespan, entered inside (its state is passed on).
    ``app.state.tickwork`` holds the facade."""

    @asynccontextmanager
    async def run(app: FastAPI) -> AsyncIterator[Mapping[str, Any] | None]:
        loop = asyncio.get_running_loop()
        embedded = Embedded(tw)
        app.state.tickwork = tw
        app.state.tickwork_embedded = embedded
        if start_scheduler:
            await loop.run_in_executor(None, lambda: embedded.start(paused=paused))
        try:
            if inner is None:
                yield None
            else:
                async with inner(app) as state:
                    yield state
        finally:
            await loop.run_in_executor(None, embedded.shutdown)
            if close:
                tw.close()

    return run


def mount(
    app: FastAPI,
    tw: Tickwork,
    *,
    prefix: str = "/tickwork",
    secret_key: str | None = None,
    console: bool = True,
) -> FastAPI:
    """Mount Tickwork's REST API at ``prefix`` (``{prefix}/api/...``, its OpenAPI document at
    ``{prefix}/api/openapi.json``, docs at ``{prefix}/api/docs``). Every route keeps Tickwork's
    own authentication (API tokens or a console session) and roles; the app's own middleware
    and auth do not apply to it, nor do Tickwork's security headers to the app. The secret key
    that signs sessions and tokens is ``secret_key`` or, as for ``tickwork serve``,
    TICKWORK_SECRET_KEY / the data directory's key file. Returns the mounted sub-application.

    With ``console`` (and the console built into the package), the web console is served at
    ``{prefix}/``: its page learns the prefix from the server and addresses the API and its
    own routes under it (links opened in a new tab still name root paths)."""
    from tickwork.api import ApiSettings, create_app

    if not _PREFIX.match(prefix):
        from tickwork.errors import InvalidInput

        raise InvalidInput(
            "prefix",
            "must start with / and not end with /, in letters, digits, - _ . / (e.g. /tickwork)",
        )
    settings = (
        ApiSettings(secret_key=secret_key)
        if secret_key is not None
        else ApiSettings.from_env(tw.settings.data_dir)
    )
    sub = create_app(tw, settings, console=False)
    if console:
        _serve_console(sub, prefix)
    app.mount(prefix, sub, name="tickwork")
    return sub


_PREFIX = re.compile(r"^(/[A-Za-z0-9._-]+)+\Z")


def _serve_console(sub: FastAPI, prefix: str) -> None:
    """The console's files under the prefix: index.html (for every console route) and the
    CSS with their root-relative URLs prefixed, and the prefix told to the page in a meta tag
    (no inline script: the Content-Security-Policy forbids them)."""
    from importlib import resources
    from pathlib import Path

    from fastapi.responses import FileResponse, HTMLResponse, Response

    static = Path(str(resources.files("tickwork") / "web" / "static"))
    if not (static / "index.html").is_file():
        return
    page = (static / "index.html").read_text(encoding="utf-8")
    page = page.replace('src="/', f'src="{prefix}/').replace('href="/', f'href="{prefix}/')
    meta = f'<meta name="tickwork-base" content="{prefix}" />'
    page = page.replace("</title>", f"</title>\n    {meta}", 1)
    assets = {p.name: p for p in (static / "assets").iterdir() if p.is_file()}

    from fastapi import APIRouter

    from tickwork.api.routers.pages import PAGES

    router = APIRouter(include_in_schema=False)

    @router.get("/assets/{name}")
    def asset(name: str) -> Response:
        path = assets.get(name)
        if path is None:
            return Response(status_code=404)
        if path.suffix == ".css":
            css = path.read_text(encoding="utf-8").replace("url(/", f"url({prefix}/")
            return Response(css, media_type="text/css")
        return FileResponse(path)

    @router.get("/favicon.svg")
    def favicon() -> FileResponse:
        return FileResponse(static / "favicon.svg")

    def console_page() -> HTMLResponse:
        return HTMLResponse(page, headers={"Cache-Control": "no-cache"})

    router.add_api_route("/", console_page, methods=["GET"])
    for name in PAGES:  # the console's own routes, as tickwork serve answers them
        router.add_api_route(f"/{name}", console_page, methods=["GET"])
        router.add_api_route(f"/{name}/{{rest:path}}", console_page, methods=["GET"])
    # First: the API app's page routes answer these paths with the unprefixed page.
    sub.router.routes[0:0] = list(router.routes)
