"""xxl-job's ``xxl_job_info`` table (2.x; 2.3+ ``schedule_type``/``schedule_conf``, older
``job_cron``) -> Tickwork jobs.

What maps: the Quartz cron (day-of-week renumbered, see ``quartz``) or FIX_RATE seconds, the
description, ``trigger_status`` (0 = paused), ``executor_timeout`` (seconds), the retry count,
the block strategy (serial / discard later / cover early -> allow one at a time / forbid /
replace), the misfire strategy, the executor group (``xxl_job_group.app_name`` when the
source has it). ``executor_param`` becomes the job's one positional argument.

What a person decides: xxl-job runs a BEAN job by a Java handler name on a remote executor;
give each handler its Python function (``handlers={"demoJobHandler": "app.jobs:demo"}`` or a
``handler_module`` whose functions are named like the handlers). GLUE_SHELL jobs become shell
jobs running their source with /bin/sh; other GLUE kinds are refused with the reason.
``child_jobid`` chains are reported (use a workflow or depends_on)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tickwork.errors import InvalidInput
from tickwork.importers import Imported, quartz, sqldump
from tickwork.jobspec import JobSpec

_BLOCK = {
    "SERIAL_EXECUTION": ("forbid", "SERIAL_EXECUTION queues fires behind the running one; "
                         "Tickwork has no queue: a fire while one runs is recorded skipped"),
    "DISCARD_LATER": ("forbid", None),
    "COVER_EARLY": ("replace", None),
}  # fmt: skip
_MISFIRE = {"DO_NOTHING": "skip", "FIRE_ONCE_NOW": "run_once"}


def _groups(source: str, dump: str | None) -> dict[int, str]:
    try:
        return {
            int(row["id"]): str(row.get("app_name") or row.get("title") or row["id"])
            for row in sqldump.rows(source, "xxl_job_group", dump=dump)
        }
    except InvalidInput:
        return {}


def read(
    source: str,
    *,
    handlers: Mapping[str, str] | None = None,
    handler_module: str | None = None,
    prefix: str = "xxl",
) -> Imported:
    out = Imported()
    dump = None if sqldump.is_url(source) else sqldump.read_dump(source)
    groups = _groups(source, dump)
    for row in sqldump.rows(source, "xxl_job_info", dump=dump):
        where = f"xxl_job_info id={row.get('id')}"
        try:
            spec = _spec(row, groups, handlers or {}, handler_module, prefix, out, where)
        except InvalidInput as exc:
            out.refuse(where, f"{exc.field}: {exc.reason}")
            continue
        if spec is not None:
            out.jobs.append((where, spec))
    return out


def _target(
    row: Mapping[str, Any], handlers: Mapping[str, str], module: str | None
) -> tuple[str | dict[str, Any], list[Any]]:
    glue = str(row.get("glue_type") or "BEAN").upper()
    param = row.get("executor_param") or ""
    if glue == "GLUE_SHELL":
        source = str(row.get("glue_source") or "")
        if not source.strip():
            raise InvalidInput("glue_source", "the GLUE_SHELL job has no script")
        return {"kind": "shell", "command": ["/bin/sh", "-c", source, "xxl-job", str(param)]}, []
    if glue != "BEAN":
        raise InvalidInput(
            "glue_type",
            f"{glue} code runs inside xxl-job's executor; push it as a Tickwork script "
            "(tickwork scripts push) and create the job by hand",
        )
    handler = str(row.get("executor_handler") or "")
    if not handler:
        raise InvalidInput("executor_handler", "is empty")
    ref = handlers.get(handler) or (f"{module}:{handler}" if module else None)
    if ref is None:
        raise InvalidInput(
            "executor_handler",
            f"the Java handler {handler!r} has no Python function: give --handler "
            f"{handler}=package.module:function (or --handler-module)",
        )
    return ref, [param] if param else []


def _spec(
    row: Mapping[str, Any],
    groups: Mapping[int, str],
    handlers: Mapping[str, str],
    module: str | None,
    prefix: str,
    out: Imported,
    where: str,
) -> JobSpec | None:
    kind = str(row.get("schedule_type") or ("CRON" if row.get("job_cron") else "NONE")).upper()
    conf = str(row.get("schedule_conf") or row.get("job_cron") or "").strip()
    if kind == "NONE":
        out.refuse(where, "schedule_type NONE: the job is only triggered by hand (run it with "
                   "tickwork jobs run after creating it with a schedule)")  # fmt: skip
        return None
    target, args = _target(row, handlers, module)
    spec = JobSpec(target=target, args=args, id=f"{prefix}-{row['id']}")
    if kind == "CRON":
        spec.trigger = quartz.to_tickwork(conf)
    elif kind == "FIX_RATE":
        try:
            seconds = int(conf)
        except ValueError:
            raise InvalidInput("schedule_conf", f"{conf!r} is not a number of seconds") from None
        spec.trigger, spec.trigger_args = "interval", {"seconds": seconds}
    else:
        raise InvalidInput("schedule_type", f"{kind} is not CRON, FIX_RATE or NONE")
    spec.name = str(row.get("job_desc") or spec.id)[:200]
    group = row.get("job_group")
    spec.group = groups.get(int(group), f"xxl-group-{group}") if group is not None else "xxl-job"
    spec.paused = str(row.get("trigger_status", 1)) == "0"
    timeout = int(row.get("executor_timeout") or 0)
    spec.timeout_s = float(timeout) if timeout > 0 else None
    spec.retries = max(0, int(row.get("executor_fail_retry_count") or 0))
    block = str(row.get("executor_block_strategy") or "SERIAL_EXECUTION").upper()
    policy, note = _BLOCK.get(block, ("forbid", f"block strategy {block} is unknown: forbid"))
    spec.concurrency_policy = policy
    if note:
        out.note(where, note)
    misfire = str(row.get("misfire_strategy") or "DO_NOTHING").upper()
    spec.misfire_policy = _MISFIRE.get(misfire, "skip")
    author = row.get("author")
    spec.description = (
        f"imported from xxl-job (id {row['id']}{', author ' + str(author) if author else ''})"
    )
    if row.get("alarm_email"):
        out.note(where, f"alarm_email {row['alarm_email']}: create an alert rule")
    if row.get("child_jobid"):
        out.note(
            where,
            f"child jobs {row['child_jobid']} ran after it: chain them with a workflow or "
            "depends_on",
        )
    return spec
