"""The task tracker (seed 001): a Flask app on PostgreSQL whose background work (weekly reset
of periodic tasks, deadline warnings, time progress, 90-day cleanup) is scheduled by Tickwork
through its Flask extension. Start it with ``python app.py``.

Environment: ``APP_DATABASE_URL`` (the app's PostgreSQL database, also Tickwork's store),
``TICKWORK_DATA_DIR`` (the vault key of the named connection; default ``./.tickwork``), ``PORT``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from flask import Flask, abort, jsonify, request

sys.path.insert(0, str(Path(__file__).resolve().parent))

import tracker

from tickwork import Tickwork
from tickwork.integrations.flask import APScheduler

HERE = Path(__file__).resolve().parent

# The seed's scheduler options (APScheduler's job defaults, read by Tickwork as they are)
JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600}
# "retry 3 times, 5 seconds apart": Tickwork waits between 5 and 10 s before each retry
# (its backoff always keeps half of the wait random, so many failing jobs do not retry in step)
RETRY = {"retries": 3, "retry_backoff_s": 10, "retry_backoff_max_s": 10}


def init_scheduler(scheduler: APScheduler) -> None:
    """The seed's ``init_scheduler``, call for call."""
    # 1. periodic task reset, every day at 02:00
    scheduler.add_job(func=tracker.reset_periodic_tasks, trigger="cron", hour=2, minute=0,
                      id="reset_periodic_tasks", replace_existing=True, **RETRY)  # fmt: skip
    # 2. deadline warnings, every hour
    scheduler.add_job(func=tracker.check_task_warnings, trigger="interval", hours=1,
                      id="check_task_warnings", replace_existing=True, **RETRY)  # fmt: skip
    # 3. time progress, every 30 minutes
    scheduler.add_job(func=tracker.update_all_time_progress, trigger="interval", minutes=30,
                      id="update_time_progress", replace_existing=True, **RETRY)  # fmt: skip
    # 4. tasks closed more than 90 days ago (and their notifications), Sunday 03:00, in
    #    batches of 1000: the maintenance built-in on the app's named connection
    scheduler.add_job(
        func={"kind": "builtin", "name": "cleanup_old_data", "connection": "app_db",
              "table": "tasks", "time_column": "closed_at", "older_than_days": 90,
              "children": [{"table": "notifications", "column": "task_id"},
                           {"table": "warnings_sent", "column": "task_id"}],
              "dry_run": False},
        trigger="cron", day_of_week="sun", hour=3, minute=0, id="cleanup_old_data",
        replace_existing=True, **RETRY)  # fmt: skip


def init_alerts(tw: Tickwork) -> None:
    """The seed's ``notify_on_failure``: the administrator is mailed when a job has failed for
    good (its last retry failed too), once an hour per job at most. The SMTP server and the
    addresses come from ``SMTP_HOST``/``SMTP_PORT``/``SMTP_USER``/``SMTP_PASSWORD``/
    ``SMTP_FROM`` and ``ADMIN_EMAILS``; without ``ADMIN_EMAILS`` the channel is created
    disabled and nothing is sent."""
    if "smtp" not in {c.name for c in tw.connections()}:
        smtp: dict[str, Any] = {
            "host": os.environ.get("SMTP_HOST", "127.0.0.1"),
            "port": int(os.environ.get("SMTP_PORT", "25")),
            "security": os.environ.get("SMTP_SECURITY", "none"),
            "from_addr": os.environ.get("SMTP_FROM", "tracker@example.com"),
        }
        if os.environ.get("SMTP_USER"):
            smtp.update(username=os.environ["SMTP_USER"],
                        password=os.environ.get("SMTP_PASSWORD", ""))  # fmt: skip
        tw.add_connection("smtp", "smtp", smtp, description="the administrator's mail")
    if "admin-email" not in {c.name for c in tw.alert_channels()}:
        to = os.environ.get("ADMIN_EMAILS", "admin@example.com").split(",")
        enabled = bool(os.environ.get("ADMIN_EMAILS"))
        fields = {"connection": "smtp", "to": to}
        tw.add_alert_channel("admin-email", "email", fields, language="zh-CN", enabled=enabled)
    if "job-failed" not in {r.id for r in tw.alert_rules()}:
        tw.add_alert_rule({"id": "job-failed", "kind": "failed", "scope": "all",
                           "severity": "critical", "dedupe_s": 3600,
                           "channels": ["admin-email"]})  # fmt: skip


def create_app(tw: Tickwork | None = None, *, start: bool = True) -> Flask:
    app = Flask("task_tracker")
    url = os.environ.get("APP_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1/tracker")
    app.config.update(
        TICKWORK_DATABASE_URL=url,
        TICKWORK_DATA_DIR=os.environ.get("TICKWORK_DATA_DIR", str(HERE / ".tickwork")),
        SCHEDULER_TIMEZONE="Asia/Shanghai",
        SCHEDULER_JOB_DEFAULTS=JOB_DEFAULTS,
        # the seed's monitoring API (GET /api/scheduler/jobs, POST .../<id>/run), here behind
        # Tickwork's API tokens (the seed asked for an admin token too)
        SCHEDULER_API_ENABLED=True,
        SCHEDULER_API_PREFIX="/api/scheduler",
    )
    os.environ.setdefault("APP_DATABASE_URL", url)
    tracker.metadata.create_all(tracker.engine())
    scheduler = APScheduler(tickwork=tw)  # app.extensions["tickwork"]
    scheduler.init_app(app)
    names = {c.name for c in scheduler.tickwork.connections()}
    if "app_db" not in names:
        scheduler.tickwork.add_connection("app_db", "database", {"url": url},
                                          description="the tracker's PostgreSQL")  # fmt: skip
    init_scheduler(scheduler)
    init_alerts(scheduler.tickwork)
    if start:
        scheduler.start()

    @app.post("/tasks")
    def add_task() -> Any:
        body = request.get_json(force=True)
        allowed = {c.name for c in tracker.tasks.columns} - {"id"}
        unknown = set(body) - allowed
        if unknown:
            return jsonify({"error": f"unknown fields: {', '.join(sorted(unknown))}"}), 422
        with tracker.engine().begin() as conn:
            task_id = conn.execute(tracker.tasks.insert().values(**body)
                                   .returning(tracker.tasks.c.id)).scalar_one()  # fmt: skip
        return jsonify({"id": task_id}), 201

    @app.get("/tasks/<int:task_id>")
    def get_task(task_id: int) -> Any:
        with tracker.engine().connect() as conn:
            row = conn.execute(tracker.tasks.select().where(tracker.tasks.c.id == task_id)).first()
        if row is None:
            abort(404)
        return jsonify({k: (v.isoformat() if hasattr(v, "isoformat") else v)
                        for k, v in row._mapping.items()})  # fmt: skip

    @app.get("/notifications")
    def list_notifications() -> Any:
        with tracker.engine().connect() as conn:
            rows = conn.execute(tracker.notifications.select()
                                .order_by(tracker.notifications.c.id)).all()  # fmt: skip
        return jsonify([{"task_id": r.task_id, "user_id": r.user_id, "type": r.type,
                         "title": r.title} for r in rows])  # fmt: skip

    return app


if __name__ == "__main__":
    create_app().run(host="127.0.0.1", port=int(os.environ.get("PORT", "5000")))
