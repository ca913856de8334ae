"""A customer-chat Flask app on MariaDB and Redis whose database upkeep is scheduled by Tickwork
through its Flask-APScheduler drop-in (seed 000). Start it with ``python app.py``.

Environment: ``APP_DATABASE_URL`` (the MariaDB database of the app and of Tickwork's ``tw_*``
tables), ``APP_REDIS_URL``, ``TICKWORK_DATA_DIR`` (where the key that seals connection
passwords lives; default ``./.tickwork``), ``PORT``.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask, abort, jsonify, request

sys.path.insert(0, str(Path(__file__).resolve().parent))

from tasks import CACHE, DB, JOBS

from tickwork.integrations.flask import APScheduler

HERE = Path(__file__).resolve().parent

metadata = sa.MetaData()
chats = sa.Table(
    "chats",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
    sa.Column("visitor_id", sa.String(64), nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    # cleanup_old_data walks this index 1000 rows a batch (it refuses a table without one)
    sa.Column("created_at", sa.DateTime, nullable=False, index=True),
)


class Config:
    """Flask-APScheduler's configuration, as the seed's ``Tasks/task_list.py`` wrote it."""

    JOBS = JOBS
    SCHEDULER_API_ENABLED = True  # /scheduler/jobs..., behind Tickwork's API tokens
    SCHEDULER_TIMEZONE = os.environ.get("APP_TIMEZONE", "Asia/Shanghai")
    APP_DATABASE_URL = os.environ.get("APP_DATABASE_URL", "mysql+pymysql://root@127.0.0.1/app")
    APP_REDIS_URL = os.environ.get("APP_REDIS_URL", "redis://127.0.0.1:6379/0")
    # Tickwork keeps its jobs and run records in the app's own database
    TICKWORK_DATABASE_URL = APP_DATABASE_URL
    TICKWORK_DATA_DIR = os.environ.get("TICKWORK_DATA_DIR", str(HERE / ".tickwork"))


scheduler = APScheduler()


def ensure_connections(app: Flask) -> None:
    """The named connections the jobs use, created or pointed at the configured servers (the
    password of a URL is sealed by Tickwork's vault, never stored in clear)."""
    tw = scheduler.tickwork
    wanted = {DB: ("database", app.config["APP_DATABASE_URL"]),
              CACHE: ("redis", app.config["APP_REDIS_URL"])}  # fmt: skip
    existing = {c.name for c in tw.connections()}
    for name, (kind, url) in wanted.items():
        if name in existing:
            tw.update_connection(name, {"url": url})
        else:
            tw.add_connection(name, kind, {"url": url}, description=f"the app's {kind}")


def create_app(config: object | None = None, *, start: bool = True) -> Flask:
    app = Flask("flask_db_maintenance")
    app.config.from_object(config or Config())
    engine = sa.create_engine(app.config["APP_DATABASE_URL"], pool_pre_ping=True)
    metadata.create_all(engine)
    app.extensions["db_engine"] = engine

    scheduler.init_app(app)
    ensure_connections(app)
    if start:
        scheduler.start()  # one scheduler per host, however many gunicorn workers

    @app.post("/chats")
    def add_chat() -> Any:
        body = request.get_json(force=True)
        with engine.begin() as conn:
            conn.execute(chats.insert().values(
                visitor_id=str(body["visitor_id"]), message=str(body["message"]),
                created_at=datetime.now(UTC).replace(tzinfo=None)))  # fmt: skip
        return jsonify({"ok": True}), 201

    @app.get("/maintenance")
    def maintenance() -> Any:
        """Every job with its next fire and the report of its latest run."""
        tw = scheduler.tickwork
        jobs = scheduler.get_jobs()
        latest = tw.last_runs([j.id for j in jobs])
        return jsonify([_job_view(j, latest.get(j.id)) for j in jobs])

    @app.get("/maintenance/<job_id>")
    def maintenance_job(job_id: str) -> Any:
        job = scheduler.get_job(job_id)
        if job is None:
            abort(404)
        return jsonify(_job_view(job, scheduler.tickwork.last_runs([job_id]).get(job_id)))

    return app


def _job_view(job: Any, run: Any) -> dict[str, Any]:
    return {
        "id": job.id,
        "paused": job.paused,
        "next_run_time": job.next_run_time.isoformat() if job.next_run_time else None,
        "last_run": None if run is None else _run_view(run),
    }


def _run_view(run: Any) -> dict[str, Any]:
    report = json.loads(run.result) if run.result else None
    return {"id": run.id, "status": run.status, "report": report}


if __name__ == "__main__":
    create_app().run(host="127.0.0.1", port=int(os.environ.get("PORT", "5000")))
