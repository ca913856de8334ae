"""The seed's task manager classes (RuoYi-FastAPI's ``TaskRegistry``, ``TaskController``,
``TaskMonitor``, ``TaskPerformanceMonitor``, ``TaskConfigLoader``) kept as the app's interface,
each method one call of Tickwork's API. What the seed kept in memory (the registered tasks, the
execution statistics) Tickwork keeps in its database: it survives restarts and is the same in
every worker.
"""

from __future__ import annotations

import json
import logging
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from tickwork import (
    EVENT_ALL,
    EVENT_JOB_ADDED,
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MODIFIED,
    EVENT_JOB_REMOVED,
    InvalidInput,
    Job,
    Tickwork,
)
from tickwork.clock import us_to_datetime
from tickwork.exporting import task_config

log = logging.getLogger("app.scheduling")


@dataclass
class TaskConfig:
    """One entry of ``config/tasks.json`` (the seed's shape, kept as it is)."""

    task_id: str
    task_name: str
    task_func: str
    trigger_type: str
    trigger_args: dict[str, Any]
    enabled: bool = True
    description: str = ""


class TaskConfigLoader:
    def __init__(self, config_file: Path) -> None:
        self.config_file = config_file

    def load_config(self) -> list[TaskConfig]:
        """The file's tasks; a malformed entry is refused naming it (the seed fell back to its
        defaults silently)."""
        data = json.loads(self.config_file.read_text(encoding="utf-8"))
        tasks = []
        for index, entry in enumerate(data):
            try:
                tasks.append(TaskConfig(**entry))
            except TypeError as exc:
                raise InvalidInput(f"{self.config_file.name}[{index}]", str(exc)) from None
        return tasks

    def save_config(self, tw: Tickwork) -> list[dict[str, Any]]:
        """Write the jobs back to the file, in its shape (``tickwork.exporting``: a job the
        shape cannot hold is refused naming it, and nothing is written); the entries."""
        entries = [task_config(job.record) for job in tw.get_jobs()]
        text = json.dumps(entries, ensure_ascii=False, indent=2) + "\n"
        self.config_file.write_text(text, encoding="utf-8")
        return entries


class TaskRegistry:
    def __init__(self, tw: Tickwork) -> None:
        self.tw = tw

    def register_task(self, task_id: str, task_func: Any, trigger_type: str, **args: Any) -> Job:
        return self.tw.add_job(task_func, trigger_type, id=task_id, replace_existing=True,
                               **args)  # fmt: skip

    def register_config(self, task: TaskConfig) -> Job:
        return self.register_task(task.task_id, task.task_func, task.trigger_type,
                                  name=task.task_name, description=task.description,
                                  paused=not task.enabled, **task.trigger_args)  # fmt: skip

    def register_cron_task(self, task_id: str, task_func: Any, cron_expression: str) -> Job:
        """A 6-field cron string (seconds first: "0 0 2 * * *"), read by Tickwork as it is."""
        if len(cron_expression.split()) != 6:
            raise InvalidInput("cron", "must have 6 fields: second minute hour day month weekday")
        return self.tw.add_job(task_func, cron_expression, id=task_id, replace_existing=True)

    def register_interval_task(self, task_id: str, task_func: Any, **interval_args: Any) -> Job:
        return self.register_task(task_id, task_func, "interval", **interval_args)

    def register_date_task(self, task_id: str, task_func: Any, run_date: datetime) -> Job:
        return self.register_task(task_id, task_func, "date", run_date=run_date)

    def schedule_delayed_task(self, delay_seconds: float, task_func: Any, *args: Any,
                              **kwargs: Any) -> Job:  # fmt: skip
        """Run once ``delay_seconds`` from now (Tickwork's clock); its id names the instant."""
        run_time = us_to_datetime(self.tw.clock.now_us()) + timedelta(seconds=delay_seconds)
        return self.tw.add_job(task_func, "date", run_date=run_time, args=args, kwargs=kwargs,
                               id=f"delayed_task_{int(run_time.timestamp() * 1000)}")  # fmt: skip


class TaskController:
    def __init__(self, tw: Tickwork) -> None:
        self.tw = tw

    def _job(self, task_id: str) -> Job | None:
        return self.tw.get_job(task_id)

    def start_task(self, task_id: str) -> Job | None:
        job = self._job(task_id)
        return job.resume() if job else None

    def stop_task(self, task_id: str) -> Job | None:
        job = self._job(task_id)
        return job.pause() if job else None

    def remove_task(self, task_id: str) -> bool:
        job = self._job(task_id)
        if job is None:
            return False
        job.remove()
        return True

    def modify_task(
        self, task_id: str, trigger: str | None = None, **trigger_args: Any
    ) -> Job | None:
        job = self._job(task_id)
        return job.reschedule(trigger, **trigger_args) if job else None

    def run_task(self, task_id: str) -> int | None:
        job = self._job(task_id)
        return job.run() if job else None

    def get_task_status(self, task_id: str) -> dict[str, Any] | None:
        job = self._job(task_id)
        return None if job is None else status(job)

    def get_all_tasks(self) -> list[dict[str, Any]]:
        return [status(job) for job in self.tw.get_jobs()]


def status(job: Job) -> dict[str, Any]:
    return {
        "id": job.id,
        "name": job.name,
        "next_run_time": job.next_run_time.isoformat() if job.next_run_time else None,
        "trigger": str(job.trigger),
        "func_name": job.func_ref,
        "args": list(job.args),
        "kwargs": job.kwargs,
        "paused": job.paused,
    }


@dataclass
class TaskMonitor:
    """Job events as they happen (the seed's listener); the counts come from the runs."""

    tw: Tickwork
    events: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=200))
    monitoring: bool = False

    def start_monitoring(self) -> None:
        if not self.monitoring:
            self.tw.add_listener(self.task_listener, EVENT_ALL)
            self.monitoring = True

    def stop_monitoring(self) -> None:
        if self.monitoring:
            self.tw.remove_listener(self.task_listener)
            self.monitoring = False

    def task_listener(self, event: Any) -> None:
        names = {EVENT_JOB_EXECUTED: "executed", EVENT_JOB_ERROR: "error",
                 EVENT_JOB_ADDED: "added", EVENT_JOB_REMOVED: "removed",
                 EVENT_JOB_MODIFIED: "modified"}  # fmt: skip
        name = names.get(event.code)
        if name is None or not hasattr(event, "job_id"):
            return
        entry = {"event": name, "job_id": event.job_id, "run_id": getattr(event, "run_id", None)}
        if name == "error":
            entry["error"] = getattr(event, "error", None)
            log.error("task %s failed: %s", event.job_id, entry["error"])
        self.events.append(entry)


class TaskPerformanceMonitor:
    """Per-job execution statistics, read from Tickwork's run records (``tw.stats``)."""

    def __init__(self, tw: Tickwork) -> None:
        self.tw = tw

    def get_performance_report(self) -> dict[str, Any]:
        report = self.tw.stats()
        return {
            "total_tasks": len(report.jobs),
            "task_details": {
                s.job_id: {
                    "execution_count": s.runs,
                    "success_rate": s.success_rate,
                    "min_execution_time": s.duration_min_s,
                    "max_execution_time": s.duration_max_s,
                    "avg_execution_time": s.duration_avg_s,
                    "last_status": s.last_status,
                }
                for s in report.jobs
            },
        }

    def get_slow_tasks(self, threshold: float = 1.0) -> list[dict[str, Any]]:
        """Jobs whose average run took longer than ``threshold`` seconds, slowest first."""
        slow = [
            {"task_id": s.job_id, "avg_execution_time": s.duration_avg_s,
             "execution_count": s.runs}
            for s in self.tw.stats(slow_s=threshold).jobs
            if s.duration_avg_s is not None and s.duration_avg_s > threshold
        ]  # fmt: skip
        return sorted(slow, key=lambda t: t["avg_execution_time"], reverse=True)
