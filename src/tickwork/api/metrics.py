"""``/metrics`` in the Prometheus text format.

Two sources, chosen for cost: counters kept by this process from the engine's events (runs by
job and status, run durations and start lateness of the runs this node executed: per-node
counters that Prometheus sums across nodes), and gauges read from the shared database at
scrape time with indexed queries (jobs by state, the due backlog, queued runs, live nodes and
their heartbeat age, the scheduler's paused flag).
"""

from __future__ import annotations

import threading
from collections import defaultdict, deque
from typing import Any

from tickwork.engine.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_LOST,
    EVENT_JOB_MISSED,
    EVENT_JOB_SKIPPED,
)
from tickwork.service import Tickwork

DURATION_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 1800, 3600)
LATENESS_BUCKETS = (0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 60)
_MASK = EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED | EVENT_JOB_SKIPPED | EVENT_JOB_LOST


class Histogram:
    def __init__(self, buckets: tuple[float, ...]) -> None:
        self.buckets = buckets
        self.counts = [0] * len(buckets)
        self.total = 0
        self.sum = 0.0

    def observe(self, value: float) -> None:
        self.total += 1
        self.sum += value
        for i, bound in enumerate(self.buckets):
            if value <= bound:
                self.counts[i] += 1


class RunMetrics:
    """Counters fed by the event bus; durations and lateness are looked up in batches at
    scrape time (the events do not carry them)."""

    def __init__(self, tw: Tickwork) -> None:
        self.tw = tw
        self._lock = threading.Lock()
        self.runs: dict[tuple[str, str], int] = defaultdict(int)
        self._ended: deque[int] = deque(maxlen=50_000)
        self.duration = Histogram(DURATION_BUCKETS)
        self.lateness = Histogram(LATENESS_BUCKETS)
        self.job_duration: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
        tw.add_listener(self._on_event, _MASK)

    def _on_event(self, event: Any) -> None:
        with self._lock:
            self.runs[(event.job_id, event.status)] += 1
            if event.code in (EVENT_JOB_EXECUTED, EVENT_JOB_ERROR):
                self._ended.append(event.run_id)

    def _drain(self) -> None:
        with self._lock:
            ids = list(self._ended)
            self._ended.clear()
        if not ids:
            return
        timings = self.tw.run_timings(ids)
        with self._lock:
            for job_id, duration, late in timings:
                if duration is not None:
                    self.duration.observe(duration)
                    entry = self.job_duration[job_id]
                    entry[0] += 1
                    entry[1] += duration
                if late is not None:
                    self.lateness.observe(late)

    def render(self) -> str:
        self._drain()
        tw = self.tw
        out: list[str] = []
        with self._lock:
            _family(
                out, "tickwork_runs_total", "counter", "Runs ended on this node, by job and status"
            )
            for (job, status), n in sorted(self.runs.items()):
                out.append(f"tickwork_runs_total{_labels(job=job, status=status)} {n}")
            _histogram(
                out,
                "tickwork_run_duration_seconds",
                "Duration of runs executed on this node",
                self.duration,
            )
            _histogram(
                out,
                "tickwork_run_lateness_seconds",
                "Start of runs on this node after their scheduled instant",
                self.lateness,
            )
            _family(
                out,
                "tickwork_job_run_duration_seconds",
                "summary",
                "Duration of runs executed on this node, by job",
            )
            for job, (count, total) in sorted(self.job_duration.items()):
                out.append(f"tickwork_job_run_duration_seconds_sum{_labels(job=job)} {total}")
                out.append(
                    f"tickwork_job_run_duration_seconds_count{_labels(job=job)} {int(count)}"
                )
        counts = tw.job_counts()
        _family(out, "tickwork_jobs", "gauge", "Jobs by state (cluster-wide)")
        for state in ("scheduled", "paused", "completed"):
            out.append(f"tickwork_jobs{_labels(state=state)} {counts[state]}")
        backlog = tw.backlog()
        _family(out, "tickwork_due_backlog", "gauge", "Due jobs not yet claimed (cluster-wide)")
        out.append(f"tickwork_due_backlog {backlog['due_jobs']}")
        _family(
            out,
            "tickwork_queued_runs",
            "gauge",
            "Queued runs due but not taken by a node (cluster-wide)",
        )
        out.append(f"tickwork_queued_runs {backlog['queued_runs']}")
        now = tw.clock.now_us()
        nodes = tw.nodes()
        _family(out, "tickwork_nodes", "gauge", "Live nodes (cluster-wide)")
        out.append(f"tickwork_nodes {len(nodes)}")
        _family(
            out,
            "tickwork_node_heartbeat_age_seconds",
            "gauge",
            "Seconds since each live node's last heartbeat",
        )
        for node in nodes:
            age = max(0.0, (now - node.heartbeat_at) / 1e6)
            out.append(f"tickwork_node_heartbeat_age_seconds{_labels(node=node.id)} {age:.3f}")
        _family(out, "tickwork_scheduler_paused", "gauge", "1 while the scheduler is paused")
        out.append(f"tickwork_scheduler_paused {int(tw.is_paused())}")
        here = tw.scheduler_here()
        _family(
            out,
            "tickwork_scheduler_loop_alive",
            "gauge",
            "1 while this node's scheduler loop runs (absent on API-only nodes)",
        )
        if here["scheduler"]:
            out.append(f"tickwork_scheduler_loop_alive {int(bool(here['loop_alive']))}")
        _builtin_metrics(out, tw)
        _queue_gauges(out, tw)
        return "\n".join(out) + "\n"


def _builtin_metrics(out: list[str], tw: Tickwork) -> None:
    """The latest report of each built-in maintenance job: its numeric metrics and its
    findings by severity (issue 13)."""
    from tickwork.builtins.history import latest_reports
    from tickwork.builtins.result import SEVERITIES

    reports = latest_reports(tw)
    _family(out, "tickwork_builtin_metric", "gauge",
            "Latest metrics of built-in maintenance jobs, by job and metric")  # fmt: skip
    for record, report in reports:
        for name, value in sorted(report["metrics"].items()):
            if isinstance(value, bool) or not isinstance(value, int | float):
                continue
            out.append(f"tickwork_builtin_metric{_labels(job=record.id, metric=name)} {value}")
    _family(
        out,
        "tickwork_builtin_findings",
        "gauge",
        "Findings of the latest run of built-in maintenance jobs, by job and severity",
    )
    for record, report in reports:
        counts = dict.fromkeys(SEVERITIES, 0)
        for finding in report.get("findings") or []:
            if isinstance(finding, dict) and finding.get("severity") in counts:
                counts[finding["severity"]] += 1
        for severity, n in counts.items():
            out.append(f"tickwork_builtin_findings{_labels(job=record.id, severity=severity)} {n}")


def _queue_gauges(out: list[str], tw: Tickwork) -> None:
    """Celery queues and workers (issue 14): the figures of GET /api/queues."""
    from tickwork.api.routers.queues import queue_status

    figures, workers, now = queue_status(tw)
    for name, help_text, value in (
        ("tickwork_queue_backlog", "Runs handed to Celery, not started by a worker", "backlog"),
        ("tickwork_queue_running", "Runs of the queue running on workers", "running"),
        ("tickwork_queue_workers", "Live workers consuming the queue", "workers"),
        ("tickwork_queue_runs_per_minute", "Runs of the queue ended in the last minute",
         "runs_per_min"),
        ("tickwork_queue_oldest_waiting_seconds", "Wait of the queue's oldest backlog run",
         "oldest_waiting_s"),
    ):  # fmt: skip
        _family(out, name, "gauge", help_text)
        for f in figures:
            number = getattr(f, value)
            out.append(f"{name}{_labels(queue=f.queue)} {0 if number is None else number:g}")
    _family(out, "tickwork_worker_concurrency", "gauge", "Runs at once each live worker takes")
    for w in workers:
        out.append(f"tickwork_worker_concurrency{_labels(worker=w.node_id)} {w.concurrency}")
    _family(out, "tickwork_worker_running_runs", "gauge", "Runs running on each live worker")
    for w in workers:
        out.append(f"tickwork_worker_running_runs{_labels(worker=w.node_id)} {len(w.running)}")
    _family(
        out, "tickwork_worker_heartbeat_age_seconds", "gauge", "Seconds since a worker's heartbeat"
    )
    for w in workers:
        age = max(0.0, (now - w.heartbeat_at) / 1e6)
        out.append(f"tickwork_worker_heartbeat_age_seconds{_labels(worker=w.node_id)} {age:.3f}")


def _family(out: list[str], name: str, kind: str, help_text: str) -> None:
    out.append(f"# HELP {name} {help_text}")
    out.append(f"# TYPE {name} {kind}")


def _histogram(out: list[str], name: str, help_text: str, h: Histogram) -> None:
    _family(out, name, "histogram", help_text)
    for bound, n in zip(h.buckets, h.counts, strict=True):
        out.append(f'{name}_bucket{{le="{bound:g}"}} {n}')
    out.append(f'{name}_bucket{{le="+Inf"}} {h.total}')
    out.append(f"{name}_sum {h.sum}")
    out.append(f"{name}_count {h.total}")


def _labels(**labels: str) -> str:
    parts = []
    for key, value in labels.items():
        escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        parts.append(f'{key}="{escaped}"')
    return "{" + ",".join(parts) + "}"
