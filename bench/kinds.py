"""The kinds benchmark (issue 17): what a shell ``true``, an HTTP GET of a local server and a
``SELECT 1`` on SQLite, PostgreSQL and MariaDB cost per run through Tickwork (with full run
records on SQLite) against APScheduler 3 doing the same work from its thread pool with no
record, and against the bare work done in a loop.

For each kind, in a fresh process each (``bench.peers.kinds_peer``):

* serial: one worker, N one-off jobs due at once; per-run time = time until all ended / N
  (three measurements each, alternating; the median). "added" is that minus the bare work's
  per-run time: what the scheduler adds to each run;
* burst: ten workers, the same jobs; runs per second.

The ratio is Tickwork's per-run time over APScheduler's (goal: at most 1.25). CPU per run
counts each process and its children. ``TICKWORK_BENCH_PROFILE=1`` also samples one burst
measurement per kind with py-spy (every thread) and prints where Tickwork's time goes. About
3 minutes (5 with the profiles).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.engine import _worker

ROOT = Path(__file__).resolve().parent.parent
PG = os.environ.get("TICKWORK_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
MARIADB = os.environ.get("TICKWORK_TEST_MYSQL", "mysql+pymysql://root@127.0.0.1:3306/test")
SERVER = """
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a):
        pass
    def do_GET(self):
        body = b'{"ok": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

s = ThreadingHTTPServer(("127.0.0.1", 0), H)
s.daemon_threads = True
print(s.server_address[1], flush=True)
s.serve_forever()
"""


def _reachable(url: str) -> bool:
    import sqlalchemy as sa

    engine = sa.create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        return True
    except Exception:
        return False
    finally:
        engine.dispose()


def run(quick: bool = False) -> dict[str, Any]:
    started = time.monotonic()
    serial_n, burst_n = (100, 300) if quick else (300, 1500)
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER], stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        scratch = Path(os.environ.get("TMPDIR", "/tmp")) / f"tw_kinds_bench_{os.getpid()}.db"
        import sqlite3

        sqlite3.connect(scratch).close()
        cases = [
            ("shell true", "shell", ""),
            ("HTTP GET local", "http", f"http://127.0.0.1:{port}/ok"),
            ("SELECT 1 SQLite", "sql", f"sqlite:///{scratch}"),
            ("SELECT 1 PostgreSQL", "sql", PG),
            ("SELECT 1 MariaDB", "sql", MARIADB),
        ]
        profile = os.environ.get("TICKWORK_BENCH_PROFILE") == "1"
        results: dict[str, Any] = {}
        for label, kind, target in cases:
            if kind == "sql" and not target.startswith("sqlite") and not _reachable(target):
                results[label] = {"skipped": "server not reachable"}
                print(f"  {label:<22} skipped: server not reachable", flush=True)
                continue
            base = {"kind": kind, "target": target, "timeout_s": 600}
            one = {**base, "workers": 1, "n": serial_n}
            ten = {**base, "workers": 10, "n": burst_n}
            # Serial runs three times each, alternating, and the median kept: the machine is
            # shared, and one measurement of a few hundred milliseconds is easily disturbed.
            serial: dict[str, list[dict[str, Any]]] = {
                "bare": [],
                "tickwork": [],
                "apscheduler": [],
            }
            for _ in range(REPEAT):
                for who, runs in serial.items():
                    runs.append(_worker({**one, "fn": f"kinds_peer.{who}"}, 900))
            row: dict[str, Any] = {who: _median(runs) for who, runs in serial.items()}
            row["tickwork_burst"] = _worker({**ten, "fn": "kinds_peer.tickwork"}, 900)
            row["apscheduler_burst"] = _worker({**ten, "fn": "kinds_peer.apscheduler"}, 900)
            if profile:
                print(f"--- where Tickwork's time goes: {label} (burst, py-spy) ---", flush=True)
                print(where_time_goes({**ten, "fn": "kinds_peer.tickwork"}), flush=True)
            results[label] = row
            print(f"  {label:<22} {_brief(row)}", flush=True)
        scratch.unlink(missing_ok=True)
    finally:
        server.terminate()
        server.wait(5)
    fragment = report(results, serial_n, burst_n)
    print(f"\nkinds section: {time.monotonic() - started:.0f} s", flush=True)
    return fragment


# Where a sample's time goes: its innermost frame that matches one of these (function@file,
# or @file for any function of it), checked from the leaf up.
PARTS: list[tuple[str, tuple[str, ...]]] = [
    ("the work: a command (spawn, pipes, wait, end its group)", ("@targets/process_run.py",)),
    ("the work: an HTTP request (guard, connect, read)", ("@net/http.py", "@net/ssrf.py")),
    ("the work: a SQL statement (pool, execute, commit)", ("@targets/sql.py",)),
    ("run records: starts", ("_record_starts@engine/dispatcher.py",)),
    ("run records: outcomes, live logs", ("@engine/writer.py", "@store/runs.py")),
    ("claims", ("@engine/loop.py", "@engine/planning.py", "@store/claims.py")),
    ("dispatch: admission, prepare, submit", ("@engine/dispatcher.py", "@targets/prepare.py")),
    ("executor: queue, output capture, outcome", ("@executors/",)),
]


# Leaves that are waits py-spy still counts as active (a thread woken holds the GIL a moment).
WAITS = (
    "Condition.wait (threading.py", "Event.wait (threading.py", "select (selectors.py",
    "_work (tickwork/executors/thread.py", "sleep", "Popen._try_wait", "Popen.wait",
)  # fmt: skip


def _part(frames: list[str]) -> str:
    for frame in reversed(frames):  # leaf first
        name, _, where = frame.partition(" (")
        for part, needles in PARTS:
            for needle in needles:
                func, _, path = needle.partition("@")
                if path in where and (not func or func == name.rsplit(".", 1)[-1]):
                    return part
    return "other (interpreter, libraries outside the run's path)"


def where_time_goes(params: dict[str, Any]) -> str:
    """Sample a Tickwork measurement with py-spy (all threads, idle waits excluded) and share
    the node threads' samples out by the parts above."""
    import json
    import shutil
    import tempfile

    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).exists():
        return "py-spy is not installed (pip install py-spy)"
    out = Path(tempfile.mkdtemp()) / "samples.txt"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [spy, "record", "--rate", "500", "--format", "raw", "--output", str(out),
               "--nonblocking", "--", sys.executable, "-m", "bench.engine_worker",
               json.dumps(params)]  # fmt: skip
    subprocess.run(command, cwd=ROOT, env=env, capture_output=True, timeout=900, check=False)
    if not out.exists():
        return "py-spy could not sample (it needs ptrace permission)"
    totals: dict[str, int] = {}
    samples = 0
    for line in out.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if "engine_worker.py" in stack or not stack.strip():
            continue  # the main thread (setup, the measuring loop), native threads
        count = int(count_text)
        if any(
            stack.rsplit(";", 1)[-1].startswith(w) or w in stack.rsplit(";", 1)[-1] for w in WAITS
        ):
            continue  # waiting, not working
        samples += count
        part = _part(stack.split(";"))
        totals[part] = totals.get(part, 0) + count
    lines = [f"{samples} busy samples of the node's threads (waits excluded)"]
    for part, count in sorted(totals.items(), key=lambda kv: -kv[1]):
        lines.append(f"  {100 * count / max(samples, 1):5.1f}%  {part}")
    return "\n".join(lines)


REPEAT = 3


def _median(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The measurement with the median per-run time (its other figures with it)."""
    good = [r for r in runs if isinstance(r.get("per_run_ms"), int | float)]
    if not good:
        return runs[0] if runs else {"error": "no measurement"}
    return sorted(good, key=lambda r: r["per_run_ms"])[len(good) // 2]


def _get(row: dict[str, Any], who: str, key: str) -> float | None:
    value = row.get(who, {}).get(key)
    return float(value) if isinstance(value, int | float) else None


def _brief(row: dict[str, Any]) -> str:
    parts = []
    for who in ("bare", "tickwork", "apscheduler", "tickwork_burst", "apscheduler_burst"):
        x = row.get(who, {})
        if "error" in x:
            parts.append(f"{who}: ERROR {x['error']}")
        elif x.get("failed"):
            parts.append(f"{who}: {x['failed']} failed ({x.get('first_error', '')})")
    return "; ".join(parts) or "ok"


def report(results: dict[str, Any], serial_n: int, burst_n: int) -> dict[str, Any]:
    print()
    print(f"per-run cost, serial (1 worker, {serial_n} runs due at once); burst: 10 workers, "
          f"{burst_n} runs")  # fmt: skip
    head = (
        f"{'':<22}{'bare ms':>9}{'TW ms':>9}{'APS ms':>9}{'TW added':>10}{'APS added':>10}"
        f"{'ratio':>7}{'TW cpu':>8}{'APS cpu':>8}{'TW runs/s':>11}{'APS runs/s':>11}"
    )
    print(head)
    print("-" * len(head))
    out: dict[str, Any] = {}
    for label, row in results.items():
        if "skipped" in row:
            print(f"{label:<22}skipped: {row['skipped']}")
            continue
        bare = _get(row, "bare", "per_run_ms")
        tw, aps = _get(row, "tickwork", "per_run_ms"), _get(row, "apscheduler", "per_run_ms")
        ratio = round(tw / aps, 2) if tw and aps else None
        cells = [
            bare, tw, aps,
            None if tw is None or bare is None else round(tw - bare, 3),
            None if aps is None or bare is None else round(aps - bare, 3),
            ratio,
            _get(row, "tickwork", "cpu_ms_per_run"), _get(row, "apscheduler", "cpu_ms_per_run"),
            _get(row, "tickwork_burst", "runs_per_s"), _get(row, "apscheduler_burst", "runs_per_s"),
        ]  # fmt: skip
        widths = [9, 9, 9, 10, 10, 7, 8, 8, 11, 11]
        print(
            f"{label:<22}" + "".join(_fmt(c).rjust(w) for c, w in zip(cells, widths, strict=True))
        )
        out[label] = {
            "ratio": ratio,
            "tickwork_per_run_ms": tw,
            "apscheduler_per_run_ms": aps,
            "bare_per_run_ms": bare,
            "tickwork_runs_per_s": cells[8],
            "apscheduler_runs_per_s": cells[9],
        }
    print("ratio = Tickwork's per-run time / APScheduler's (goal <= 1.25); added = per-run time "
          "minus the bare work's")  # fmt: skip
    return {"kinds": out}


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:,.3g}" if value < 100 else f"{value:,.0f}"


if __name__ == "__main__":
    run("--quick" in sys.argv)
