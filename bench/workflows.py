"""What workflows cost the runs that are not in one: the workflow run hook sits in every
outcome transaction (``tickwork.engine.hooks``). For batches of 1, 250 and 1,000 ended runs
of no workflow, the fastest of 40 transactions of the hook alone, beside two ``SELECT 1`` round
trips on the same connection (its floor: the hook sends two queries), on SQLite, PostgreSQL
and MariaDB (a database of its own on each server, dropped afterwards).

``python -m bench workflows``"""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from tickwork.engine.hooks import RunEnded
from tickwork.store import Store
from tickwork.workflows.progress import Progress

PG = os.environ.get("TICKWORK_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
MARIADB = os.environ.get("TICKWORK_TEST_MYSQL", "mysql+pymysql://root@127.0.0.1:3306/test")
BATCHES = (1, 250, 1000)


@contextmanager
def _database(admin_url: str) -> Iterator[str | None]:
    name = f"workflows_bench_{uuid.uuid4().hex[:10]}"
    quote = '"' if admin_url.startswith("postgresql") else "`"
    try:
        admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f"CREATE DATABASE {quote}{name}{quote}"))
    except Exception as exc:
        print(f"  (skipped: {type(exc).__name__})")
        yield None
        return
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {quote}{name}{quote}"))
        admin.dispose()


def _fastest(store: Store, call: Callable[[sa.Connection], object], n: int) -> float:
    best = float("inf")
    for _ in range(n):
        with store.db.write() as conn:
            started = time.perf_counter()
            call(conn)
            best = min(best, time.perf_counter() - started)
    return best * 1e3


def _measure(url: str, n: int) -> dict[str, float]:
    store = Store(url)
    store.upgrade()
    progress = Progress(store)
    select_1 = sa.text("SELECT 1")
    out = {"two_round_trips_ms": _fastest(
        store, lambda c: (c.execute(select_1).all(), c.execute(select_1).all()), n
    )}  # fmt: skip
    for size in BATCHES:
        ended = [
            RunEnded(run_id=i, job_id=f"job-{i % 200}", status="succeeded",
                     scheduled_for=1_800_000_000_000_000 + i, attempt=1, final=True)
            for i in range(size)
        ]  # fmt: skip
        out[f"hook_{size}_ms"] = _fastest(store, lambda c, e=ended: progress.on_ended(c, e, 0), n)
    store.close()
    return out


def run(quick: bool = False) -> dict[str, Any]:
    n = 10 if quick else 40
    results: dict[str, Any] = {}
    print(
        f"{'database':10} {'2 x SELECT 1':>13} "
        + " ".join(f"{'batch ' + str(b):>12}" for b in BATCHES)
    )
    with tempfile.TemporaryDirectory() as folder:
        targets: list[tuple[str, Any]] = [("sqlite", f"sqlite:///{folder}/bench.db")]
        for name, admin in (("postgres", PG), ("mariadb", MARIADB)):
            targets.append((name, admin))
        for name, where in targets:
            if name == "sqlite":
                results[name] = _measure(where, n)
            else:
                with _database(where) as url:
                    if url is None:
                        continue
                    results[name] = _measure(url, n)
            r = results[name]
            base = r["two_round_trips_ms"]
            cells = " ".join(
                f"{r[f'hook_{b}_ms']:6.2f} ms x{r[f'hook_{b}_ms'] / base:<4.1f}" for b in BATCHES
            )
            print(f"{name:10} {base:10.2f} ms {cells}")
    print("(xN: the hook's time as a multiple of two SELECT 1 round trips)")
    return {"workflows": results}
