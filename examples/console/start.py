"""The scheduling console of seed 004 on Tickwork, started by one command: ``python start.py``.

It prepares ``userdata/`` (the SQLite store ``scheduler.db``, the secret key, the app's
``app.db``), declares what the console holds besides the job files (groups,
the script, the backup and log-cleanup template jobs, the alert channels and rule), then becomes
``tickwork serve --jobs app/config/scheduler_tasks.yaml --jobs app/config/console.yaml``.

Environment: ``PORT`` (8080), ``CONSOLE_USERDATA`` (``./userdata``), the first admin
``TICKWORK_ADMIN_USER``/``TICKWORK_ADMIN_PASSWORD`` (else one is printed), and the alert
settings: ``SMTP_HOST``, ``SMTP_PORT``, ``SMTP_USER``, ``SMTP_PASSWORD``, ``SMTP_FROM``,
``ALERT_EMAILS`` (comma-separated), ``DINGTALK_URL``, ``DINGTALK_SECRET``. A channel whose
settings are not given is created disabled, pointing at a placeholder: nothing is sent.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from tickwork import Tickwork
from tickwork.cli import main as tickwork_cli

HERE = Path(__file__).resolve().parent
JOB_FILES = [HERE / "app/config/scheduler_tasks.yaml", HERE / "app/config/console.yaml"]
GROUPS = {
    "maintenance": "系统维护任务 / system maintenance",
    "sync": "数据同步任务 / data synchronisation",
    "processing": "数据处理任务 / data processing",
    "monitoring": "监控任务 / monitoring",
}


def environment(env: dict[str, str] | None = None) -> dict[str, str]:
    """The settings ``tickwork serve`` and ``setup`` share, derived from ``userdata``."""
    env = dict(os.environ if env is None else env)
    userdata = Path(env.setdefault("CONSOLE_USERDATA", str(HERE / "userdata"))).resolve()
    (userdata / "logs").mkdir(parents=True, exist_ok=True)
    (userdata / "backups").mkdir(exist_ok=True)
    env.setdefault("TICKWORK_DATA_DIR", str(userdata / ".tickwork"))
    env.setdefault("TICKWORK_DATABASE_URL", f"sqlite:///{userdata / 'scheduler.db'}")
    env.setdefault("TICKWORK_CLEANUP_ROOTS", str(userdata / "logs"))
    env.setdefault("TICKWORK_TIMEZONE", "Asia/Shanghai")
    return env


def setup(tw: Tickwork, env: dict[str, str]) -> None:
    """Everything the console holds that the job files do not; idempotent."""
    userdata = Path(env["CONSOLE_USERDATA"]).resolve()
    groups = {g.record.name for g in tw.list_groups() if g.record.declared}
    for name, description in GROUPS.items():
        if name not in groups:
            tw.add_group(name, description=description, timezone="Asia/Shanghai")

    jobs = {j.id for j in tw.get_jobs()}
    # the script of app/config/console.yaml's weekly_capacity_report (a new version when the
    # file changed, none when it did not)
    code = (HERE / "app/scripts/weekly_capacity_report.py").read_text()
    tw.push_script("weekly-capacity-report", code, language="python",
                   message="from app/scripts", description="周容量报告")  # fmt: skip

    # the seed's backup_scheduler_data: the store itself, daily, 30 days of backups
    if "scheduler_store" not in {c.name for c in tw.connections()}:
        tw.add_connection("scheduler_store", "database", {"url": env["TICKWORK_DATABASE_URL"]},
                          description="the console's own SQLite store")  # fmt: skip
    if "backup_scheduler_data" not in jobs:
        tw.add_job_from_template("backup_scheduler_data", "db-backup", {
            "connection": "scheduler_store", "directory": str(userdata / "backups"),
            "schedule": "0 3 * * *", "keep": 30, "max_age_days": 30})  # fmt: skip
    if "cleanup_log_files" not in jobs:
        tw.add_job_from_template("cleanup_log_files", "log-cleanup", {
            "root": env["TICKWORK_CLEANUP_ROOTS"], "directory": str(userdata / "logs"),
            "pattern": "*.log", "older_than_days": 30, "schedule": "30 2 * * *"})  # fmt: skip

    _alerts(tw, env)


def _alerts(tw: Tickwork, env: dict[str, str]) -> None:
    """The seed's send_email_alert and send_dingtalk_alert: a rule on every job's failure."""
    if "mail" not in {c.name for c in tw.connections()}:
        smtp: dict[str, Any] = {
            "host": env.get("SMTP_HOST", "smtp.example.com"),
            "port": int(env.get("SMTP_PORT", "587")),
            "security": env.get("SMTP_SECURITY", "starttls"),
            "from_addr": env.get("SMTP_FROM", "scheduler@example.com"),
        }
        if env.get("SMTP_USER"):
            smtp.update(username=env["SMTP_USER"], password=env.get("SMTP_PASSWORD", ""))
        tw.add_connection("mail", "smtp", smtp, description="alert mail")
    channels = {c.name for c in tw.alert_channels()}
    if "admin-email" not in channels:
        tw.add_alert_channel(
            "admin-email", "email",
            {"connection": "mail",
             "to": env.get("ALERT_EMAILS", "admin@example.com").split(",")},
            language="zh-CN", enabled=bool(env.get("ALERT_EMAILS")),
        )  # fmt: skip
    if "ops-dingtalk" not in channels:
        tw.add_alert_channel(
            "ops-dingtalk", "dingtalk",
            {"url": env.get("DINGTALK_URL",
                            "https://oapi.dingtalk.com/robot/send?access_token=REPLACE_ME"),
             "secret": env.get("DINGTALK_SECRET", "SECREPLACE_ME")},
            language="zh-CN", enabled=bool(env.get("DINGTALK_URL")),
        )  # fmt: skip
    if "job-failed" not in {r.id for r in tw.alert_rules()}:
        tw.add_alert_rule({"id": "job-failed", "kind": "failed", "scope": "all",
                           "severity": "critical", "dedupe_s": 3600,
                           "channels": ["admin-email", "ops-dingtalk"]})  # fmt: skip


def serve_command(env: dict[str, str]) -> list[str]:
    command = [sys.executable, "-m", "tickwork.cli", "serve", "--app-dir", str(HERE),
               "--port", env.get("PORT", "8080")]  # fmt: skip
    for path in JOB_FILES:
        command += ["--jobs", str(path)]
    return command


def main() -> None:
    env = environment()
    os.environ.update(env)
    tickwork_cli(["init"])  # the secret key and the schema (kept when they exist)
    tw = Tickwork(env["TICKWORK_DATABASE_URL"])
    try:
        setup(tw, env)
    finally:
        tw.close()
    os.execve(sys.executable, serve_command(env), env)


if __name__ == "__main__":
    main()
