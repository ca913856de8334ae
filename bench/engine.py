"""The engine benchmark: Tickwork against APScheduler 3.11 (BackgroundScheduler with
MemoryJobStore, and with SQLAlchemyJobStore on SQLite) and Celery beat's tick, side by side.

Every measurement runs in its own subprocess (``bench.engine_worker``), so that memory,
threads and imports of one system never touch another's; all use the real clock. Sizes:

1. lateness: N=1,000 interval-1s jobs for 15 s. "spread": job i starts at t0 + i/N s, so
   1,000 fires/s arrive evenly; "aligned": all 1,000 fire at the same instant every second.
   The job function records time.time() when called; lateness = call - scheduled instant.
   Tickwork persists every run (SQLite file, and PostgreSQL).
2. fires kept: the same spread jobs taking 20 ms (sleep), 10 worker threads everywhere:
   executed/due for all; for Tickwork also run records/due, from the run table.
3. burst: 20,000 one-off jobs due at once; recorded runs/s from start until every run is
   recorded as finished (APScheduler keeps no run records: there "recorded" is "executed").
4. registered jobs: 100,000 and 1,000,000 cron jobs (a mix of daily, weekday, weekly,
   monthly, twice-daily, quarter-hourly and yearly expressions, none due during the test):
   time to add; in a fresh process time to start, RSS, CPU per idle second.

``python -m bench engine`` runs it all (about 25 minutes on 2 cores, 6 of them adding
1,000,000 jobs to Tickwork); ``--quick`` runs a smaller smoke version (about 5 minutes).
See docs/benchmarks.md.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.scratch import scratch_postgres

SYSTEMS = ["tickwork_sqlite", "tickwork_postgres", "apscheduler_memory", "apscheduler_sqlite",
           "celery_beat"]  # fmt: skip
PEERS = SYSTEMS[2:]


@dataclass(frozen=True, slots=True)
class Sizes:
    n: int = 1_000
    seconds: int = 15
    job_ms: float = 20.0
    workers: int = 10
    burst: int = 20_000
    many: tuple[int, ...] = (100_000, 1_000_000)
    idle_s: float = 10.0
    warmup_s: float = 4.0  # from adding the lateness jobs to their first fire
    add_budget_s: float = 90.0  # adding more than this is stopped; its rate is reported
    aps_sqlite_add_budget_s: float = 30.0
    # Past its add budget APScheduler's SQLite store is bulk-filled (to measure its start-up)
    # up to this many jobs; at 1,000,000 the fill alone would take minutes.
    fill_aps_sqlite_up_to: int = 100_000
    pg_many_up_to: int = 100_000  # Tickwork on PostgreSQL in the registered-jobs scenario
    timeout_s: float = 900.0


QUICK = Sizes(
    n=200,
    seconds=4,
    burst=2_000,
    many=(5_000, 20_000),
    idle_s=2.0,
    add_budget_s=20.0,
    aps_sqlite_add_budget_s=3.0,
    timeout_s=300.0,
)


def _worker(params: dict[str, Any], timeout_s: float) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter and return its RESULT."""
    cmd = [sys.executable, "-m", "bench.engine_worker", json.dumps(params)]
    root = Path(__file__).resolve().parent.parent
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]),
    }
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout_s, cwd=root, env=env, check=False
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout_s:.0f} s"}
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("RESULT "):
            out: dict[str, Any] = json.loads(line[7:])
            if "error" in out:
                sys.stderr.write(proc.stderr[-3000:])
            return out
    sys.stderr.write(proc.stderr[-3000:])
    return {"error": f"no result (exit {proc.returncode})"}


class Bench:
    def __init__(self, sizes: Sizes, workdir: Path, pg: str | None) -> None:
        self.s = sizes
        self.dir = workdir
        self.pg = pg
        self.results: dict[str, Any] = {}

    def _file(self, stem: str) -> Path:
        path = self.dir / f"{stem}-{uuid.uuid4().hex[:6]}.db"
        return path

    def _tw_url(self, system: str, stem: str) -> str | None:
        if system == "tickwork_sqlite":
            return f"sqlite:///{self._file(stem)}"
        return self.pg

    def _reset_pg(self) -> None:
        """Empty the PostgreSQL benchmark database between measurements."""
        if self.pg is None:
            return
        import sqlalchemy as sa

        engine = sa.create_engine(self.pg)
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        engine.dispose()

    def run_one(self, system: str, scenario: str, extra: dict[str, Any]) -> dict[str, Any]:
        s = self.s
        chosen = os.environ.get("TICKWORK_BENCH_SYSTEMS")  # e.g. "tickwork_sqlite"
        if chosen and system not in chosen.split(","):
            return {"skipped": "not in TICKWORK_BENCH_SYSTEMS"}
        base: dict[str, Any] = {"workers": s.workers, "warmup_s": s.warmup_s, **extra}
        t0 = time.monotonic()
        if system == "tickwork_postgres" and scenario == "many" and extra["n"] > s.pg_many_up_to:
            # Not run by default: adding stops at the budget anyway (the 100,000 row shows
            # PostgreSQL's rate), and the section has to fit in about 25 minutes.
            return {"skipped": f"PostgreSQL is measured up to {s.pg_many_up_to:,} jobs"}
        if system.startswith("tickwork"):
            url = self._tw_url(system, scenario)
            if url is None:
                return {"error": "PostgreSQL not reachable"}
            self._reset_pg() if system == "tickwork_postgres" else None
            out = self._tickwork(scenario, {**base, "url": url})
        elif system.startswith("apscheduler"):
            store = system.split("_")[1]
            out = self._apscheduler(
                scenario, {**base, "store": store, "path": str(self._file("aps"))}
            )
        else:
            out = self._celery(scenario, base)
        out["wall_s"] = round(time.monotonic() - t0, 1)
        # The machine's 1-minute load average as the measurement ended: other work on a
        # shared 2-core machine shows up in lateness first.
        out["load_avg_1m"] = round(os.getloadavg()[0], 2)
        print(f"  {scenario:<10} {system:<20} {_brief(out)}", flush=True)
        return out

    def _tickwork(self, scenario: str, p: dict[str, Any]) -> dict[str, Any]:
        t = self.s.timeout_s
        if scenario in ("lateness", "aligned", "kept"):
            return _worker({**p, "fn": "tickwork_peer.lateness"}, t)
        if scenario == "burst":
            return _worker({**p, "fn": "tickwork_peer.burst"}, t)
        # Tickwork on SQLite is always added to the end (the goals are about it); the other
        # systems stop adding at the budget (the rate is reported, start-up is not measured).
        budget = None if p["url"].startswith("sqlite") else self.s.add_budget_s
        added = _worker({**p, "fn": "tickwork_peer.many_add", "budget_s": budget}, t)
        if "error" in added:
            return added
        if added["add_s"] is None:
            return {**added, "start_s": None, "rss_mb": None, "idle_cpu_s_per_s": None}
        started = _worker({**p, "fn": "tickwork_peer.many_start"}, t)
        return {**added, **started}

    def _apscheduler(self, scenario: str, p: dict[str, Any]) -> dict[str, Any]:
        t = self.s.timeout_s
        if scenario in ("lateness", "aligned", "kept"):
            # The SQLite store inserts the jobs one transaction each: give it time to.
            warm = p["warmup_s"] + (0 if p["store"] == "memory" else p["n"] / 60)
            return _worker({**p, "fn": "apscheduler_peer.lateness", "warmup_s": warm}, t)
        if scenario == "burst":
            return _worker({**p, "fn": "apscheduler_peer.burst"}, t)
        if p["store"] == "memory":
            return _worker(
                {**p, "fn": "apscheduler_peer.many_memory", "budget_s": self.s.add_budget_s}, t
            )
        if p["n"] > self.s.fill_aps_sqlite_up_to:
            budget = self.s.aps_sqlite_add_budget_s
            p = {**p, "n": p["n"]}
            added = _worker(
                {**p, "fn": "apscheduler_peer.many_sqlite_add", "budget_s": budget, "fill": False},
                t,
            )
            return {**added, "start_s": None, "rss_mb": None, "idle_cpu_s_per_s": None}
        added = _worker(
            {
                **p,
                "fn": "apscheduler_peer.many_sqlite_add",
                "budget_s": self.s.aps_sqlite_add_budget_s,
            },
            t,
        )
        if "error" in added:
            return added
        started = _worker({**p, "fn": "apscheduler_peer.many_sqlite_start"}, t)
        return {**added, **started}

    def _celery(self, scenario: str, p: dict[str, Any]) -> dict[str, Any]:
        t = self.s.timeout_s
        if scenario in ("lateness", "aligned"):
            return _worker({**p, "fn": "celery_beat_peer.lateness"}, t)
        if scenario == "many":
            return _worker({**p, "fn": "celery_beat_peer.many", "budget_s": self.s.add_budget_s}, t)
        return {"skipped": "beat only sends messages; workers execute them"}

    def run(self, only: set[str] | None = None) -> dict[str, Any]:
        """Every scenario, or those named in ``only`` (lateness, aligned, kept, burst, many)."""
        s = self.s
        r = self.results

        def wanted(name: str) -> bool:
            return only is None or name in only

        grid = {"n": s.n, "seconds": s.seconds}
        print(
            f"lateness: {s.n} interval-1s jobs for {s.seconds} s, {s.workers} workers", flush=True
        )
        for key, extra in (
            ("lateness", {**grid, "aligned": False}),
            ("aligned", {**grid, "aligned": True}),
        ):
            if wanted(key):
                r[key] = {sys_: self.run_one(sys_, key, extra) for sys_ in SYSTEMS}
        if wanted("kept"):
            print(f"fires kept: the spread jobs taking {s.job_ms:g} ms", flush=True)
            kept = {**grid, "aligned": False, "job_ms": s.job_ms}
            r["kept"] = {sys_: self.run_one(sys_, "kept", kept) for sys_ in SYSTEMS[:4]}
        if wanted("burst"):
            print(f"burst: {s.burst} one-off jobs due at once", flush=True)
            r["burst"] = {sys_: self.run_one(sys_, "burst", {"n": s.burst}) for sys_ in SYSTEMS[:4]}
        hour = datetime.now(UTC).hour
        for n in s.many if wanted("many") else ():
            print(f"registered: {n} cron jobs", flush=True)
            extra = {"n": n, "hour": hour, "idle_s": s.idle_s}
            r[f"many_{n}"] = {sys_: self.run_one(sys_, "many", extra) for sys_ in SYSTEMS}
        return r


def _brief(out: dict[str, Any]) -> str:
    keys = ("error", "skipped", "p50_ms", "p99_ms", "executed", "records", "runs_per_s",
            "add_s", "rate_per_s", "start_s", "rss_mb", "idle_cpu_s_per_s", "wall_s",
            "load_avg_1m")  # fmt: skip
    return " ".join(f"{k}={out[k]}" for k in keys if k in out)


# --- the report ---------------------------------------------------------------------------------

LABELS = {
    "tickwork_sqlite": "Tickwork SQLite",
    "tickwork_postgres": "Tickwork PG",
    "apscheduler_memory": "APS memory",
    "apscheduler_sqlite": "APS SQLite",
    "celery_beat": "Celery beat",
}


def _num(x: Any) -> float | None:
    return float(x) if isinstance(x, int | float) and not isinstance(x, bool) else None


def _fmt(x: Any, digits: int = 1) -> str:
    if x is None:
        return "null"
    if isinstance(x, str):
        return x
    if isinstance(x, float) and abs(x) < 10 and digits == 1:
        return f"{x:.3g}"
    return f"{x:,.{digits}f}" if isinstance(x, float) else f"{x:,}"


def _records_ratio(x: dict[str, Any]) -> float | None:
    """Run records of the window per due fire; -1 flags a duplicate record (never expected)."""
    if "records" not in x:
        return None
    if x["records"] != x["unique_fires"]:
        return -1.0
    return round(x["records"] / x["due"], 4)


def _rows(r: dict[str, Any], sizes: Sizes) -> list[tuple[str, dict[str, Any], bool | None]]:
    """(label, value per system, lower is better) rows of the table."""
    rows: list[tuple[str, dict[str, Any], bool | None]] = []

    def pick(section: str, fn: Any) -> dict[str, Any]:
        out = {}
        for system, res in r.get(section, {}).items():
            try:
                out[system] = fn(res)
            except (KeyError, TypeError, ZeroDivisionError):
                out[system] = None
        return out

    for section, name in (
        ("lateness", f"{sizes.n} fires/s spread"),
        ("aligned", f"{sizes.n} aligned"),
    ):
        rows.append((f"lateness p50 ms, {name}", pick(section, lambda x: x["p50_ms"]), True))
        rows.append((f"lateness p99 ms, {name}", pick(section, lambda x: x["p99_ms"]), True))
        rows.append(
            (
                f"executed/due, {name}",
                pick(section, lambda x: round(x["executed"] / x["due"], 4)),
                False,
            )
        )
    rows.append((f"fires kept ({sizes.job_ms:g} ms jobs): executed/due",
                 pick("kept", lambda x: round(x["executed"] / x["due"], 4)), False))  # fmt: skip
    rows.append(("  run records/due", pick("kept", _records_ratio), False))
    rows.append(
        (f"burst {sizes.burst}: recorded runs/s", pick("burst", lambda x: x["runs_per_s"]), False)
    )
    for n in sizes.many:
        sec = f"many_{n}"
        rows.append((f"{n:,} jobs: add s", pick(sec, lambda x: x["add_s"]), True))
        rows.append((f"{n:,} jobs: add rate jobs/s", pick(sec, lambda x: x["rate_per_s"]), False))
        rows.append((f"{n:,} jobs: start s", pick(sec, lambda x: x["start_s"]), True))
        rows.append((f"{n:,} jobs: RSS MB", pick(sec, lambda x: x["rss_mb"]), True))
        rows.append(
            (f"{n:,} jobs: CPU s per idle s", pick(sec, lambda x: x["idle_cpu_s_per_s"]), True)
        )
    return rows


def report(r: dict[str, Any], sizes: Sizes) -> dict[str, Any]:
    rows = _rows(r, sizes)
    width = max(len(label) for label, _, _ in rows) + 1
    head = f"{'':<{width}}" + "".join(f"{LABELS[s]:>16}" for s in SYSTEMS)
    print()
    print(head)
    print("-" * len(head))
    for label, values, _ in rows:
        print(f"{label:<{width}}" + "".join(f"{_fmt(values.get(s)):>16}" for s in SYSTEMS))
    print()
    print("Tickwork (SQLite) vs each peer: how many times better (>1: Tickwork better)")
    head = f"{'':<{width}}" + "".join(f"{LABELS[s]:>16}" for s in ["tickwork_postgres", *PEERS])
    print(head)
    print("-" * len(head))
    for label, values, lower in rows:
        if lower is None:
            continue
        ours = _num(values.get("tickwork_sqlite"))
        cells = []
        for peer in ["tickwork_postgres", *PEERS]:
            theirs = _num(values.get(peer))
            if ours is None or theirs is None or ours <= 0 or theirs <= 0:
                cells.append("")
                continue
            ratio = theirs / ours if lower else ours / theirs
            cells.append(f"{ratio:.2f}x")
        if any(cells):
            print(f"{label:<{width}}" + "".join(f"{c:>16}" for c in cells))

    def get(section: str, system: str, key: str) -> float | None:
        return _num(r.get(section, {}).get(system, {}).get(key))

    def kept(system: str) -> float | None:
        x = r.get("kept", {}).get(system, {})
        return round(x["executed"] / x["due"], 4) if "executed" in x and x.get("due") else None

    big = "many_1000000" if 1_000_000 in sizes.many else None
    return {
        "burst_runs_per_s": {s: get("burst", s, "runs_per_s") for s in SYSTEMS[:4]},
        "lateness_p99_ms": {s: get("lateness", s, "p99_ms") for s in SYSTEMS},
        "rss_mb_1m_jobs": {s: get(big, s, "rss_mb") if big else None for s in SYSTEMS},
        "start_s_1m_jobs": {s: get(big, s, "start_s") if big else None for s in SYSTEMS},
        "fires_kept_ratio": {s: kept(s) for s in SYSTEMS[:4]},
    }


def _exit_on_sigterm() -> None:
    """SIGTERM ends the run through ``finally`` blocks: the benchmark database is dropped."""
    import signal
    import threading

    def stop(signum: int, _frame: Any) -> None:
        raise SystemExit(128 + signum)

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, stop)


def run(quick: bool = False, sizes: Sizes | None = None, detail: bool = False) -> Any:
    """The engine section: prints the table, returns the JSON fragment (and, with
    ``detail``, every measurement too). ``TICKWORK_BENCH_DETAIL=path`` writes them to a file."""
    sizes = sizes or (QUICK if quick else Sizes())
    _exit_on_sigterm()
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="tw_bench_"))
    try:
        with scratch_postgres("tw_bench") as pg:
            only = os.environ.get("TICKWORK_BENCH_ONLY")  # e.g. "lateness,aligned"
            results = Bench(sizes, workdir, pg).run(set(only.split(",")) if only else None)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    fragment = report(results, sizes)
    print(f"\nengine section: {time.monotonic() - started:.0f} s", flush=True)
    path = os.environ.get("TICKWORK_BENCH_DETAIL")
    if path:
        Path(path).write_text(json.dumps(results, indent=1, sort_keys=True))
    return (fragment, results) if detail else fragment


if __name__ == "__main__":
    print(json.dumps(run("--quick" in sys.argv)))
