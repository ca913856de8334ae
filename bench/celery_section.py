"""The celery section: N due no-op runs through Celery, on RabbitMQ and on Redis.

- **Tickwork**: N one-off jobs with a queue, due at one instant, on a scheduler node with a
  PostgreSQL store; one ``tickwork worker`` (8 threads) runs them and records every run.
  Rate: N / (last run's end - the instant); latency: a run's start after its instant.
- **plain Celery**: ``apply_async`` of the same no-op task N times with a Redis result
  backend, one ``celery worker`` (8 threads), waiting for every result. Rate: N / (last
  result - first publish); latency: the task's start after its publish.
- **Celery beat**: beat's scheduler with entries due at once (its tick publishes them), the
  same worker and backend. Rate: entries / (last result - the first tick). Beat compares its
  whole schedule on every tick (``Scheduler.schedules_equal``) and publishes one entry per
  tick, so it is quadratic in the number of entries: 10,000 entries did not finish within
  8 minutes here; it is measured with at most TICKWORK_BENCH_BEAT_N (2,000) entries.

Goal (issue 14): Tickwork's end-to-end rate at least 0.8x plain Celery's while recording
every run. TICKWORK_BENCH_CELERY_N sets N (default 10,000; --quick: 1,000).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
PG = os.environ.get("TICKWORK_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
AMQP = os.environ.get("TICKWORK_TEST_AMQP", "amqp://guest:guest@127.0.0.1:5672//")
REDIS = os.environ.get("TICKWORK_TEST_REDIS", "redis://127.0.0.1:6379/0").rsplit("/", 1)[0]
BROKERS = {"rabbitmq": AMQP, "redis": f"{REDIS}/13"}
BACKEND = f"{REDIS}/13"
THREADS = 8


@contextmanager
def database() -> Iterator[str]:
    name = f"tw_bench_celery_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(PG, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.engine.make_url(PG).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def process(
    command: list[str], env: dict[str, str], log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            command, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT), **env},
            stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            yield proc
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def plain_celery(broker: str, n: int, workdir: Path) -> dict[str, Any]:
    queue = f"celerytest_bench_{uuid.uuid4().hex[:6]}"
    env = {"BENCH_BROKER": broker, "BENCH_BACKEND": BACKEND}
    from bench.celery_tasks import make_app

    app = make_app(broker, BACKEND)
    noop = app.tasks["bench.noop"]

    worker = [sys.executable, "-m", "celery", "-A", "bench.celery_tasks:app", "worker", "-Q",
              queue, "-P", "threads", "-c", str(THREADS), "--without-gossip", "--without-mingle",
              "--loglevel", "WARNING"]  # fmt: skip
    with process(worker, env, workdir / f"plain-{queue}.log"):
        noop.apply_async((time.time(),), queue=queue).get(timeout=60)  # warm
        t0 = time.time()
        results = [noop.apply_async((time.time(),), queue=queue) for _ in range(n)]
        published = time.time()
        latencies = [r.get(timeout=600) for r in results]
        elapsed = time.time() - t0
    return {
        "runs_per_s": n / elapsed,
        "publish_per_s": n / (published - t0),
        "latency_p50_ms": _pct(latencies, 0.5) * 1000,
        "latency_p99_ms": _pct(latencies, 0.99) * 1000,
    }


def celery_beat(broker: str, n: int, workdir: Path) -> dict[str, Any]:
    from celery.beat import Scheduler

    from bench.celery_tasks import make_app

    queue = f"celerytest_bench_{uuid.uuid4().hex[:6]}"
    app = make_app(broker, BACKEND)
    worker = [sys.executable, "-m", "celery", "-A", "bench.celery_tasks:app", "worker", "-Q",
              queue, "-P", "threads", "-c", str(THREADS), "--without-gossip", "--without-mingle",
              "--loglevel", "WARNING"]  # fmt: skip
    env = {"BENCH_BROKER": broker, "BENCH_BACKEND": BACKEND}
    with process(worker, env, workdir / f"beat-{queue}.log"):
        app.tasks["bench.noop"].apply_async((time.time(),), queue=queue).get(timeout=60)  # warm
        start = time.time()
        ids = [f"beat-{uuid.uuid4().hex}" for _ in range(n)]
        app.conf.beat_schedule = {
            f"e{i}": {"task": "bench.noop", "schedule": timedelta(hours=1), "args": (start,),
                      "options": {"queue": queue, "task_id": ids[i]}}
            for i in range(n)
        }  # fmt: skip
        sched = Scheduler(app, lazy=True)
        sched.setup_schedule()
        due = datetime.now(UTC) - timedelta(hours=2)
        for entry in sched.schedule.values():
            entry.last_run_at = due  # every entry is due at the first tick
        t0 = time.time()
        # beat's tick publishes one due entry and returns 0, or returns the wait until the
        # next one: tick until nothing is due (every entry then ran once)
        while sched.tick() == 0 or not all(e.total_run_count for e in sched.schedule.values()):
            pass
        latencies = [app.AsyncResult(i).get(timeout=600) for i in ids]
        elapsed = time.time() - t0
        app.conf.beat_schedule = {}
    return {
        "runs_per_s": n / elapsed,
        "latency_p50_ms": (_pct(latencies, 0.5) - (t0 - start)) * 1000,
    }


def tickwork(broker: str, n: int, workdir: Path) -> dict[str, Any]:
    from tickwork import Tickwork
    from tickwork.engine.node import NodeOptions
    from tickwork.jobspec import JobSpec
    from tickwork.settings import Settings

    queue = f"celerytest_bench_{uuid.uuid4().hex[:6]}"
    with database() as url:
        tw = Tickwork(
            settings=Settings(database_url=url, timezone="UTC"),
            node_options=NodeOptions(celery_broker=broker, local_queues=frozenset()),
        )
        main = "import sys; from tickwork.cli import main; sys.exit(main())"
        worker = [sys.executable, "-c", main, "worker", "-Q", queue, "--concurrency",
                  str(THREADS), "--database-url", url, "--loglevel", "WARNING"]  # fmt: skip
        env = {"TICKWORK_CELERY_BROKER_URL": broker, "TICKWORK_LOG_LEVEL": "WARNING"}
        with process(worker, env, workdir / f"tickwork-{queue}.log"):
            tw.start()
            due = (int(time.time()) + 10) * 1_000_000
            at = datetime.fromtimestamp(due / 1e6, UTC).isoformat()
            tw.add_jobs(
                [
                    JobSpec(target="bench.celery_tasks:tickwork_noop", trigger="date",
                            trigger_args={"run_date": at}, id=f"b{i:05d}", queue=queue,
                            check_target=False)
                    for i in range(n)
                ]
            )  # fmt: skip
            deadline = time.time() + 600
            done = 0
            while time.time() < deadline:
                with tw.store.db.read() as conn:
                    done = conn.execute(
                        sa.text("SELECT COUNT(*) FROM tw_run WHERE status = 'succeeded'")
                    ).scalar_one()
                if done >= n:
                    break
                time.sleep(0.2)
            with tw.store.db.read() as conn:
                rows = conn.execute(
                    sa.text("SELECT scheduled_for, started_at, finished_at FROM tw_run")
                ).all()
            tw.shutdown()
            tw.close()
    last = max(r[2] for r in rows if r[2] is not None)
    latencies = [(r[1] - r[0]) / 1e6 for r in rows if r[1] is not None]
    return {
        "runs_per_s": n / ((last - due) / 1e6),
        "latency_p50_ms": _pct(latencies, 0.5) * 1000,
        "latency_p99_ms": _pct(latencies, 0.99) * 1000,
        "recorded": len(rows),
    }


def run(quick: bool = False) -> dict[str, Any]:
    n = int(os.environ.get("TICKWORK_BENCH_CELERY_N", "1000" if quick else "10000"))
    workdir = Path(os.environ.get("TMPDIR", "/tmp")) / f"tw_celery_bench_{os.getpid()}"
    workdir.mkdir(exist_ok=True)
    out: dict[str, Any] = {}
    print(f"{n} due no-op runs, one worker of {THREADS} threads, PostgreSQL store, Redis results")
    print(f"{'broker':<9} {'system':<13} {'runs/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'vs plain':>9}")
    beat_n = min(n, int(os.environ.get("TICKWORK_BENCH_BEAT_N", "2000")))
    if beat_n < n:
        print(f"(Celery beat with {beat_n} entries: its tick is quadratic in the entries)")
    for name, url in BROKERS.items():
        figures = {
            "plain_celery": plain_celery(url, n, workdir),
            "celery_beat": celery_beat(url, beat_n, workdir),
            "tickwork": tickwork(url, n, workdir),
        }
        base = figures["plain_celery"]["runs_per_s"]
        for system, f in figures.items():
            ratio = f["runs_per_s"] / base
            f["vs_plain"] = ratio
            print(
                f"{name:<9} {system:<13} {f['runs_per_s']:>8.0f} "
                f"{f.get('latency_p50_ms', float('nan')):>8.1f} "
                f"{f.get('latency_p99_ms', float('nan')):>8.1f} {ratio:>8.2f}x"
            )
            out[f"celery.{name}.{system}.runs_per_s"] = round(f["runs_per_s"], 1)
            out[f"celery.{name}.{system}.vs_plain"] = round(ratio, 3)
            if "latency_p50_ms" in f:
                out[f"celery.{name}.{system}.latency_p50_ms"] = round(f["latency_p50_ms"], 2)
    return out
