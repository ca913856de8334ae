"""A FastAPI app whose scheduled jobs run on Tickwork (seed 002, RuoYi-FastAPI's task system):
the lifespan integration, ``async def`` jobs, 6-field cron strings, interval, date and delayed
jobs, the seed's registry/controller/monitor operations as routes, its JSON task configuration,
and per-job statistics and slow tasks from Tickwork's run records.

Start it with ``python main.py`` (or ``uvicorn main:app``). Environment:
``TICKWORK_DATABASE_URL`` (default SQLite ``./tickwork.db``), ``APP_DB`` (the app's data,
default ``./app.db``), ``TASKS_CONFIG`` (default ``config/tasks.json``), ``PORT``.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, Field

sys.path.insert(0, str(Path(__file__).resolve().parent))

from scheduling import (
    TaskConfigLoader,
    TaskController,
    TaskMonitor,
    TaskPerformanceMonitor,
    TaskRegistry,
)

import services
from tickwork import InvalidInput, Tickwork
from tickwork.integrations.fastapi import lifespan, mount

HERE = Path(__file__).resolve().parent
log = logging.getLogger("app")

# The seed's scheduler options: APScheduler's job defaults, read by Tickwork as they are.
JOB_DEFAULTS = {"coalesce": False, "max_instances": 3, "misfire_grace_time": 15}


class NewTask(BaseModel):
    task_id: str
    task_func: str = Field(description='"module:function", e.g. "services:weekly_report"')
    cron: str | None = Field(None, description='6 fields, seconds first: "0 0 9 * * 1"')
    interval: dict[str, float] | None = Field(None, description='{"minutes": 30}')
    run_date: datetime | None = None


class Delayed(BaseModel):
    task_func: str
    delay_seconds: float = Field(gt=0)
    kwargs: dict[str, Any] = Field(default_factory=dict)


class Trigger(BaseModel):
    trigger_type: str | None = None
    trigger_args: dict[str, Any] = Field(default_factory=dict)


# The functions the routes may schedule: a route that took any "module:function" would let a
# caller run anything importable (``subprocess:run``). Add authentication of your own too (the
# seed's routes wanted an admin token); Tickwork's own API at /tickwork has its login.
ALLOWED_FUNCS = ("services:",)


def create_app(
    tw: Tickwork | None = None,
    config_file: Path | None = None,
    allowed_funcs: tuple[str, ...] = ALLOWED_FUNCS,
) -> FastAPI:
    if tw is None:
        url = os.environ.get("TICKWORK_DATABASE_URL", f"sqlite:///{HERE / 'tickwork.db'}")
        tw = Tickwork(url, timezone="Asia/Shanghai", job_defaults=JOB_DEFAULTS)
    loader = TaskConfigLoader(
        config_file or Path(os.environ.get("TASKS_CONFIG", HERE / "config" / "tasks.json"))
    )
    registry, controller = TaskRegistry(tw), TaskController(tw)
    monitor, performance = TaskMonitor(tw), TaskPerformanceMonitor(tw)

    # declared before start: written when the (elected) worker starts the scheduler
    for task in loader.load_config():
        registry.register_config(task)
    registry.register_cron_task("weekly_report", "services:weekly_report", "0 0 9 * * 1")

    @asynccontextmanager
    async def app_lifespan(app: FastAPI) -> AsyncIterator[None]:
        services.connect().close()  # the app's tables
        monitor.start_monitoring()
        yield
        monitor.stop_monitoring()

    app = FastAPI(title="fastapi-async", lifespan=lifespan(tw, inner=app_lifespan))
    try:  # Tickwork's API and console under /tickwork, behind Tickwork's own login
        mount(app, tw, prefix="/tickwork")
    except InvalidInput as exc:
        log.warning("Tickwork's API and console not mounted at /tickwork: %s", exc.reason)

    def allowed(func: str) -> None:
        if not func.startswith(allowed_funcs):
            reason = f"must be one of the app's job functions ({', '.join(allowed_funcs)}...)"
            raise HTTPException(422, {"field": "task_func", "reason": reason})

    def found(value: Any, task_id: str) -> Any:
        if value is None:
            raise HTTPException(404, f"no task {task_id!r}")
        return value

    @app.post("/visits/{path:path}", status_code=201)
    def visit(path: str) -> dict[str, str]:
        with services.connect() as conn:
            conn.execute("INSERT INTO visits (path, at) VALUES (?, ?)",
                         (path, datetime.now(UTC).isoformat()))  # fmt: skip
        return {"path": path}

    @app.get("/tasks")
    def all_tasks() -> list[dict[str, Any]]:
        return controller.get_all_tasks()

    @app.get("/tasks/{task_id}")
    def task_status(task_id: str) -> dict[str, Any]:
        return found(controller.get_task_status(task_id), task_id)  # type: ignore[no-any-return]

    @app.post("/tasks", status_code=201)
    def register(body: NewTask) -> dict[str, Any]:
        allowed(body.task_func)
        given = [k for k in ("cron", "interval", "run_date") if getattr(body, k) is not None]
        if len(given) != 1:
            raise HTTPException(422, "give exactly one of cron, interval, run_date")
        try:
            if body.cron is not None:
                job = registry.register_cron_task(body.task_id, body.task_func, body.cron)
            elif body.interval is not None:
                job = registry.register_interval_task(body.task_id, body.task_func,
                                                      **body.interval)  # fmt: skip
            else:
                assert body.run_date is not None
                job = registry.register_date_task(body.task_id, body.task_func, body.run_date)
        except InvalidInput as exc:
            raise HTTPException(422, {"field": exc.field, "reason": exc.reason}) from None
        return controller.get_task_status(job.id) or {}

    @app.post("/tasks/delayed", status_code=201)
    def delayed(body: Delayed) -> dict[str, Any]:
        allowed(body.task_func)
        job = registry.schedule_delayed_task(body.delay_seconds, body.task_func, **body.kwargs)
        return controller.get_task_status(job.id) or {}

    @app.post("/tasks/{task_id}/start")
    def start(task_id: str) -> dict[str, Any]:
        found(controller.start_task(task_id), task_id)
        return controller.get_task_status(task_id) or {}

    @app.post("/tasks/{task_id}/stop")
    def stop(task_id: str) -> dict[str, Any]:
        found(controller.stop_task(task_id), task_id)
        return controller.get_task_status(task_id) or {}

    @app.post("/tasks/{task_id}/run")
    def run(task_id: str) -> dict[str, int]:
        return {"run_id": found(controller.run_task(task_id), task_id)}

    @app.put("/tasks/{task_id}/trigger")
    def modify(task_id: str, body: Trigger) -> dict[str, Any]:
        try:
            found(controller.modify_task(task_id, body.trigger_type, **body.trigger_args),
                  task_id)  # fmt: skip
        except InvalidInput as exc:
            raise HTTPException(422, {"field": exc.field, "reason": exc.reason}) from None
        return controller.get_task_status(task_id) or {}

    @app.delete("/tasks/{task_id}", status_code=204)
    def remove(task_id: str) -> None:
        found(controller.remove_task(task_id) or None, task_id)

    @app.get("/runs/{run_id}")
    def run_record(run_id: int) -> dict[str, Any]:
        r = tw.get_run(run_id)
        return {"id": r.id, "job_id": r.job_id, "status": r.status, "result": r.result,
                "error": r.error, "duration_s": r.duration_s}  # fmt: skip

    @app.get("/monitor/events")
    def events() -> list[dict[str, Any]]:
        return list(monitor.events)

    @app.get("/monitor/performance")
    def performance_report() -> dict[str, Any]:
        return performance.get_performance_report()

    @app.get("/monitor/slow")
    def slow(threshold: float = 1.0) -> list[dict[str, Any]]:
        return performance.get_slow_tasks(threshold)

    @app.post("/config/save")
    def save() -> list[dict[str, Any]]:
        try:
            return loader.save_config(tw)
        except InvalidInput as exc:
            raise HTTPException(422, {"field": exc.field, "reason": exc.reason}) from None

    return app


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(create_app(), host="127.0.0.1", port=int(os.environ.get("PORT", "8000")))
