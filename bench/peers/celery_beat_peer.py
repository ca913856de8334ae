"""Celery beat's tick in the engine benchmark.

Beat only decides *when* to send a task message; workers execute it. What is measured here is
beat's own loop, the real ``celery.beat.Service`` ticking a subclass of
``celery.beat.Scheduler`` (the in-memory scheduler, no shelve file) whose ``send_task``
records ``time.time()`` instead of publishing: everything beat does per fire (heap, is_due,
reserve, the schedule comparison every tick, argument evaluation, options and headers) except
serialising the message and writing it to a broker. So its numbers are a lower bound of
beat's cost, and "fires kept" is "messages beat would have sent".
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.peers.common import Grid, cpu_s, cron_mix, idle_cpu, lateness_ms, rss_mb, summary

logging.getLogger("celery").setLevel(logging.CRITICAL)

SENT: list[tuple[int, float, float]] = []  # (job index, sent at, beat's own due instant)


def _app() -> Any:
    from celery import Celery

    app = Celery("tickwork-bench", broker="memory://", set_as_current=False)
    app.conf.timezone = "UTC"
    app.conf.enable_utc = True
    app.conf.result_expires = None  # no backend_cleanup entry
    return app


def _scheduler_cls() -> Any:
    from celery.beat import Scheduler

    class Recording(Scheduler):  # type: ignore[misc]
        """Records instead of publishing; everything before the publish is beat's own."""

        _entry: Any = None

        @property
        def producer(self) -> None:  # type: ignore[override]
            return None  # never connect to a broker

        def apply_entry(self, entry: Any, producer: Any = None) -> None:
            self._entry = entry
            super().apply_entry(entry, producer=producer)

        def send_task(self, name: str, args: Any = (), kwargs: Any = None, **_: Any) -> None:
            now = time.time()
            entry = self._entry
            due = entry.last_run_at.timestamp() + entry.schedule.run_every.total_seconds()
            SENT.append((args[0] if args else -1, now, due))

    return Recording


def _service(app: Any, cls: Any) -> Any:
    from celery.beat import Service

    return Service(app, scheduler_cls=cls, remote_control=False)


def lateness(p: dict[str, Any]) -> dict[str, Any]:
    """N entries ``schedule(1 s)``; entry i's first due instant is t0 + phase(i) (its
    last_run_at is set one interval before). Beat's interval schedule is relative to the
    last send, so each fire's lateness also delays all later ones (drift): lateness is
    reported against beat's own due instant (last send + 1 s), "executed" counts the sends
    whose due instant lies in the window."""
    from celery.schedules import schedule

    n, seconds = p["n"], p["seconds"]
    app = _app()
    grid = Grid(n, seconds, float(int(time.time()) + p.get("warmup_s", 4)), p["aligned"])
    every = schedule(timedelta(seconds=1), app=app)
    app.conf.beat_schedule = {
        f"lat-{i:06d}": {
            "task": "bench.record",
            "schedule": every,
            "args": (i,),
            "last_run_at": datetime.fromtimestamp(grid.first(i) - 1.0, UTC),
        }
        for i in range(n)
    }
    service = _service(app, _scheduler_cls())
    thread = threading.Thread(target=service.start, daemon=True)
    thread.start()
    from bench.peers.common import wait_until

    wait_until(grid.t0)
    c0 = cpu_s()
    wait_until(grid.end + 0.2)
    cpu = cpu_s() - c0
    service.stop()
    thread.join(5)
    sent = list(SENT)
    late, attributed = lateness_ms(grid, [(i, t) for i, t, _ in sent])
    window = [(t, due) for _, t, due in sent if grid.t0 - 0.001 <= due <= grid.end]
    own = [max(0.0, t - due) * 1000.0 for t, due in window]
    grid_summary = summary(late)
    # Reported: lateness against beat's own due instant (last send + 1 s). The grid
    # attribution cannot tell a send 2.5 s late from one 0.5 s late (it wraps at 1 s).
    return {
        **summary(own),
        "due": grid.due,
        "executed": len(window),
        "grid_p50_ms": grid_summary["p50_ms"],
        "grid_p99_ms": grid_summary["p99_ms"],
        "grid_attributed": attributed,
        "cpu_s_per_s": round(cpu / (grid.end - grid.t0), 3),
    }


def _crontab(expr: str, app: Any) -> Any:
    from celery.schedules import crontab

    minute, hour, dom, month, dow = expr.split()
    return crontab(
        minute=minute,
        hour=hour,
        day_of_month=dom,
        month_of_year=month,
        day_of_week=dow,
        app=app,
    )


def many(p: dict[str, Any]) -> dict[str, Any]:
    """``n`` crontab entries: add = building the beat_schedule and the scheduler's entries
    (stops at ``budget_s``); start = beat's first tick (it builds its heap, asking every
    entry when it is due); RSS after; CPU per idle second of the real Service loop."""
    n, budget = p["n"], p["budget_s"]
    exprs = cron_mix(n, p["hour"])
    app = _app()
    cls = _scheduler_cls()
    t0 = time.perf_counter()
    entries: dict[str, Any] = {}
    for i, expr in enumerate(exprs):
        entries[f"cron-{i:07d}"] = {"task": "bench.noop", "schedule": _crontab(expr, app)}
        if i % 1000 == 0 and time.perf_counter() - t0 > budget:
            break
    if len(entries) == n:
        app.conf.beat_schedule = entries
        scheduler = cls(app)  # merges beat_schedule into its entries
    add_s = time.perf_counter() - t0
    if len(entries) < n or add_s > budget:
        return {
            "add_s": None,
            "added": len(entries),
            "rate_per_s": round(len(entries) / add_s, 1),
            "budget_s": budget,
            "start_s": None,
            "rss_mb": None,
            "idle_cpu_s_per_s": None,
        }
    s0 = time.perf_counter()
    scheduler.tick()  # the first tick populates the heap
    start_s = time.perf_counter() - s0
    rss = rss_mb()
    service = _service(app, cls)
    service.__dict__["scheduler"] = scheduler  # the cached property: tick the same scheduler
    thread = threading.Thread(target=service.start, daemon=True)
    thread.start()
    cpu = idle_cpu(p.get("idle_s", 10))
    service.stop()
    return {
        "add_s": round(add_s, 3),
        "added": n,
        "rate_per_s": round(n / add_s, 1),
        "start_s": round(start_s, 3),
        "rss_mb": round(rss, 1),
        "idle_cpu_s_per_s": round(cpu, 4),
        "fired": len(SENT),
    }
