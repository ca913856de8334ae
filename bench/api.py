"""The API benchmark: latency of listing a page of jobs with 100,000 jobs stored and a page of
runs with 1,000,000 runs stored, on SQLite and PostgreSQL, through real HTTP (uvicorn on
127.0.0.1, one keep-alive client, a viewer's API token). Goal: p95 under 50 ms.

The tables are filled by the database itself (a recursive CTE on SQLite, generate_series on
PostgreSQL): 100,000 jobs, and 1,000,000 runs spread over them (10 per job, 1 in 10 failed).
Each kind of request is sampled at random places: the first page, pages deep in the cursor
(anywhere in the table), and, for runs, one job's runs. A page is 50 items (the default).

``python -m bench api`` (about 2 minutes); ``--quick`` uses 10,000 jobs and 100,000 runs.
"""

from __future__ import annotations

import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from bench.scratch import JOB_COLUMNS, RUN_COLUMNS, free_port, scratch_postgres

KEY = "bench-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"
T0 = 1_800_000_000_000_000  # epoch microseconds
PAGE = 50
SAMPLES = 200  # per kind of request
WARMUP = 20


@contextmanager
def _sqlite() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="tw-bench-api-") as tmp:
        yield f"sqlite:///{Path(tmp) / 'tickwork.db'}"


def _postgres() -> AbstractContextManager[str | None]:
    return scratch_postgres("tw_bench_api")


_TARGET = '{"ref": "bench.engine_tasks:noop", "args": [], "kwargs": {}}'
_TRIGGERS = [
    '{"kind": "cron", "expr": "0 2 * * *", "tz": "UTC"}',
    '{"kind": "cron", "expr": "*/15 * * * *", "tz": "UTC"}',
    '{"kind": "cron", "expr": "0 9 * * MON-FRI", "tz": "Asia/Shanghai"}',
    '{"kind": "cron", "expr": "30 3 1 * *", "tz": "Europe/Berlin"}',
]


def _numbers(n: int) -> str:
    """SQLite: a CTE ``c(i)`` counting 0 .. n-1."""
    return f"WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i < {n - 1})"


def fill(url: str, jobs: int, runs: int) -> float:
    """Fill the job and run tables with generated rows; returns the seconds it took."""
    from tickwork.store import Store

    store = Store(url)
    store.upgrade()
    start = time.perf_counter()
    with store.db.write() as conn:
        if store.db.is_sqlite:
            trig = "CASE i % 4 " + " ".join(f"WHEN {k} THEN '{t}'" for k, t in enumerate(_TRIGGERS))
            conn.exec_driver_sql(
                f"INSERT INTO tw_job ({JOB_COLUMNS}) "
                f"{_numbers(jobs)} "
                f"SELECT printf('job-%07d', i), printf('Job %d', i), '', "
                f"printf('group-%d', i % 100), '[]', 'python', '{_TARGET}', 'cron', {trig} END, "
                f"'UTC', 'thread', 'run_once', NULL, "
                f"100, 'allow', 1, NULL, 0, 10.0, 600.0, '[]', 0, 'api', NULL, 1, "
                f"{T0} + i * 1000000, {T0}, 'bench', {T0}, 'bench' FROM c"
            )
            conn.exec_driver_sql(
                f"INSERT INTO tw_run ({RUN_COLUMNS}) "
                f"{_numbers(runs)} "
                f"SELECT printf('job-%07d', i % {jobs}), {T0} + i * 1000000, "
                f"{T0} + i * 1000000, 1, NULL, "
                f"'schedule', CASE WHEN i % 10 = 7 THEN 'failed' ELSE 'succeeded' END, 'bench', 0, "
                f"{T0} + i * 1000000, {T0} + i * 1000000 + 1000, {T0} + i * 1000000 + 51000, "
                f"0.05 + (i % 100) / 1000.0, 'ok', NULL, NULL, NULL, NULL, NULL FROM c"
            )
        else:
            trig = "CASE i % 4 " + " ".join(f"WHEN {k} THEN '{t}'" for k, t in enumerate(_TRIGGERS))
            pg = conn.exec_driver_sql  # psycopg: a literal % is written %%
            pg(
                f"INSERT INTO tw_job ({JOB_COLUMNS}) "
                f"SELECT 'job-' || lpad(i::text, 7, '0'), 'Job ' || i, '', 'group-' || (i % 100), "
                f"'[]'::json, 'python', '{_TARGET}'::json, 'cron', ({trig} END)::json, 'UTC', "
                f"'thread', 'run_once', NULL, 100, 'allow', 1, NULL, 0, 10.0, 600.0, '[]'::json, "
                f"false, 'api', NULL, 1, {T0} + i::bigint * 1000000, {T0}, 'bench', {T0}, 'bench' "
                f"FROM generate_series(0, {jobs - 1}) AS i".replace("%", "%%")
            )
            pg(
                f"INSERT INTO tw_run ({RUN_COLUMNS}) "
                f"SELECT 'job-' || lpad((i % {jobs})::text, 7, '0'), {T0} + i::bigint * 1000000, "
                f"{T0} + i::bigint * 1000000, 1, NULL, 'schedule', "
                f"CASE WHEN i % 10 = 7 THEN 'failed' ELSE 'succeeded' END, 'bench', false, "
                f"{T0} + i::bigint * 1000000, {T0} + i::bigint * 1000000 + 1000, "
                f"{T0} + i::bigint * 1000000 + 51000, 0.05 + (i % 100) / 1000.0, 'ok', NULL, NULL, "
                f"NULL, NULL, NULL FROM generate_series(0, {runs - 1}) AS i".replace("%", "%%")
            )
    with store.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("ANALYZE")
    store.close()
    return time.perf_counter() - start


@contextmanager
def serve(url: str) -> Iterator[tuple[str, str]]:
    """``tickwork serve --no-scheduler`` (an API node, in its own process as in production)
    over ``url`` on a free port; yields (base URL, a viewer's API token)."""
    import subprocess
    import sys

    import httpx2 as httpx

    from tickwork.accounts.records import Principal
    from tickwork.accounts.roles import Role
    from tickwork.service import Tickwork
    from tickwork.settings import Settings

    with tempfile.TemporaryDirectory() as tmp:
        with Tickwork(
            settings=Settings(data_dir=Path(tmp), database_url=url, timezone="UTC"),
            check_targets=False,
        ) as tw:
            tw.accounts.set_secret_key(KEY)
            user = tw.accounts.create_user("bench", "bench password 1", "viewer", by="bench")
            principal = Principal(user.id, "bench", Role.VIEWER, "bench")
            token = tw.accounts.create_token(principal, "bench")[0]
        port = free_port()
        env = {**os.environ, "TICKWORK_DATABASE_URL": url, "TICKWORK_SECRET_KEY": KEY,
               "TICKWORK_DATA_DIR": tmp, "TICKWORK_LOG_LEVEL": "WARNING"}  # fmt: skip
        server = subprocess.Popen(
            [sys.executable, "-m", "tickwork.cli", "serve", "--no-scheduler", "--quiet",
             "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the API server did not start: {server.stderr}")
                time.sleep(0.1)
            yield base, token
        finally:
            server.terminate()
            server.wait(60)


def measure(base: str, token: str, jobs: int, runs: int) -> dict[str, list[float]]:
    """Milliseconds per request, by kind of request."""
    import httpx2 as httpx

    from tickwork.api.convert import encode_cursor

    rng = random.Random(7)
    kinds: dict[str, Callable[[], tuple[str, dict[str, Any]]]] = {
        "jobs first page": lambda: ("/api/jobs", {"limit": PAGE}),
        "jobs deep page": lambda: (
            "/api/jobs",
            {"limit": PAGE, "cursor": encode_cursor(f"job-{rng.randrange(jobs):07d}")},
        ),
        "runs first page": lambda: ("/api/runs", {"limit": PAGE}),
        "runs deep page": lambda: (
            "/api/runs",
            {"limit": PAGE, "cursor": encode_cursor(rng.randrange(PAGE + 1, runs))},
        ),
        "runs of one job": lambda: (
            "/api/runs",
            {"limit": PAGE, "job_id": f"job-{rng.randrange(jobs):07d}"},
        ),
    }
    out: dict[str, list[float]] = {}
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as client:
        for name, make in kinds.items():
            times = []
            for i in range(WARMUP + SAMPLES):
                path, params = make()
                start = time.perf_counter()
                response = client.get(path, params=params)
                elapsed = (time.perf_counter() - start) * 1000
                assert response.status_code == 200, response.text
                assert response.json()["items"], (name, params)
                if i >= WARMUP:
                    times.append(elapsed)
            out[name] = times
    return out


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, -(-int(q * len(ordered)) // 1) - 1)] if ordered else float("nan")


def run(quick: bool = False) -> dict[str, Any]:
    jobs, runs = (10_000, 100_000) if quick else (100_000, 1_000_000)
    p95: dict[str, float] = {}
    p50: dict[str, float] = {}
    rows: list[tuple[str, str, float, float, float]] = []
    for backend, database in (("sqlite", _sqlite), ("postgres", _postgres)):
        with database() as url:
            if url is None:
                continue
            took = fill(url, jobs, runs)
            print(f"{backend}: filled {jobs:,} jobs and {runs:,} runs in {took:.1f} s", flush=True)
            with serve(url) as (base, token):
                timings = measure(base, token, jobs, runs)
            for name, values in timings.items():
                rows.append((backend, name, _pct(values, 0.5), _pct(values, 0.95),
                             statistics.fmean(values)))  # fmt: skip
            for what in ("jobs", "runs"):
                values = [v for n, vs in timings.items() if n.startswith(what) for v in vs]
                p95[f"{what}_{backend}"] = round(_pct(values, 0.95), 2)
                p50[f"{what}_{backend}"] = round(_pct(values, 0.5), 2)
    print(f"{'database':<10}{'request (page of 50)':<22}{'p50 ms':>9}{'p95 ms':>9}{'mean ms':>9}")
    for backend, name, a, b, c in rows:
        print(f"{backend:<10}{name:<22}{a:>9.2f}{b:>9.2f}{c:>9.2f}")
    print(f"goal: p95 < 50 ms; {jobs:,} jobs, {runs:,} runs stored")
    return {"api_p95_ms": p95, "api_p50_ms": p50}
