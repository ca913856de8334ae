"""The built-ins in the template gallery: one template per built-in (named as the built-in,
e.g. ``check_slow_queries``), category ``maintenance``. Its form asks for the connection the
built-in works on, its scalar parameters (defaults and bounds from the catalog) and a schedule
(the built-in's default: an interval of N minutes becomes ``H/N * * * *``, the same rate with
the minute spread per job). List parameters keep their defaults: the description says to edit
the job's target for them. The job's target is what ``tickwork builtins install`` makes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tickwork.builtins.catalog import BUILTINS, Builtin
from tickwork.builtins.install import DEFAULT_TIMEOUT, TIMEOUTS
from tickwork.builtins.params import Param, check
from tickwork.errors import InvalidInput
from tickwork.templates.registry import register

SCALAR = {"int": "integer", "number": "number", "bool": "boolean", "text": "string",
          "identifier": "string", "column": "string"}  # fmt: skip

# (English label, Chinese label, Chinese help) per parameter; "builtin.param" where the same
# name means something else in that built-in. English help comes from the catalog.
TEXTS: dict[str, tuple[str, str, str]] = {
    "rounds": ("Round trips", "测量次数", "测量的往返次数。"),
    "warn_ms": ("Warning latency (ms)", "告警延迟（毫秒）", "往返时间中位数超过该值时告警。"),
    "critical_ms": ("Critical latency (ms)", "严重延迟（毫秒）",
                    "往返时间中位数超过该值时为严重。"),
    "warn_pct": ("Warning use (%)", "告警使用率（%）",
                 "连接数占 max_connections 的比例超过该值时告警。"),
    "critical_pct": ("Critical use (%)", "严重使用率（%）",
                     "连接数占 max_connections 的比例超过该值时为严重。"),
    "pool": ("Application pool", "应用连接池",
             "用 tickwork.builtins.pools.register 注册的应用连接池名称（可选）。"),
    "idle_s": ("Idle limit (seconds)", "空闲上限（秒）", "空闲超过该时长的会话会被报告。"),
    "terminate_after_s": ("End idle sessions after (seconds)", "结束空闲会话时限（秒）",
                          "开启终止会话后，空闲超过该时长的会话会被结束。"),
    "terminate": ("Terminate sessions", "终止会话",
                  "结束超过空闲上限的事务中空闲会话，以及超过结束时限的空闲会话（默认关闭）。"),
    "max_terminate": ("Sessions ended per run", "每次最多结束会话数", "每次运行最多结束的会话数。"),
    "all_databases": ("All databases", "所有数据库",
                      "查看所有数据库的会话（默认只看该连接的数据库）。"),
    "threshold_s": ("Slow after (seconds)", "慢查询阈值（秒）", "运行超过该时长的语句视为慢查询。"),
    "critical_s": ("Critical after (seconds)", "严重阈值（秒）", "运行超过该时长的语句视为严重。"),
    "max_statement_chars": ("Statement text kept (characters)", "保留语句长度（字符）",
                            "保留的语句文本长度（字面量已脱敏）。"),
    "max_tables": ("Tables per run", "每次最多表数", "每次运行分析的表数。"),
    "min_changes": ("Changed rows", "变更行数", "PostgreSQL：自上次 ANALYZE 以来变更的行数。"),
    "min_rows": ("Minimum rows", "最少行数", "行数更少的表不值得给出建议。"),
    "apply": ("Create the listed indexes", "创建所列索引",
              "创建 target.create 中列出的索引（PostgreSQL 用 CONCURRENTLY，MariaDB 用在线 DDL；"
              "默认关闭）。"),
    "index_timeout_s": ("Index build limit (seconds)", "建索引时限（秒）",
                        "每条 CREATE INDEX 语句的时限。"),
    "table": ("Table", "表", "要删除过期行的表。"),
    "time_column": ("Time column", "时间列", "行的时间列（应建有索引）。"),
    "older_than_days": ("Older than (days)", "早于（天）", "早于该天数的行会被删除。"),
    "batch_size": ("Batch size", "批大小", "每批的行数（每批一个短事务）。"),
    "pause_s": ("Pause (seconds)", "批间停顿（秒）", "两批之间的停顿。"),
    "max_rows": ("Rows per run", "每次最多行数", "每次运行最多删除的行数。"),
    "dry_run": ("Dry run", "试运行", "只统计数量（关闭后才真正删除）。"),
    "threshold_pct": ("Warning share (%)", "告警比例（%）", "空闲空间或死元组占比超过该值时告警。"),
    "min_bytes": ("Minimum size (bytes)", "最小大小（字节）", "更小的表会被跳过。"),
    "min_dead_rows": ("Minimum dead rows", "最少死元组数", "PostgreSQL：值得报告的死元组数。"),
    "max_scan": ("Keys scanned per run", "每次最多扫描键数", "每次运行最多查看的键数。"),
    "max_delete": ("Keys removed per run", "每次最多删除键数", "每次运行最多删除的键数。"),
    "threshold": ("Warning backlog", "告警积压数", "等待中的消息数超过该值时告警。"),
    "critical": ("Critical backlog", "严重积压数", "等待中的消息数超过该值时为严重。"),
    "path": ("Directory", "目录", "允许的根目录内的目录。"),
    "pattern": ("File name pattern", "文件名模式", "匹配的文件名通配符。"),
    "max_files": ("Files per run", "每次最多文件数", "每次运行最多删除的文件数。"),
    "statement_timeout_s": ("Statement timeout (seconds)", "语句超时（秒）", "每条语句的时限。"),
    "lock_timeout_s": ("Lock timeout (seconds)", "锁等待超时（秒）", "每次锁等待的时限。"),
    # the same names, other meanings
    "vacuum_redis_cache.idle_s": ("Idle time (seconds)", "空闲时间（秒）",
                                  "空闲超过该时长的键（以及没有过期时间的键）会被删除。"),
    "vacuum_redis_cache.dry_run": ("Dry run", "试运行", "只统计数量（关闭后才真正删除键）。"),
    "cleanup_log_files.dry_run": ("Dry run", "试运行", "只统计数量（关闭后才真正删除文件）。"),
    "cleanup_log_files.older_than_days": ("Older than (days)", "早于（天）",
                                          "修改时间早于该天数的文件会被删除。"),
    "generate_performance_report.max_tables": ("Tables listed", "列出表数", "列出的最大表数量。"),
    "collect_database_sizes.max_tables": ("Tables recorded", "记录表数", "记录的最大表数量。"),
}  # fmt: skip

CONNECTION = {
    "database": ("Database connection", "数据库连接"),
    "redis": ("Redis connection", "Redis 连接"),
    "database|redis": ("Database or Redis connection", "数据库或 Redis 连接"),
    "redis|amqp": ("Redis or AMQP connection", "Redis 或 AMQP 连接"),
}


def cron_of(schedule: dict[str, Any]) -> str:
    """The built-in's default schedule as a cron string: cron as it is, every N minutes (N
    dividing 60) as ``H/N * * * *``, every N hours as ``H H/N * * *``."""
    if "cron" in schedule:
        return str(schedule["cron"])
    every = dict(schedule["interval"])
    if set(every) == {"minutes"} and 60 % every["minutes"] == 0:
        return f"H/{every['minutes']} * * * *"
    if set(every) == {"hours"} and 24 % every["hours"] == 0:
        return f"H H/{every['hours']} * * *"
    raise ValueError(f"no cron form for the interval {every}")  # a catalog change needs one


def _texts(item: Builtin, p: Param) -> tuple[str, str, str]:
    return TEXTS.get(f"{item.name}.{p.name}") or TEXTS[p.name]


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + "."


def parameter(item: Builtin, p: Param) -> dict[str, Any]:
    label_en, label_zh, help_zh = _texts(item, p)
    out: dict[str, Any] = {
        "name": p.name,
        "type": SCALAR[p.type],
        "label": {"en": label_en, "zh-CN": label_zh},
        "help": {"en": _sentence(p.help), "zh-CN": help_zh},
    }
    if p.default is not None:
        out["default"] = p.default
    if p.required:
        out["required"] = True
    if p.type in ("int", "number"):
        low, high = (int(p.low), int(p.high)) if p.type == "int" else (p.low, p.high)
        out.update(minimum=low, maximum=high)
    if out["type"] == "string":
        out["max_length"] = 1000
    return out


def _lists(item: Builtin) -> list[Param]:
    return [p for p in item.all_params() if p.type not in SCALAR]


def description(item: Builtin) -> dict[str, str]:
    en = (f"Tickwork's built-in {item.name}: runs on the connection you pick and reports "
          "its metrics and findings on the run page.")  # fmt: skip
    zh = f"Tickwork 内置维护任务 {item.name}：作用于所选连接，运行页面以表格展示指标和发现的问题。"
    lists = _lists(item)
    if lists:
        names = ", ".join(f"target.{p.name}" for p in lists)
        en += f" List settings ({names}) keep their defaults; edit the job's target to change them."
        zh += f"列表类设置（{names}）保持默认值，如需修改请在创建后编辑任务的目标。"
    if item.destructive:
        safe = ", ".join(f"{d}={str(_default(item, d)).lower()}" for d in item.destructive)
        en += f" Changes are off by default ({safe})."
        zh += f"默认不做任何修改（{safe}）。"
    return {"en": en, "zh-CN": zh}


def _default(item: Builtin, name: str) -> Any:
    return next(p.default for p in item.all_params() if p.name == name)


def _checker(item: Builtin) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """The catalog's own checks (identifiers, text) on the form's values, naming
    ``params.<name>`` instead of the target's field."""
    scalars = [p for p in item.all_params() if p.type in SCALAR]

    def check_values(values: dict[str, Any]) -> dict[str, Any]:
        for p in scalars:
            if values.get(p.name) is None:
                continue
            try:
                values[p.name] = check(p, values[p.name])
            except InvalidInput as e:
                raise InvalidInput(
                    f"params.{p.name}", e.reason, code=e.code, params=e.params
                ) from None
        return values

    return check_values


def definition(item: Builtin) -> dict[str, Any]:
    parameters: list[dict[str, Any]] = []
    target: dict[str, Any] = {"kind": "builtin", "name": item.name}
    name = item.label.en
    if item.connection is not None:
        label_en, label_zh = CONNECTION[item.connection]
        parameters.append({
            "name": "connection", "type": "connection", "required": True,
            "label": {"en": label_en, "zh-CN": label_zh},
            "help": {"en": f"The named connection {item.name} works on.",
                     "zh-CN": f"{item.name} 所作用的命名连接。"},
        })  # fmt: skip
        target["connection"] = {"$param": "connection"}
        name += " on ${connection}"
    for p in item.all_params():
        if p.type in SCALAR:
            parameters.append(parameter(item, p))
            target[p.name] = {"$param": p.name}
    parameters.append({
        "name": "schedule", "type": "string", "default": cron_of(item.schedule),
        "max_length": 200, "label": {"en": "Schedule", "zh-CN": "执行计划"},
        "help": {"en": "A cron expression (H spreads the minute per job).",
                 "zh-CN": "cron 表达式（H 按任务分散分钟）。"},
    })  # fmt: skip
    return {
        "name": item.name,
        "category": "maintenance",
        "title": {"en": item.label.en, "zh-CN": item.label.zh},
        "description": description(item),
        "parameters": parameters,
        "job": {
            "name": name,
            "group": "maintenance",
            "tags": ["builtin"],
            "trigger": "${schedule}",
            "timeout_s": TIMEOUTS.get(item.name, DEFAULT_TIMEOUT),
            "target": target,
        },
    }


for _item in BUILTINS.values():
    register(definition(_item), version=1, check=_checker(_item))
