"""The templates Tickwork ships: database backup, log cleanup and HTTP health check.

Backup and cleanup are shell jobs that run ``python -m tickwork.templates.tools`` with the
Python of the Tickwork that made the job (``sys.executable``: the scheduler nodes share the
installation in the usual deployment; a rollout renders it again). The database password
comes from a named connection the job names, which the shell kind hands to the command in
its environment, never on a command line.
"""

from __future__ import annotations

import os
import posixpath
import sys
from typing import Any

from tickwork.errors import InvalidInput
from tickwork.templates.registry import register

DEFAULT_CLEANUP_ROOTS = "/var/log"


def cleanup_roots() -> list[str]:
    """The directories log cleanup may work in (``TICKWORK_CLEANUP_ROOTS``, separated by
    ``:``; default /var/log)."""
    raw = os.environ.get("TICKWORK_CLEANUP_ROOTS", DEFAULT_CLEANUP_ROOTS)
    return [posixpath.normpath(p) for p in raw.split(os.pathsep) if p.strip()]


def _absolute(field: str, value: str) -> str:
    if not value.startswith("/") or ".." in value.split("/"):
        raise InvalidInput(
            field, "must be an absolute path without '..'", code="not_absolute_path",
            params={"value": value[:200]},
        )  # fmt: skip
    return posixpath.normpath(value)


def _check_backup(values: dict[str, Any]) -> dict[str, Any]:
    values["directory"] = _absolute("params.directory", values["directory"])
    return values


def _check_cleanup(values: dict[str, Any]) -> dict[str, Any]:
    roots = cleanup_roots()
    root = _absolute("params.root", values["root"])
    if root not in roots:
        raise InvalidInput(
            "params.root",
            f"{root} is not an allowed root (TICKWORK_CLEANUP_ROOTS: {', '.join(roots)})",
            code="root_not_allowed",
            params={"value": root, "choices": roots},
        )
    directory = _absolute("params.directory", values["directory"])
    if directory != root and not directory.startswith(root.rstrip("/") + "/"):
        raise InvalidInput(
            "params.directory",
            f"{directory} is not inside the root {root}",
            code="outside_root",
            params={"value": directory, "root": root},
        )
    pattern = values["pattern"]
    if pattern.startswith("/") or ".." in pattern.split("/"):
        raise InvalidInput(
            "params.pattern", "must be relative and without '..'", code="bad_glob",
            params={"value": pattern[:200]},
        )  # fmt: skip
    values.update(root=root, directory=directory)
    return values


def _check_health(values: dict[str, Any]) -> dict[str, Any]:
    url = values["url"]
    if values.get("connection") is None and not url.startswith(("http://", "https://")):
        raise InvalidInput(
            "params.url",
            "must start with http:// or https:// (or be a path under a connection's base URL)",
            code="bad_url",
        )
    return values


def _tool(*args: str) -> list[str]:
    return [sys.executable, "-m", "tickwork.templates.tools", *args]


def _p(name: str) -> dict[str, str]:
    return {"$param": name}


SCHEDULE_HELP = {
    "en": "A cron expression; H spreads the minute so backups of many databases do not all "
    "start at once.",
    "zh-CN": "cron 表达式；H 会分散分钟，避免许多数据库的备份同时开始。",
}

register(
    {
        "name": "db-backup",
        "category": "maintenance",
        "title": {"en": "Database backup", "zh-CN": "数据库备份"},
        "description": {
            "en": "Dumps a database of a named connection (PostgreSQL pg_dump -Fc, MySQL/"
            "MariaDB mysqldump --single-transaction, SQLite online backup), checks the dump "
            "and keeps the newest ones. The password never appears on a command line.",
            "zh-CN": "备份命名连接的数据库（PostgreSQL 用 pg_dump -Fc，MySQL/MariaDB 用 "
            "mysqldump --single-transaction，SQLite 用在线备份接口），校验备份文件并按数量和"
            "时间轮换。密码从不出现在命令行中。",
        },
        "parameters": [
            {
                "name": "connection",
                "type": "connection",
                "required": True,
                "label": {"en": "Database connection", "zh-CN": "数据库连接"},
                "help": {
                    "en": "A named database connection; its password stays sealed in the vault.",
                    "zh-CN": "一个命名的数据库连接；其密码加密保存在密钥库中。",
                },
            },
            {
                "name": "directory",
                "type": "string",
                "required": True,
                "max_length": 1000,
                "label": {"en": "Backup directory", "zh-CN": "备份目录"},
                "help": {
                    "en": "Absolute path on the scheduler nodes where dumps are written.",
                    "zh-CN": "调度节点上保存备份文件的绝对路径。",
                },
            },
            {
                "name": "schedule",
                "type": "string",
                "default": "H 3 * * *",
                "max_length": 200,
                "label": {"en": "Schedule", "zh-CN": "执行计划"},
                "help": SCHEDULE_HELP,
            },
            {
                "name": "keep",
                "type": "integer",
                "default": 7,
                "minimum": 1,
                "maximum": 1000,
                "label": {"en": "Backups kept", "zh-CN": "保留份数"},
                "help": {"en": "How many of the newest backups are kept.",
                         "zh-CN": "保留最新备份的份数。"},
            },
            {
                "name": "max_age_days",
                "type": "integer",
                "default": 30,
                "minimum": 0,
                "maximum": 3650,
                "label": {"en": "Maximum age (days)", "zh-CN": "最长保留天数"},
                "help": {
                    "en": "Backups older than this are removed (0: no age limit); the newest "
                    "one is always kept.",
                    "zh-CN": "超过该天数的备份会被删除（0 表示不按时间删除）；最新一份始终保留。",
                },
            },
            {
                "name": "timeout_s",
                "type": "integer",
                "default": 3600,
                "minimum": 10,
                "maximum": 86400,
                "label": {"en": "Timeout (seconds)", "zh-CN": "超时（秒）"},
            },
        ],
        "job": {
            "name": "Backup of ${connection}",
            "description": "Database backup into ${directory}",
            "group": "maintenance",
            "tags": ["backup"],
            "trigger": "${schedule}",
            "timeout_s": _p("timeout_s"),
            "concurrency_policy": "forbid",
            "target": {
                "kind": "shell",
                "command": _tool(
                    "backup", "--connection", "${connection}", "--dir", "${directory}",
                    "--keep", "${keep}", "--max-age-days", "${max_age_days}",
                    "--timeout", "${timeout_s}",
                ),
                "connections": [_p("connection")],
            },
        },
    },
    version=1,
    check=_check_backup,
)  # fmt: skip

register(
    {
        "name": "log-cleanup",
        "category": "maintenance",
        "title": {"en": "Log cleanup", "zh-CN": "日志清理"},
        "description": {
            "en": "Removes files matching a glob, older than an age, in a directory inside an "
            "allowed root (TICKWORK_CLEANUP_ROOTS). Starts as a dry run that only lists what "
            "it would remove; links that lead out of the root are left alone.",
            "zh-CN": "在允许的根目录（TICKWORK_CLEANUP_ROOTS）内的目录中，删除匹配通配符且超过"
            "指定天数的文件。默认先试运行，只列出将要删除的文件；指向根目录之外的链接不会被处理。",
        },
        "parameters": [
            {
                "name": "root",
                "type": "string",
                "default": DEFAULT_CLEANUP_ROOTS,
                "max_length": 1000,
                "label": {"en": "Allowed root", "zh-CN": "允许的根目录"},
                "help": {
                    "en": "One of the roots the deployment allows (TICKWORK_CLEANUP_ROOTS).",
                    "zh-CN": "部署允许的根目录之一（TICKWORK_CLEANUP_ROOTS）。",
                },
            },
            {
                "name": "directory",
                "type": "string",
                "required": True,
                "max_length": 1000,
                "label": {"en": "Directory", "zh-CN": "目录"},
                "help": {"en": "An absolute path inside the root.",
                         "zh-CN": "根目录内的绝对路径。"},
            },
            {
                "name": "pattern",
                "type": "string",
                "default": "*.log",
                "max_length": 200,
                "label": {"en": "Glob", "zh-CN": "通配符"},
                "help": {"en": "Which files, e.g. *.log or **/*.gz.",
                         "zh-CN": "匹配哪些文件，例如 *.log 或 **/*.gz。"},
            },
            {
                "name": "older_than_days",
                "type": "number",
                "default": 14,
                "minimum": 0.01,
                "maximum": 3650,
                "label": {"en": "Older than (days)", "zh-CN": "早于（天）"},
            },
            {
                "name": "schedule",
                "type": "string",
                "default": "H 4 * * *",
                "max_length": 200,
                "label": {"en": "Schedule", "zh-CN": "执行计划"},
                "help": SCHEDULE_HELP,
            },
            {
                "name": "dry_run",
                "type": "boolean",
                "default": True,
                "label": {"en": "Dry run", "zh-CN": "试运行"},
                "help": {
                    "en": "Only list what would be removed. Read a run's log, then turn it off.",
                    "zh-CN": "只列出将要删除的文件。查看运行日志确认后再关闭。",
                },
            },
        ],
        "job": {
            "name": "Cleanup of ${directory}",
            "description": "Removes ${pattern} older than ${older_than_days} days",
            "group": "maintenance",
            "tags": ["cleanup"],
            "trigger": "${schedule}",
            "timeout_s": 3600,
            "concurrency_policy": "forbid",
            "target": {
                "kind": "shell",
                "command": _tool(
                    "cleanup", "--root", "${root}", "--dir", "${directory}", "--glob",
                    "${pattern}", "--older-than-days", "${older_than_days}",
                    "--dry-run", "${dry_run}",
                ),
            },
        },
    },
    version=1,
    check=_check_cleanup,
)  # fmt: skip

register(
    {
        "name": "http-health",
        "category": "monitoring",
        "title": {"en": "HTTP health check", "zh-CN": "HTTP 健康检查"},
        "description": {
            "en": "Requests a URL and fails the run when the status is not the expected one "
            "or no answer comes in time (through the SSRF guard).",
            "zh-CN": "请求一个 URL，状态码不符合预期或超时未响应时运行失败（经过 SSRF 防护）。",
        },
        "parameters": [
            {
                "name": "url",
                "type": "string",
                "required": True,
                "max_length": 2000,
                "label": {"en": "URL", "zh-CN": "URL"},
                "help": {
                    "en": "http(s)://host/path, or a path under the connection's base URL.",
                    "zh-CN": "http(s)://主机/路径，或连接基础 URL 下的路径。",
                },
            },
            {
                "name": "connection",
                "type": "connection",
                "label": {"en": "HTTP connection (optional)", "zh-CN": "HTTP 连接（可选）"},
                "help": {"en": "Gives a base URL and an auth header kept in the vault.",
                         "zh-CN": "提供基础 URL 和加密保存的认证头。"},
            },
            {
                "name": "expect_status",
                "type": "string",
                "default": "200-299",
                "max_length": 50,
                "label": {"en": "Expected status", "zh-CN": "期望状态码"},
                "help": {"en": "A code or a range, e.g. 200 or 200-299.",
                         "zh-CN": "状态码或范围，例如 200 或 200-299。"},
            },
            {
                "name": "timeout_s",
                "type": "number",
                "default": 10,
                "minimum": 0.1,
                "maximum": 300,
                "label": {"en": "Timeout (seconds)", "zh-CN": "超时（秒）"},
            },
            {
                "name": "schedule",
                "type": "string",
                "default": "H/5 * * * *",
                "max_length": 200,
                "label": {"en": "Schedule", "zh-CN": "执行计划"},
                "help": SCHEDULE_HELP,
            },
            {
                "name": "retries",
                "type": "integer",
                "default": 1,
                "minimum": 0,
                "maximum": 10,
                "label": {"en": "Retries", "zh-CN": "重试次数"},
            },
        ],
        "job": {
            "name": "Health of ${url}",
            "group": "health",
            "tags": ["health"],
            "trigger": "${schedule}",
            "retries": _p("retries"),
            "target": {
                "kind": "http",
                "method": "GET",
                "url": "${url}",
                "connection": _p("connection"),
                "expect_status": ["${expect_status}"],
                "timeout_s": _p("timeout_s"),
            },
        },
    },
    version=1,
    check=_check_health,
)  # fmt: skip
