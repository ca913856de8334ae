"""The engine's scale-out (issue 14): N no-op one-off runs due at one instant on a PostgreSQL
store, executed by 1 and by 3 scheduler nodes (``tests.cluster.node_main`` processes, 16
threads each). Rate: N / (the last run's end - the instant); every run recorded.
TICKWORK_BENCH_SCALEOUT_N sets N (default 20,000; --quick: 2,000)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from bench.celery_section import ROOT, database


def one(nodes: int, n: int) -> float:
    from tickwork import Tickwork
    from tickwork.jobspec import JobSpec
    from tickwork.settings import Settings

    with database() as url:
        tw = Tickwork(settings=Settings(database_url=url, timezone="UTC"))
        due = (int(time.time()) + 15) * 1_000_000
        at = datetime.fromtimestamp(due / 1e6, UTC).isoformat()
        tw.add_jobs(
            [
                JobSpec(target="bench.celery_tasks:tickwork_noop", trigger="date",
                        trigger_args={"run_date": at}, id=f"s{i:06d}", check_target=False)
                for i in range(n)
            ]
        )  # fmt: skip
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        env.pop("TICKWORK_CELERY_BROKER_URL", None)
        until = str(due / 1e6 + 300)
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "tests.cluster.node_main", url, "--until", until],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for _ in range(nodes)
        ]
        try:
            while True:
                with tw.store.db.read() as conn:
                    done = conn.execute(
                        sa.text("SELECT COUNT(*) FROM tw_run WHERE status = 'succeeded'")
                    ).scalar_one()
                if done >= n or time.time() > due / 1e6 + 300:
                    break
                time.sleep(0.2)
            with tw.store.db.read() as conn:
                last = conn.execute(sa.text("SELECT MAX(finished_at) FROM tw_run")).scalar_one()
        finally:
            for p in procs:
                p.terminate()
            for p in procs:
                p.wait(30)
            tw.close()
    return float(n / ((last - due) / 1e6))


def run(quick: bool = False) -> dict[str, Any]:
    n = int(os.environ.get("TICKWORK_BENCH_SCALEOUT_N", "2000" if quick else "20000"))
    single, three = one(1, n), one(3, n)
    print(f"{n} no-op runs due at one instant, PostgreSQL store, 16 threads per node")
    print(f"{'nodes':<6} {'runs/s':>8} {'vs 1 node':>10}")
    print(f"{1:<6} {single:>8.0f} {1.0:>9.2f}x")
    print(f"{3:<6} {three:>8.0f} {three / single:>9.2f}x")
    return {
        "scaleout.1_node.runs_per_s": round(single, 1),
        "scaleout.3_nodes.runs_per_s": round(three, 1),
        "scaleout.3_vs_1": round(three / single, 3),
    }
