"""``/metrics`` through prometheus-client: the Prometheus text format, or OpenMetrics when the
scraper asks for it (``Accept: application/openmetrics-text``).

Two sources, chosen for cost: counters kept by this process from the engine's events (runs by
job and status, run durations and start lateness of the runs this node executed: per-node
counters that Prometheus sums across nodes) and from the alert outbox (alerts sent, failed and
deduplicated per channel and rule), and gauges read from the shared database at scrape time
with indexed queries (jobs by state, the due backlog, queued runs, live nodes and their
heartbeat age, the scheduler's paused flag). A custom collector yields them at scrape time,
so the names and labels stay exactly those of the hand-written format this replaced.
"""

from __future__ import annotations

import threading
from collections import defaultdict, deque
from collections.abc import Iterator
from typing import Any

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
    SummaryMetricFamily,
)
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector, CollectorRegistry

from tickwork.alerts import counters
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
    """Cumulative bucket counts (each bucket counts every observation at or below it)."""

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

    def family(self, name: str, help_text: str) -> HistogramMetricFamily:
        buckets = [(repr(float(b)), n) for b, n in zip(self.buckets, self.counts, strict=True)]
        buckets.append(("+Inf", self.total))
        return HistogramMetricFamily(name, help_text, buckets=buckets, sum_value=self.sum)


class RunMetrics(Collector):
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
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(self)
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

    def render(self, accept: str | None = None) -> tuple[bytes, str]:
        """The exposition the ``Accept`` header asks for: (body, content type)."""
        encoder, content_type = choose_encoder(accept or "")
        return encoder(self.registry), content_type

    def collect(self) -> Iterator[Metric]:
        self._drain()
        with self._lock:
            runs = CounterMetricFamily(
                "tickwork_runs", "Runs ended on this node, by job and status",
                labels=["job", "status"],
            )  # fmt: skip
            for (job, status), n in sorted(self.runs.items()):
                runs.add_metric([job, status], n)
            yield runs
            yield self.duration.family(
                "tickwork_run_duration_seconds", "Duration of runs executed on this node"
            )
            yield self.lateness.family(
                "tickwork_run_lateness_seconds",
                "Start of runs on this node after their scheduled instant",
            )
            by_job = SummaryMetricFamily(
                "tickwork_job_run_duration_seconds",
                "Duration of runs executed on this node, by job",
                labels=["job"],
            )
            for job, (count, total) in sorted(self.job_duration.items()):
                by_job.add_metric([job], count_value=int(count), sum_value=total)
            yield by_job
        yield from self._alerts()
        yield from self._gauges()

    def _alerts(self) -> Iterator[Metric]:
        sent = CounterMetricFamily(
            "tickwork_alerts_sent", "Alert messages this node delivered, by channel and rule",
            labels=["channel", "rule"],
        )  # fmt: skip
        failed = CounterMetricFamily(
            "tickwork_alerts_failed",
            "Alert send attempts of this node that failed, by channel and rule",
            labels=["channel", "rule"],
        )
        deduplicated = CounterMetricFamily(
            "tickwork_alerts_deduplicated",
            "Alerts this node counted in a dedupe window instead of sending, by rule",
            labels=["rule"],
        )
        for (outcome, channel, rule), n in sorted(counters.snapshot().items()):
            if outcome == "sent":
                sent.add_metric([channel, rule], n)
            elif outcome == "failed":
                failed.add_metric([channel, rule], n)
            else:
                deduplicated.add_metric([rule], n)
        yield from (sent, failed, deduplicated)

    def _gauges(self) -> Iterator[Metric]:
        tw = self.tw
        counts = tw.job_counts()
        jobs = GaugeMetricFamily("tickwork_jobs", "Jobs by state (cluster-wide)", labels=["state"])
        for state in ("scheduled", "paused", "completed"):
            jobs.add_metric([state], counts[state])
        yield jobs
        backlog = tw.backlog()
        yield GaugeMetricFamily(
            "tickwork_due_backlog", "Due jobs not yet claimed (cluster-wide)",
            value=backlog["due_jobs"],
        )  # fmt: skip
        yield GaugeMetricFamily(
            "tickwork_queued_runs", "Queued runs due but not taken by a node (cluster-wide)",
            value=backlog["queued_runs"],
        )  # fmt: skip
        now = tw.clock.now_us()
        nodes = tw.nodes()
        yield GaugeMetricFamily("tickwork_nodes", "Live nodes (cluster-wide)", value=len(nodes))
        ages = GaugeMetricFamily(
            "tickwork_node_heartbeat_age_seconds",
            "Seconds since each live node's last heartbeat",
            labels=["node"],
        )
        for node in nodes:
            ages.add_metric([node.id], round(max(0.0, (now - node.heartbeat_at) / 1e6), 3))
        yield ages
        yield GaugeMetricFamily(
            "tickwork_scheduler_paused", "1 while the scheduler is paused",
            value=int(tw.is_paused()),
        )  # fmt: skip
        here = tw.scheduler_here()
        loop = GaugeMetricFamily(
            "tickwork_scheduler_loop_alive",
            "1 while this node's scheduler loop runs (absent on API-only nodes)",
        )
        if here["scheduler"]:
            loop.add_metric([], int(bool(here["loop_alive"])))
        yield loop
        yield from _builtin_metrics(tw)
        yield from _queue_gauges(tw)


def _builtin_metrics(tw: Tickwork) -> Iterator[Metric]:
    """The latest report of each built-in maintenance job: its numeric metrics and its
    findings by severity (issue 13)."""
    from tickwork.builtins.history import latest_reports
    from tickwork.builtins.result import SEVERITIES

    reports = latest_reports(tw)
    metric = GaugeMetricFamily(
        "tickwork_builtin_metric",
        "Latest metrics of built-in maintenance jobs, by job and metric",
        labels=["job", "metric"],
    )
    for record, report in reports:
        for name, value in sorted(report["metrics"].items()):
            if isinstance(value, bool) or not isinstance(value, int | float):
                continue
            metric.add_metric([record.id, name], value)
    yield metric
    findings = GaugeMetricFamily(
        "tickwork_builtin_findings",
        "Findings of the latest run of built-in maintenance jobs, by job and severity",
        labels=["job", "severity"],
    )
    for record, report in reports:
        counts = dict.fromkeys(SEVERITIES, 0)
        for finding in report.get("findings") or []:
            if isinstance(finding, dict) and finding.get("severity") in counts:
                counts[finding["severity"]] += 1
        for severity, n in counts.items():
            findings.add_metric([record.id, severity], n)
    yield findings


def _queue_gauges(tw: Tickwork) -> Iterator[Metric]:
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
        family = GaugeMetricFamily(name, help_text, labels=["queue"])
        for f in figures:
            number = getattr(f, value)
            family.add_metric([f.queue], 0 if number is None else number)
        yield family
    per_worker = (
        ("tickwork_worker_concurrency", "Runs at once each live worker takes",
         lambda w: w.concurrency),
        ("tickwork_worker_running_runs", "Runs running on each live worker",
         lambda w: len(w.running)),
        ("tickwork_worker_heartbeat_age_seconds", "Seconds since a worker's heartbeat",
         lambda w: round(max(0.0, (now - w.heartbeat_at) / 1e6), 3)),
    )  # fmt: skip
    for name, help_text, read in per_worker:
        family = GaugeMetricFamily(name, help_text, labels=["worker"])
        for w in workers:
            family.add_metric([w.node_id], read(w))
        yield family
