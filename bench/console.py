"""The console's speed: first paint, first contentful paint and "list rendered" of the jobs
page with 10,000 jobs and of the runs page with 1,000,000 runs stored, in headless Chromium
(Debian's, driven by Playwright) against ``tickwork serve --no-scheduler`` on SQLite.

Each round opens the page in a fresh browser context (an empty cache; the session cookie is
carried over) and reads the browser's own Performance API: ``first-paint`` and
``first-contentful-paint`` paint entries, and the console's ``tw:list-rendered`` mark, set
in the first animation frame after the list's rows are in the page. Goal: under 1 s each.

``python -m bench console`` (``--quick``: 200 jobs, 2,000 runs, 2 rounds).
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.scratch import JOB_COLUMNS, RUN_COLUMNS, free_port

KEY = "bench-console-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"
USER = ("bench", "bench password 42")
T0 = 1_800_000_000_000_000  # epoch microseconds: runs are in the past of no test, ids decide
CHROMIUM = os.environ.get("TICKWORK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
GOAL_MS = 1000.0
PAGES = {"jobs_10k": "/jobs", "runs_1m": "/runs"}


@dataclass(frozen=True)
class Sizes:
    jobs: int = 10_000
    runs: int = 1_000_000
    rounds: int = 5


QUICK = Sizes(jobs=200, runs=2_000, rounds=2)

_TRIGGERS = [
    '{"kind": "cron", "expr": "0 2 * * *", "tz": "UTC"}',
    '{"kind": "cron", "expr": "*/15 * * * *", "tz": "UTC"}',
    '{"kind": "cron", "expr": "0 9 * * MON-FRI", "tz": "Asia/Shanghai"}',
    '{"kind": "cron", "expr": "30 3 1 * *", "tz": "Europe/Berlin"}',
]


def fill(url: str, jobs: int, runs: int) -> float:
    """Generated jobs and runs, inserted by SQLite itself (a recursive CTE); seconds taken."""
    from tickwork.store import Store

    store = Store(url)
    store.upgrade()
    start = time.perf_counter()
    target = '{"ref": "bench.engine_tasks:noop", "args": [], "kwargs": {}}'
    trig = "CASE i % 4 " + " ".join(f"WHEN {k} THEN '{t}'" for k, t in enumerate(_TRIGGERS))
    count = "WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i < {n})"
    with store.db.write() as conn:
        conn.exec_driver_sql(
            f"INSERT INTO tw_job ({JOB_COLUMNS}) {count.format(n=jobs - 1)} "
            "SELECT printf('job-%07d', i), printf('Job %d', i), '', printf('group-%d', i % 100), "
            f"'[]', 'python', '{target}', 'cron', {trig} END, 'UTC', 'thread', 'run_once', NULL, "
            "100, 'allow', 1, NULL, 0, 10.0, 600.0, '[]', i % 7 = 3, 'api', NULL, 1, "
            f"CASE WHEN i % 7 = 3 THEN NULL ELSE {T0} + i * 1000000 END, {T0}, 'bench', {T0}, "
            "'bench' FROM c"
        )
        conn.exec_driver_sql(
            f"INSERT INTO tw_run ({RUN_COLUMNS}) {count.format(n=runs - 1)} "
            f"SELECT printf('job-%07d', i % {jobs}), {T0} - i * 1000000, {T0} - i * 1000000, 1, "
            "NULL, 'schedule', CASE WHEN i % 10 = 7 THEN 'failed' ELSE 'succeeded' END, "
            f"'bench', 0, {T0} - i * 1000000, {T0} - i * 1000000 + 1000, "
            f"{T0} - i * 1000000 + 51000, 0.05 + (i % 100) / 1000.0, 'ok', "
            "CASE WHEN i % 10 = 7 THEN 'RuntimeError: boom' ELSE NULL END, NULL, NULL, NULL, NULL "
            "FROM c"
        )
    with store.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("ANALYZE")
    store.close()
    return time.perf_counter() - start


@contextmanager
def serve(data_dir: Path) -> Iterator[str]:
    """``tickwork serve --no-scheduler`` over the data directory's SQLite; yields its URL."""
    import httpx2 as httpx

    from tickwork.service import Tickwork
    from tickwork.settings import Settings

    url = f"sqlite:///{data_dir / 'tickwork.db'}"
    with Tickwork(
        settings=Settings(data_dir=data_dir, database_url=url, timezone="UTC"),
        check_targets=False,
    ) as tw:
        tw.accounts.set_secret_key(KEY)
        tw.accounts.create_user(USER[0], USER[1], "viewer", by="bench")
    port = free_port()
    env = {**os.environ, "TICKWORK_DATABASE_URL": url, "TICKWORK_SECRET_KEY": KEY,
           "TICKWORK_DATA_DIR": str(data_dir), "TICKWORK_LOG_LEVEL": "WARNING"}  # fmt: skip
    log = (data_dir / "serve.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "tickwork.cli", "serve", "--no-scheduler", "--quiet",
         "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
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
                raise RuntimeError("the API server did not start; see " + log.name)
            time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        server.wait(60)
        log.close()


_READ = """async () => {
  const deadline = performance.now() + 30000;
  while (!performance.getEntriesByName('tw:list-rendered').length) {
    if (performance.now() > deadline) throw new Error('the list did not render');
    await new Promise((r) => setTimeout(r, 10));
  }
  const settle = performance.now() + 2000;  // paint entries can trail the mark a little
  while (performance.getEntriesByType('paint').length < 2 && performance.now() < settle) {
    await new Promise((r) => setTimeout(r, 10));
  }
  const paint = Object.fromEntries(performance.getEntriesByType('paint')
    .map((e) => [e.name, e.startTime]));
  return {
    first_paint: paint['first-paint'] ?? null,
    first_contentful_paint: paint['first-contentful-paint'] ?? null,
    list_rendered: performance.getEntriesByName('tw:list-rendered')[0].startTime,
    rows: document.querySelectorAll('tbody tr').length,
  };
}"""


def measure(base: str, rounds: int, browser: Any = None) -> dict[str, dict[str, list[float]]]:
    """Per page: first paint, first contentful paint, list rendered (ms), one per round. Uses
    ``browser`` (a Playwright Browser) if given, else launches Chromium."""
    if browser is not None:
        return _measure(browser, base, rounds)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        try:
            return _measure(launched, base, rounds)
        finally:
            launched.close()


def _measure(browser: Any, base: str, rounds: int) -> dict[str, dict[str, list[float]]]:
    out: dict[str, dict[str, list[float]]] = {}
    login = browser.new_context()
    response = login.request.post(
        f"{base}/api/auth/login", data={"username": USER[0], "password": USER[1]}
    )
    if not response.ok:
        raise RuntimeError(f"login failed: {response.status} {response.text()}")
    state = login.storage_state()
    login.close()
    for name, path in PAGES.items():
        series: dict[str, list[float]] = {
            "first_paint": [],
            "first_contentful_paint": [],
            "list_rendered": [],
        }
        for _ in range(rounds + 1):  # the first round warms the server's caches
            context = browser.new_context(
                storage_state=state, viewport={"width": 1280, "height": 860}
            )
            page = context.new_page()
            page.goto(base + path, wait_until="commit")
            result = page.evaluate(_READ)
            context.close()
            if result["rows"] < 1:
                raise RuntimeError(f"{path}: no rows rendered")
            for key, values in series.items():
                values.append(float(result[key] or "nan"))
        out[name] = {k: v[1:] for k, v in series.items()}
    return out


def chromium() -> str:
    if Path(CHROMIUM).is_file():
        return CHROMIUM
    found = shutil.which("chromium")
    if found is None:
        raise RuntimeError("Chromium is missing (apt-get install chromium)")
    return found


def run(quick: bool = False, sizes: Sizes | None = None, browser: Any = None) -> dict[str, Any]:
    sizes = sizes or (QUICK if quick else Sizes())
    static = Path(__file__).resolve().parents[1] / "src" / "tickwork" / "web" / "static"
    if not (static / "index.html").is_file():
        raise RuntimeError("the console is not built: run `make console` first")
    with tempfile.TemporaryDirectory(prefix="tw-bench-console-") as tmp:
        data = Path(tmp)
        fill_s = fill(f"sqlite:///{data / 'tickwork.db'}", sizes.jobs, sizes.runs)
        print(f"filled SQLite with {sizes.jobs:,} jobs and {sizes.runs:,} runs in {fill_s:.1f} s")
        with serve(data) as base:
            results = measure(base, sizes.rounds, browser)
    print(f"{'page':<10} {'metric':<24} {'median ms':>10} {'max ms':>10}  (goal < {GOAL_MS:.0f})")
    summary: dict[str, dict[str, float]] = {}
    for name, series in results.items():
        label = name.replace("_10k", f" ({sizes.jobs:,} jobs)").replace(
            "_1m", f" ({sizes.runs:,} runs)"
        )
        print(label)
        for metric, values in series.items():
            med, top = statistics.median(values), max(values)
            summary.setdefault(metric, {})[name] = round(med, 1)
            flag = "" if top < GOAL_MS else "  over the goal"
            print(f"{'':<10} {metric:<24} {med:>10.1f} {top:>10.1f}{flag}")
    return {
        "console_first_paint_ms": summary["first_paint"],
        "console_first_contentful_paint_ms": summary["first_contentful_paint"],
        "console_list_rendered_ms": summary["list_rendered"],
    }
