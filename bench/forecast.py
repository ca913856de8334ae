"""The forecast benchmark: ``Tickwork.forecast`` (what ``GET /api/forecast`` answers) with
100,000 jobs stored, on SQLite and PostgreSQL. Budget: under 1 s.

No peer has a forecast, so the reference is the budget and the obvious way to compute one:
build each job's trigger and walk its fires (``naive``), measured on the same jobs.

The jobs are a mix people have (added through ``Tickwork.add_jobs``, so the stored specs are
what the system writes): fixed times at :00 (the hot spots), fixed times at other minutes,
every 5 and 15 minutes, hourly, ``H`` forms, intervals, 3 zones, 1 in 20 paused. Each
measurement is the median of 5 calls after one warm-up; the windows are 24 hours per minute,
7 days per hour and 7 days per minute.

``python -m bench forecast`` (about 2 minutes); ``--quick`` uses 10,000 jobs.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.scratch import scratch_postgres

T0 = 1_800_000_000_000_000  # epoch microseconds: a fixed instant, so runs compare
BUDGET_S = 1.0
WINDOWS = ((24, 60), (168, 3600), (168, 60))
ZONES = ("UTC", "Asia/Shanghai", "Europe/Berlin")


def _trigger(i: int) -> tuple[str, dict[str, Any]]:
    kind = i % 20
    if kind < 6:
        return f"0 {i % 24} * * *", {}  # daily at :00: the hot spots
    if kind < 9:
        return f"{i % 60} {i % 24} * * *", {}
    if kind < 11:
        return "*/5 * * * *", {}
    if kind == 11:
        return "*/15 * * * *", {}
    if kind == 12:
        return "0 * * * *", {}
    if kind < 15:
        return "H H * * *", {}
    if kind == 15:
        return "H 3 * * 1-5", {}
    if kind == 16:
        return "interval", {"seconds": 300 + i % 7 * 60}
    if kind == 17:
        return "30 8 * * MON-FRI", {}
    return "0 0 1 * *", {}


def _specs(n: int) -> list[Any]:
    from tickwork.jobspec import JobSpec

    out = []
    for i in range(n):
        trigger, args = _trigger(i)
        out.append(
            JobSpec(
                target="bench.engine_tasks:noop",
                trigger=trigger,
                trigger_args=args,
                id=f"job-{i:06d}",
                timezone=ZONES[i % 3],
                paused=i % 20 == 19,
                owner="code",
                check_target=False,
            )
        )
    return out


def _median(fn: Callable[[], object], times: int = 5) -> tuple[float, float]:
    """Median wall seconds and median CPU seconds of this process (on a shared machine
    the CPU time is what the call costs; the wall time is what a client waits)."""
    fn()  # warm-up: imports and caches
    wall, cpu = [], []
    for _ in range(times):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return statistics.median(wall), statistics.median(cpu)


def _naive(tw: Any, hours: int, bucket_s: int) -> int:
    """Every job's own trigger, every fire walked: what a forecast costs without grouping."""
    from sqlalchemy import false, select

    from tickwork.store.tables import job
    from tickwork.triggers import from_spec

    now = tw.clock.now_us()
    end = now + hours * 3_600_000_000
    buckets: dict[int, int] = {}
    with tw.store.db.read() as conn:
        rows = conn.execute(
            select(job.c.trigger).where(job.c.paused == false(), job.c.next_fire_at.is_not(None))
        ).all()
    for (spec,) in rows:
        trigger = from_spec(spec)
        t = trigger.next_fire_us(now - 1)
        while t is not None and t < end:
            key = t // 1_000_000 // bucket_s
            buckets[key] = buckets.get(key, 0) + 1
            t = trigger.next_fire_us(t)
    return sum(buckets.values())


def _api_median(tw: Any, hours: int, bucket_s: int) -> float:
    """``GET /api/forecast`` through the app (a viewer's token, in process: the response
    model and JSON included, the socket not)."""
    from fastapi.testclient import TestClient

    from tickwork.accounts.records import Principal
    from tickwork.accounts.roles import Role
    from tickwork.api import ApiSettings, create_app

    key = "bench-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"
    app = create_app(tw, ApiSettings(secret_key=key), console=False)
    user = tw.accounts.create_user("bench", "bench password 1", "viewer", by="bench")
    token = tw.accounts.create_token(Principal(user.id, "bench", Role.VIEWER, "bench"), "b")[0]
    client = TestClient(app, headers={"Authorization": f"Bearer {token}"})

    def call() -> None:
        response = client.get("/api/forecast", params={"hours": hours, "bucket_s": bucket_s})
        assert response.status_code == 200, response.text

    return _median(call)[0]


def measure(url: str, n: int) -> dict[str, Any]:
    from tickwork import Tickwork
    from tickwork.clock import FakeClock

    tw = Tickwork(url, clock=FakeClock(T0), check_targets=False)
    try:
        start = time.perf_counter()
        tw.add_jobs(_specs(n))
        fill_s = time.perf_counter() - start
        out: dict[str, Any] = {"jobs": n, "fill_s": round(fill_s, 1)}
        for hours, bucket_s in WINDOWS:
            name = f"{hours}h_per_{bucket_s}s"
            result = tw.forecast(hours, bucket_s)
            seconds, cpu = _median(lambda h=hours, b=bucket_s: tw.forecast(h, b))
            entry = {
                "s": round(seconds, 3),
                "cpu_s": round(cpu, 3),
                "fires": result.fires,
                "hot_spots": len(result.hot_spots),
                "peak": result.peak,
                "peak_after_h": result.suggestion.peak if result.suggestion else None,
            }
            if bucket_s == 60 and hours == 24:
                entry["api_s"] = round(_api_median(tw, hours, bucket_s), 3)
                begin = time.perf_counter()
                fires = _naive(tw, hours, bucket_s)
                entry["naive_s"] = round(time.perf_counter() - begin, 3)
                assert fires == result.fires, (fires, result.fires)  # the same forecast
            out[name] = entry
        return out
    finally:
        tw.store.close()


def run(quick: bool = False) -> dict[str, Any]:
    n = 10_000 if quick else 100_000
    results: dict[str, dict[str, Any] | None] = {}
    with tempfile.TemporaryDirectory(prefix="tw-bench-forecast-") as tmp:
        results["sqlite"] = measure(f"sqlite:///{Path(tmp) / 'tickwork.db'}", n)
    with scratch_postgres("tw_bench_forecast") as pg:
        results["postgresql"] = measure(pg, n) if pg else None
    print(f"Tickwork.forecast with {n:,} jobs (median of 5; budget {BUDGET_S:.0f} s)")
    print(f"{'window':<18}{'database':<12}{'seconds':>9}{'cpu s':>8}{'x budget':>10}{'fires':>12}"
          f"{'hot':>6}{'peak':>8}{'peak w/ H':>11}{'naive / us':>12}{'API s':>8}")  # fmt: skip
    fragment: dict[str, Any] = {}
    for hours, bucket_s in WINDOWS:
        name = f"{hours}h_per_{bucket_s}s"
        for db, res in results.items():
            if res is None:
                print(f"{name:<18}{db:<12}{'-':>9}")
                continue
            e = res[name]
            naive = f"{e['naive_s'] / e['s']:.1f}x" if "naive_s" in e else ""
            api = f"{e['api_s']:.3f}" if "api_s" in e else ""
            print(
                f"{name:<18}{db:<12}{e['s']:>9.3f}{e['cpu_s']:>8.3f}{e['s'] / BUDGET_S:>10.2f}"
                f"{e['fires']:>12,}"
                f"{e['hot_spots']:>6}{e['peak']:>8,}{e['peak_after_h'] or 0:>11,}{naive:>12}"
                f"{api:>8}"
            )
            fragment.setdefault(name, {})[db] = {"s": e["s"], "cpu_s": e["cpu_s"]}
    return {"forecast_s": fragment, "forecast_jobs": n}
