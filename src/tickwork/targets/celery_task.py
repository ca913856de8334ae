"""The celery kind: publish a task by name to the user's own Celery app and workers.

``{kind: celery, task: "schedule.clean_messages", app: "pkg.module:celery_app", queue:
"dataset", args: [], kwargs: {}, options: {...}}`` is what a Celery beat entry does at its
instant (seed 003's schedule), with a run record: the run records the publish (the task id);
when the app has a result backend the run follows the task to its end state (SUCCESS,
FAILURE, REVOKED) and records it, bounded by the job's timeout; without one it succeeds at
the publish and says plainly that the task's outcome is not tracked.

The app is imported from the deployment's own code, like a Python target's module (the same
allowlist applies, ``TICKWORK_ALLOWED_TARGETS``); its broker is the app's own.
"""

from __future__ import annotations

import importlib
import json
import threading
from collections.abc import Mapping
from typing import Any

from tickwork.queue_names import queue_name
from tickwork.targets.base import (
    Execution,
    Kind,
    Output,
    TargetFailed,
    Text,
    only_keys,
    refuse,
    text_field,
)

FIELDS = ("task", "app", "queue", "args", "kwargs", "options", "track")
# apply_async options a beat entry may carry (beat_schedule's "options"); routing_key and
# exchange go with queue; the rest are left to the app's configuration.
OPTIONS = ("priority", "expires", "countdown", "routing_key", "exchange", "headers")
POLL_S = 0.2


def load_app(ref: str) -> Any:
    """The object ``"pkg.module:attr"`` names (a Celery app); ImportError or AttributeError."""
    module_name, _, attr = ref.partition(":")
    obj: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


def _json(name: str, value: Any) -> Any:
    try:
        json.dumps(value)
    except (TypeError, ValueError) as exc:
        raise refuse(name, f"must be JSON ({exc})", "json_type") from None
    return value


def _app_ref(spec: Mapping[str, Any]) -> str:
    ref = text_field(spec, "app", required=True, limit=500) or ""
    module_name, sep, attr = ref.partition(":")
    names = [*module_name.split("."), *attr.split(".")]
    if not sep or not all(n.isidentifier() for n in names):
        raise refuse("app", f"{ref!r} is not a 'package.module:celery_app' reference", "bad_ref")
    return ref


class CeleryTaskKind(Kind):
    name = "celery"
    label = Text("Celery task", "Celery 任务")

    def validate(self, spec: Mapping[str, Any]) -> dict[str, Any]:
        only_keys(spec, FIELDS, self.name)
        task = text_field(spec, "task", required=True, limit=200) or ""
        out: dict[str, Any] = {"task": task, "app": _app_ref(spec)}
        queue = queue_name(spec.get("queue"), "target.queue")
        if queue is not None:
            out["queue"] = queue
        args = spec.get("args") or []
        if not isinstance(args, list):
            raise refuse("args", "must be a list", "list_type")
        kwargs = spec.get("kwargs") or {}
        if not isinstance(kwargs, Mapping) or not all(isinstance(k, str) for k in kwargs):
            raise refuse("kwargs", "must be a mapping of names to values", "mapping_type")
        out["args"] = _json("args", list(args))
        out["kwargs"] = _json("kwargs", dict(kwargs))
        options = spec.get("options") or {}
        if not isinstance(options, Mapping):
            raise refuse("options", "must be a mapping", "mapping_type")
        for key in options:
            if key not in OPTIONS:
                raise refuse(
                    f"options.{key}",
                    f"is not an option Tickwork passes on (options: {', '.join(OPTIONS)})",
                    "unknown_field",
                    kind=self.name,
                )
        if options:
            out["options"] = _json("options", dict(options))
        track = spec.get("track", True)
        if not isinstance(track, bool):
            raise refuse("track", f"must be true or false, not {track!r}", "bool_type")
        if not track:
            out["track"] = False
        return out

    def describe(self, spec: Mapping[str, Any]) -> Text:
        task = str(spec.get("task", ""))
        queue = spec.get("queue")
        if queue:
            return Text(f"{task} on queue {queue}", f"{task}（队列 {queue}）")
        return Text(task, task)

    def execution(self, spec: Mapping[str, Any], timeout_s: float | None) -> Execution:
        return CeleryTaskExecution(spec, timeout_s)


class CeleryTaskExecution(Execution):
    def __init__(self, spec: Mapping[str, Any], timeout_s: float | None) -> None:
        self.spec = spec
        self.timeout_s = timeout_s
        self._stop = threading.Event()

    def stop(self) -> None:
        self._stop.set()

    def run(self, out: Output) -> Any:
        spec = self.spec
        try:
            app = load_app(str(spec["app"]))
        except Exception as exc:
            raise TargetFailed(f"app {spec['app']!r} cannot be loaded: {exc}") from exc
        options: dict[str, Any] = dict(spec.get("options") or {})
        if spec.get("queue"):
            options["queue"] = spec["queue"]
        result = app.send_task(
            spec["task"], args=spec.get("args") or [], kwargs=spec.get("kwargs") or {}, **options
        )
        task_id = str(result.id)
        out.write(f"published {spec['task']} as task {task_id}\n")
        backend = getattr(app.conf, "result_backend", None)
        if not spec.get("track", True) or not backend or str(backend).startswith("disabled"):
            why = "tracking is off for this job" if backend else "the app has no result backend"
            out.write(f"the task's outcome is not tracked: {why}\n")
            return {"task_id": task_id, "state": "PUBLISHED", "tracked": False, "note": why}
        while not result.ready():
            if self._stop.wait(POLL_S):
                # A timeout or a cancel: the task is revoked, so it stops or never starts.
                app.control.revoke(task_id, terminate=True)
                raise TargetFailed(
                    f"task {task_id} revoked: the run was stopped", {"task_id": task_id}
                )
        state = str(result.state)
        value = result.result
        traceback = getattr(result, "traceback", None)
        summary: dict[str, Any] = {"task_id": task_id, "state": state, "tracked": True}
        out.write(f"task {task_id} ended {state}\n")
        if state == "SUCCESS":
            summary["result"] = _jsonable(value)
            return summary
        summary["error"] = repr(value)
        if traceback:
            out.write(str(traceback))
        raise TargetFailed(f"task {spec['task']} ({task_id}) ended {state}: {value!r}", summary)


def _jsonable(value: Any) -> Any:
    try:
        json.dumps(value)
        return value
    except (TypeError, ValueError):
        return repr(value)


KIND = CeleryTaskKind()
