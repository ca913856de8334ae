"""Job definition files (YAML or JSON), synced declaratively: the jobs a file defines are
created, updated and removed with it; jobs created elsewhere are never touched.

Accepted entry formats (mixable in one file; detected per entry):

* Tickwork's own: ``{id, target, cron | interval | date | trigger, ...options}``, where
  ``target`` is ``"pkg.mod:func"`` or another kind's mapping (``{kind: shell, command: [...]}``,
  ``{kind: http, url: ...}``, ``{kind: sql, ...}``, ``{kind: script, ...}``: docs/targets.md);
* the ``default_tasks`` YAML of a Flask scheduler console: ``{id, name, function, trigger_type,
  trigger_params, enabled, description, category, misfire_grace_time, max_instances}``;
* RuoYi-FastAPI's task configuration (a TaskConfig list): ``{task_id, task_name, task_func,
  trigger_type, trigger_args, enabled, description}``;
* Flask-APScheduler's ``JOBS`` dicts: ``{id, func: "pkg.mod:fn", trigger: "interval",
  minutes: 3, misfire_grace_time: 30, ...}``.

The top level is a list of entries or a mapping holding one under ``jobs``, ``default_tasks``,
``JOBS`` or ``tasks``; a top-level ``module:`` completes bare function names. A file can also be
a Python reference ``package.module:ATTRIBUTE`` to a list of such dicts (Flask config classes).
"""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from tickwork.bulk_build import BulkBuilder
from tickwork.errors import InvalidInput
from tickwork.jobspec import UNSET, JobSpec, from_apscheduler
from tickwork.store.records import JobRecord

_LIST_KEYS = ("jobs", "default_tasks", "JOBS", "tasks")
_NATIVE_OPTIONS = {
    "name": "name",
    "description": "description",
    "group": "group",
    "tags": "tags",
    "args": "args",
    "kwargs": "kwargs",
    "timezone": "timezone",
    "executor": "executor",
    "queue": "queue",
    "misfire_policy": "misfire_policy",
    "misfire_grace_s": "misfire_grace_s",
    "max_catchup": "max_catchup",
    "concurrency": "concurrency_policy",
    "concurrency_policy": "concurrency_policy",
    "max_instances": "max_instances",
    "timeout_s": "timeout_s",
    "timeout": "timeout_s",
    "retries": "retries",
    "retry_backoff_s": "retry_backoff_s",
    "retry_backoff_max_s": "retry_backoff_max_s",
    "secret_keys": "secret_keys",
    "parameters": "parameters",
    "paused": "paused",
}
# What a native entry may hold besides its options.
_NATIVE_KNOWN = frozenset(
    {"id", "target", "cron", "interval", "date", "trigger", "info", "then", "enabled"}
) | frozenset(_NATIVE_OPTIONS)
# APScheduler add_job keywords accepted in Flask-APScheduler dicts besides trigger arguments.
_APS_JOB_KEYS = {
    "id", "func", "trigger", "args", "kwargs", "name", "misfire_grace_time", "coalesce",
    "max_instances", "next_run_time", "jobstore", "executor", "replace_existing",
}  # fmt: skip


def owner_ref(source: str) -> str:
    """How jobs remember the file that owns them: an absolute path or a Python reference."""
    return source if _is_python_ref(source) else str(Path(source).resolve())


def load_job_file(
    source: str, *, now_us: int, default_tz: str, check_targets: bool = True
) -> list[JobRecord]:
    """Parse and validate one file; raises InvalidInput naming the file, the job, the field.
    The facade syncs what this returns (``Tickwork.sync_job_files``)."""
    records: list[JobRecord] = []
    builder = BulkBuilder(now_us=now_us, default_tz=default_tz, by="config")
    for where, spec in read_specs(source):
        try:
            spec.check_target = check_targets
            spec.owner, spec.owner_ref = "config", owner_ref(source)
            record = builder.build(spec)  # build_record's, what the jobs share checked once
        except InvalidInput as exc:
            raise InvalidInput(
                f"{where}: {exc.field}", exc.reason, code=exc.code, params=exc.params
            ) from None
        records.append(record)
    return records


def read_specs(source: str) -> list[tuple[str, JobSpec]]:
    """The entries of a job file (any accepted format) as JobSpecs, not validated yet, each
    with where it is (``"jobs.yaml: job 'nightly'"``) for error messages. Ids must be
    unique in the file."""
    label = Path(source).name if not _is_python_ref(source) else source
    data = _read(source, label)
    module = None
    if isinstance(data, Mapping):
        module = data.get("module")
        key = next((k for k in _LIST_KEYS if k in data), None)
        if key is None and "workflows" in data:
            return []  # only workflows (tickwork.workflows.files)
        if key is None:
            raise InvalidInput(
                label, f"expected a list of jobs under one of {', '.join(_LIST_KEYS)}"
            )
        data = data[key]
    if not isinstance(data, list):
        raise InvalidInput(label, "expected a list of job entries")
    specs: list[tuple[str, JobSpec]] = []
    seen: set[str] = set()
    for index, entry in enumerate(data):
        where = f"{label}: job #{index + 1}"
        if not isinstance(entry, Mapping):
            raise InvalidInput(where, "expected a mapping")
        job_id = entry.get("id", entry.get("task_id"))
        if job_id is not None:
            where = f"{label}: job {job_id!r}"
        try:
            spec = entry_to_spec(entry, module=module)
        except InvalidInput as exc:
            raise InvalidInput(
                f"{where}: {exc.field}", exc.reason, code=exc.code, params=exc.params
            ) from None
        if spec.id in seen:
            raise InvalidInput(f"{where}: id", "is defined twice in this file")
        seen.add(str(spec.id))
        specs.append((where, spec))
    return specs


def entry_to_spec(entry: Mapping[str, Any], *, module: str | None = None) -> JobSpec:
    """One entry of any accepted format -> a JobSpec (not validated yet)."""
    if "task_id" in entry:
        return _from_task_config(entry, module)
    if "function" in entry or "trigger_type" in entry:
        return _from_default_tasks(entry, module)
    if "func" in entry:
        return _from_apscheduler_dict(entry, module)
    return _from_native(entry, module)


def _from_native(entry: Mapping[str, Any], module: str | None) -> JobSpec:
    if "id" not in entry:
        raise InvalidInput("id", "every job in a file needs an id (the file owns it by id)")
    if "target" not in entry:
        raise InvalidInput("target", "missing (package.module:function, or {kind: ..., ...})")
    kinds = [k for k in ("cron", "interval", "date", "trigger") if k in entry]
    if len(kinds) != 1:
        raise InvalidInput("trigger", "give exactly one of cron, interval, date, trigger")
    target = entry["target"]
    ref: str | dict[str, Any] = (
        dict(target) if isinstance(target, Mapping) else _ref(target, module, "target")
    )  # a mapping: another kind, {kind: shell, command: [...]}
    kind = kinds[0]
    value = entry[kind]
    trigger: Any
    trigger_args: dict[str, Any] = {}
    if kind == "cron":
        if not isinstance(value, str):
            raise InvalidInput("cron", "must be a cron expression string")
        trigger = value
    elif kind == "interval":
        if not isinstance(value, Mapping):
            raise InvalidInput("interval", "must be a mapping such as {minutes: 30}")
        trigger, trigger_args = "interval", dict(value)
    elif kind == "date":
        trigger, trigger_args = "date", {"run_date": value}
    else:
        if not isinstance(value, Mapping) or "kind" not in value:
            raise InvalidInput("trigger", "must be a mapping with a kind (cron, interval, date)")
        if "tz" in value:
            # A stored trigger spec, as `tickwork jobs list --json` writes it: taken whole,
            # so an exported schedule (an interval's anchor included) comes back the same.
            trigger = dict(value)
        else:
            trigger_args = dict(value)
            trigger = trigger_args.pop("kind")
    # info: read-only facts of an export; then: the jobs to run after a success, read by
    # tickwork.workflows.files. The options in one JobSpec call (a million-entry file).
    unknown = entry.keys() - _NATIVE_KNOWN
    if unknown:
        raise InvalidInput(next(k for k in entry if k in unknown), "unknown job option")
    options = {_NATIVE_OPTIONS[k]: v for k, v in entry.items() if k in _NATIVE_OPTIONS}
    if "enabled" in entry:  # the later of enabled and paused counts
        keys = list(entry)
        if "paused" not in entry or keys.index("enabled") > keys.index("paused"):
            options["paused"] = not bool(entry["enabled"])
    return JobSpec(
        target=ref, id=str(entry["id"]), trigger=trigger, trigger_args=trigger_args, **options
    )


def _from_default_tasks(entry: Mapping[str, Any], module: str | None) -> JobSpec:
    known = {
        "id", "name", "function", "trigger_type", "trigger_params", "enabled", "description",
        "category", "misfire_grace_time", "max_instances", "args", "kwargs", "timezone",
    }  # fmt: skip
    _only(entry, known)
    if "id" not in entry:
        raise InvalidInput("id", "missing")
    if "function" not in entry:
        raise InvalidInput("function", "missing")
    spec = JobSpec(
        target=_ref(entry["function"], module, "function"),
        trigger=entry.get("trigger_type", "cron"),
        trigger_args=dict(entry.get("trigger_params") or {}),
        id=str(entry["id"]),
        name=entry.get("name"),
        description=entry.get("description", ""),
        group=entry.get("category", "default"),
        args=entry.get("args", ()),
        kwargs=entry.get("kwargs", {}),
        timezone=entry.get("timezone"),
        paused=not entry.get("enabled", True),
        max_instances=entry.get("max_instances", 1),
    )
    if "misfire_grace_time" in entry:
        spec.misfire_grace_s = entry["misfire_grace_time"]
    return spec


def _from_task_config(entry: Mapping[str, Any], module: str | None) -> JobSpec:
    _only(
        entry,
        {"task_id", "task_name", "task_func", "trigger_type", "trigger_args", "enabled",
         "description"},
    )  # fmt: skip
    if "task_func" not in entry:
        raise InvalidInput("task_func", "missing")
    return JobSpec(
        target=_ref(entry["task_func"], module, "task_func"),
        trigger=entry.get("trigger_type", "cron"),
        trigger_args=dict(entry.get("trigger_args") or {}),
        id=str(entry["task_id"]),
        name=entry.get("task_name"),
        description=entry.get("description", ""),
        paused=not entry.get("enabled", True),
    )


def _from_apscheduler_dict(entry: Mapping[str, Any], module: str | None) -> JobSpec:
    if "id" not in entry:
        raise InvalidInput("id", "missing")
    trigger_args = {k: v for k, v in entry.items() if k not in _APS_JOB_KEYS}
    policy = from_apscheduler(
        coalesce=entry.get("coalesce", UNSET),
        misfire_grace_time=entry.get("misfire_grace_time", UNSET),
    )
    spec = JobSpec(
        target=_ref(entry["func"], module, "func"),
        trigger=entry.get("trigger"),
        trigger_args=trigger_args,
        id=str(entry["id"]),
        name=entry.get("name"),
        args=entry.get("args", ()),
        kwargs=entry.get("kwargs", {}),
        executor=entry.get("executor"),
        max_instances=entry.get("max_instances", 1),
        next_run_time=entry.get("next_run_time", UNSET),
    )
    if "misfire_policy" in policy:
        spec.misfire_policy = policy["misfire_policy"]
    if "misfire_grace_s" in policy:
        spec.misfire_grace_s = policy["misfire_grace_s"]
    return spec


def _ref(value: Any, module: str | None, field: str) -> str:
    """'pkg.mod:fn' as is; 'pkg.mod.fn' (RuoYi-FastAPI) split at the last dot; a bare name joined
    with the file's ``module:``."""
    if not isinstance(value, str) or not value:
        raise InvalidInput(field, "must be a 'package.module:function' reference")
    if ":" in value:
        return value
    if "." in value:
        mod, _, name = value.rpartition(".")
        return f"{mod}:{name}"
    if module:
        return f"{module}:{value}"
    raise InvalidInput(
        field,
        f"{value!r} names no module: write 'package.module:{value}' or set 'module:' at the "
        "top of the file",
    )


def _only(entry: Mapping[str, Any], known: set[str]) -> None:
    for key in entry:
        if key not in known:
            raise InvalidInput(str(key), "unknown key for this entry format")


_PYTHON_REF = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*\Z")


def _is_python_ref(source: str) -> bool:
    """'package.module:ATTR' (a Python list of dicts), as opposed to a file path."""
    return bool(_PYTHON_REF.match(source)) and not source.endswith((".yaml", ".yml", ".json"))


def read_document(source: str) -> Any:
    """A job file's parsed content (or the Python object a reference names)."""
    return _read(source, Path(source).name if not _is_python_ref(source) else source)


def _read(source: str, label: str) -> Any:
    if _is_python_ref(source):
        module_name, _, attr_path = source.partition(":")
        try:
            obj: Any = importlib.import_module(module_name)
            for part in attr_path.split("."):
                obj = getattr(obj, part)
        except (ImportError, AttributeError) as exc:
            raise InvalidInput(label, f"cannot load: {exc}") from None
        return obj
    path = Path(source)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(label, f"cannot read: {exc.strerror}") from None
    try:
        if path.suffix == ".json":
            return json.loads(text)
        return yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise InvalidInput(label, f"not valid {path.suffix.lstrip('.') or 'YAML'}: {exc}") from None


def specs_from_dicts(entries: Sequence[Mapping[str, Any]]) -> list[JobSpec]:
    """JobSpecs from in-memory dicts (e.g. a Flask config's JOBS list)."""
    return [entry_to_spec(e) for e in entries]
