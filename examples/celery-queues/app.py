"""The Dify schedule (seed 003) on Tickwork, executed by Tickwork's Celery workers on the
``dataset`` and ``monitor`` queues. ``python app.py`` registers the jobs, starts one
``tickwork worker -Q dataset,monitor`` next to this file and runs the scheduler node until
Ctrl-C.

Environment: ``APP_DATABASE_URL`` (Dify's PostgreSQL, also Tickwork's store),
``TICKWORK_CELERY_BROKER_URL`` (RabbitMQ ``amqp://...`` or Redis ``redis://...``),
``QUEUE_MONITOR_THRESHOLD`` (200), ``QUEUE_MONITOR_ALERT_EMAILS`` (comma-separated),
``SMTP_HOST``/``SMTP_PORT``/``SMTP_FROM``, ``QUEUE_PREFIX`` (prepended to the queue names;
tests use it), ``TICKWORK_DATA_DIR`` (the vault key; default ``./.tickwork``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import schedule

from tickwork import Tickwork

HERE = Path(__file__).resolve().parent
# Dify's settings: PLAN_SANDBOX_CLEAN_MESSAGE_DAY_SETTING, PLAN_SANDBOX_CLEAN_DAY_SETTING
CLEAN_MESSAGE_DAYS = 30
CLEAN_EMBEDDING_DAYS = 7
BATCH = 100  # the seed's LIMIT 100


def queues(prefix: str = "") -> tuple[str, str]:
    return f"{prefix}dataset", f"{prefix}monitor"


def setup(tw: Tickwork, env: dict[str, str] | None = None) -> None:
    """Create the app's tables, the named connections, the alert channel and rule, and the
    five jobs (idempotent: run it at every start)."""
    env = dict(os.environ if env is None else env)
    dataset, monitor = queues(env.get("QUEUE_PREFIX", ""))
    schedule.metadata.create_all(schedule.engine())

    have = {c.name for c in tw.connections()}
    broker = env["TICKWORK_CELERY_BROKER_URL"]
    smtp: dict[str, Any] = {
        "host": env.get("SMTP_HOST", "127.0.0.1"),
        "port": int(env.get("SMTP_PORT", "25")),
        "security": "none",
        "from_addr": env.get("SMTP_FROM", "scheduler@example.com"),
    }
    wanted: dict[str, tuple[str, dict[str, Any]]] = {
        "dify_db": ("database", {"url": env["APP_DATABASE_URL"]}),
        "broker": ("amqp" if broker.startswith("amqp") else "redis", {"url": broker}),
        "mail": ("smtp", smtp),
    }
    for name, (kind, fields) in wanted.items():
        if name not in have:
            tw.add_connection(name, kind, fields)
    if "ops-email" not in {c.name for c in tw.alert_channels()}:
        to = env.get("QUEUE_MONITOR_ALERT_EMAILS", "ops@example.com").split(",")
        tw.add_alert_channel("ops-email", "email", {"connection": "mail", "to": to})
    threshold = int(env.get("QUEUE_MONITOR_THRESHOLD", "200"))
    if "queue-backlog" not in {r.id for r in tw.alert_rules()}:
        # the seed's "queue length >= threshold: mail the admins", once per hour at most
        tw.add_alert_rule({"id": "queue-backlog", "kind": "finding", "scope": "job",
                           "scope_value": "queue-monitor", "severity": "warning",
                           # the monitor's findings (the built-in's findings carry no
                           # "kind", so the rule is scoped to the job instead)
                           "params": {"min_severity": "warning"},
                           "dedupe_s": 3600, "channels": ["ops-email"]})  # fmt: skip

    common: dict[str, Any] = {
        "replace_existing": True,
        "group": "dify",
        "coalesce": True,
        "max_instances": 1,
    }
    # clean_messages: messages older than 30 days with their six child tables, batch by batch
    tw.add_job({"kind": "builtin", "name": "cleanup_old_data", "connection": "dify_db",
                "table": "messages", "time_column": "created_at",
                "older_than_days": CLEAN_MESSAGE_DAYS, "batch_size": BATCH, "dry_run": False,
                "children": [{"table": t.name, "column": "message_id"}
                             for t in schedule.MESSAGE_CHILDREN]},
               "cron", hour=2, minute=0, id="clean-expired-messages", queue=dataset,
               **common)  # fmt: skip
    tw.add_job({"kind": "builtin", "name": "cleanup_old_data", "connection": "dify_db",
                "table": "embeddings", "time_column": "created_at",
                "older_than_days": CLEAN_EMBEDDING_DAYS, "batch_size": BATCH, "dry_run": False},
               "cron", hour=3, minute=0, id="clean-embedding-cache", queue=dataset,
               **common)  # fmt: skip
    tw.add_job("schedule:clean_unused_datasets", "cron", hour=5, minute=0,
               id="clean-unused-datasets", queue=dataset, **common)  # fmt: skip
    # queue_monitor_task: the dataset queue's backlog, every 5 minutes, on the monitor queue
    tw.add_job({"kind": "builtin", "name": "queue_backlog", "connection": "broker",
                "queues": [dataset], "threshold": threshold, "critical": threshold * 10},
               "interval", minutes=5, id="queue-monitor", queue=monitor, **common)  # fmt: skip


def start_worker(env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """One ``tickwork worker`` for both queues (Dify runs 4 + 1 processes: here threads)."""
    env = dict(os.environ if env is None else env)
    dataset, monitor = queues(env.get("QUEUE_PREFIX", ""))
    command = [sys.executable, "-c", "import sys; from tickwork.cli import main; sys.exit(main())",
               "worker", "-Q", f"{dataset},{monitor}", "--concurrency", "5",
               "--app-dir", str(HERE), "--database-url", env["APP_DATABASE_URL"]]  # fmt: skip
    return subprocess.Popen(command, cwd=HERE, env=env)


def main() -> None:
    os.environ.setdefault("APP_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1/dify")
    os.environ.setdefault("TICKWORK_CELERY_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")
    os.environ.setdefault("TICKWORK_DATA_DIR", str(HERE / ".tickwork"))
    tw = Tickwork(os.environ["APP_DATABASE_URL"], timezone="Asia/Shanghai")
    setup(tw)
    worker = start_worker()
    try:
        tw.run_forever()
    finally:
        worker.terminate()
        worker.wait(60)
        tw.close()


if __name__ == "__main__":
    main()
