"""A FastAPI app with Tickwork's lifespan and API mounted under /tickwork, as uvicorn loads it
in each worker (the test's database and data directory come from the environment)."""

from __future__ import annotations

import os

from fastapi import FastAPI

from tickwork.integrations.fastapi import lifespan, mount
from tickwork.service import Tickwork


def create_app(tw: Tickwork | None = None) -> FastAPI:
    tw = tw or Tickwork(os.environ["TEST_APP_DATABASE_URL"], timezone="Asia/Shanghai")
    tw.add_job("tests.integrations.ledger:atick", "interval", seconds=1, id="atick",
               replace_existing=True)  # fmt: skip
    app = FastAPI(lifespan=lifespan(tw))
    mount(app, tw, prefix="/tickwork")

    @app.get("/hello")
    def hello() -> dict[str, int]:
        return {"pid": os.getpid()}

    return app


def app_from_env() -> FastAPI:
    return create_app()
