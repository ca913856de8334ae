"""RuoYi's ``sys_job`` table (RuoYi-Vue and its Python ports) -> Tickwork jobs.

``invoke_target`` is never executed or evaluated. It maps to a Python job only when it reads
``package.module.function(...)`` (or ``package.module.function`` with no call) with literal
arguments: strings, numbers (Java's ``100L`` / ``0.5D`` suffixes accepted), ``true`` /
``false`` / ``null`` and Python's literals, positional or ``name=value``. Anything else (a
Spring bean's method ``ryTask.ryParams('ry')`` names a Java object, a non-literal argument)
is refused with the reason. The Quartz cron is converted (day-of-week renumbered, see
``quartz``); ``misfire_policy`` 1 / 2 / 3 -> run all / run once / skip (0 = Quartz's default,
run once), ``concurrent`` 1 = forbid, ``status`` 1 = paused."""

from __future__ import annotations

import ast
import copy
import importlib.util
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from tickwork.errors import InvalidInput
from tickwork.importers import Imported, quartz, sqldump
from tickwork.jobspec import JobSpec

_CALL = re.compile(r"^\s*([A-Za-z_][\w]*(?:\.[A-Za-z_][\w]*)+)\s*(?:\((.*)\))?\s*\Z", re.S)
_JAVA_NUMBER = re.compile(r"(?<![\w.'\"])(\d+(?:\.\d+)?)[LlDdFf](?![\w'\"])")
_JAVA_WORDS = {"true": "True", "false": "False", "null": "None"}
_MISFIRE = {"0": "run_once", "1": "run_all", "2": "run_once", "3": "skip"}


def parse_invoke_target(text: str) -> tuple[str, list[Any], dict[str, Any]]:
    """``a.b.func('x', 2L, flag=true)`` -> ("a.b:func", ["x", 2], {"flag": True}); raises
    InvalidInput("invoke_target", reason) for anything that is not that shape. Each call
    its own lists (a table repeats a target on many rows: parsed once)."""
    ref, args, kwargs = _parse_invoke_target(text)
    if not args and not kwargs:
        return ref, [], {}
    return ref, copy.deepcopy(args), copy.deepcopy(kwargs)


@lru_cache(maxsize=4096)
def _parse_invoke_target(text: str) -> tuple[str, list[Any], dict[str, Any]]:
    match = _CALL.match(text or "")
    if match is None:
        raise InvalidInput(
            "invoke_target", f"{text!r} is not package.module.function(literal arguments)"
        )
    path, inside = match.group(1), match.group(2)
    module, _, func = path.rpartition(".")
    if "." not in module and importlib.util.find_spec(module) is None:  # finds, runs nothing
        raise InvalidInput(
            "invoke_target",
            f"{text!r}: {module!r} is no Python module; it reads like a Spring bean of "
            "RuoYi's Java side: point the job at the Python function that does the work",
        )
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    if inside and inside.strip():
        source = _JAVA_NUMBER.sub(r"\1", inside)
        source = re.sub(r"\b(true|false|null)\b", lambda m: _JAVA_WORDS[m.group(1)], source)
        try:
            call = ast.parse(f"f({source})", mode="eval").body
        except SyntaxError:
            raise InvalidInput(
                "invoke_target", f"{text!r}: the arguments are not literals"
            ) from None
        assert isinstance(call, ast.Call)
        try:
            args = [ast.literal_eval(a) for a in call.args]
            for keyword in call.keywords:
                if keyword.arg is None:
                    raise ValueError("**")
                kwargs[keyword.arg] = ast.literal_eval(keyword.value)
        except ValueError:
            raise InvalidInput(
                "invoke_target",
                f"{text!r}: only literal arguments map (strings, numbers, true/false/null); "
                "anything else would need evaluating",
            ) from None
    return f"{module}:{func}", args, kwargs


def read(source: str, *, prefix: str = "ruoyi") -> Imported:
    out = Imported()
    for row in sqldump.rows(source, "sys_job"):
        where = f"sys_job job_id={row.get('job_id')} ({row.get('job_name')})"
        try:
            out.jobs.append((where, _spec(row, prefix)))
        except InvalidInput as exc:
            out.refuse(where, f"{exc.field}: {exc.reason}")
        if row.get("remark"):
            out.note(where, f"remark {row['remark']!r} kept as the description")
    return out


def _spec(row: Mapping[str, Any], prefix: str) -> JobSpec:
    ref, args, kwargs = parse_invoke_target(str(row.get("invoke_target") or ""))
    cron = quartz.to_tickwork(str(row.get("cron_expression") or ""))
    return JobSpec(
        target=ref,
        trigger=cron,
        args=args,
        kwargs=kwargs,
        id=f"{prefix}-{row['job_id']}",
        name=str(row.get("job_name") or row["job_id"])[:200],
        group=str(row.get("job_group") or "DEFAULT"),
        description=str(row.get("remark") or f"imported from RuoYi sys_job {row['job_id']}"),
        paused=str(row.get("status", "0")) == "1",
        misfire_policy=_MISFIRE.get(str(row.get("misfire_policy", "0")), "run_once"),
        concurrency_policy="forbid" if str(row.get("concurrent", "1")) == "1" else "allow",
    )
