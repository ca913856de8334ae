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
) -> FastAPI:
    """Mount Tickwork's REST API at ``prefix`` (``{prefix}/api/...``, its OpenAPI document at
    ``{prefix}/api/openapi.json``, docs at ``{prefix}/api/docs``). Every route keeps Tickwork's
    own authentication (API tokens or a console session) and roles; the app's own middleware
    and auth do not apply to it, nor do Tickwork's security headers to the app. The secret key
    that signs sessions and tokens is ``secret_key`` or, as for ``tickwork serve``,
    TICKWORK_SECRET_KEY / the data directory's key file. Returns the mounted sub-application.

    The web console is served by ``tickwork serve`` at the root of its own origin: it is not
    mounted under a prefix (its pages are addressed from ``/``)."""
    from tickwork.api import ApiSettings, create_app

    if not prefix.startswith("/") or prefix.endswith("/") or len(prefix) < 2:
        from tickwork.errors import InvalidInput

        raise InvalidInput("prefix", "must start with / and not end with / (e.g. /tickwork)")
    settings = (
        ApiSettings(secret_key=secret_key)
        if secret_key is not None
        else ApiSettings.from_env(tw.settings.data_dir)
    )
    sub = create_app(tw, settings, console=False)
    app.mount(prefix, sub, name="tickwork")
    return sub
