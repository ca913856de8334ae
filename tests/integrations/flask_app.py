"""The seed-000 shape of a Flask app (a Config class with JOBS and SCHEDULER_API_ENABLED,
``scheduler.init_app(app)``, ``scheduler.start()``), as gunicorn loads it in each worker."""

from __future__ import annotations

import os

from flask import Flask, jsonify

from tickwork.integrations.flask import APScheduler

scheduler = APScheduler()


class Config:
    JOBS = [  # noqa: RUF012 - Flask-APScheduler's shape
        {
            "id": "tick",
            "func": "tests.integrations.ledger:tick",
            "trigger": "interval",
            "seconds": 1,
            "misfire_grace_time": 30,
        }
    ]
    SCHEDULER_API_ENABLED = True
    SCHEDULER_TIMEZONE = "Asia/Shanghai"
    TICKWORK_DATABASE_URL = os.environ.get("TEST_FLASK_DATABASE_URL")


def create_app() -> Flask:
    app = Flask("seed_app")
    app.config.from_object(Config())
    scheduler.init_app(app)
    scheduler.start()

    @app.get("/whoami")
    def whoami() -> object:
        return jsonify({"pid": os.getpid(), "running": scheduler.running})

    return app
