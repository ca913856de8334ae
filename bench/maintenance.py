"""The maintenance benchmark (issue 13): the retention job (``cleanup_old_data``) deleting
1,000,000 old rows on MariaDB and PostgreSQL, against the naive single
``DELETE ... WHERE created_at < ...`` and against seed 003's row-by-row loop (100 ids read, one
DELETE per id, a commit per 100).

Each method starts from a fresh table (``mnt_bench_<hex>`` database, 1,000,000 rows older than
90 days and 50,000 recent ones, an index on the time column). While it runs, a concurrent
writer keeps inserting new rows and updating a random old row (an application touching old
data), one short transaction each; its longest statement is the longest lock wait it suffered
(lock timeouts are raised to 120 s so a wait is measured, not cut). The row-by-row loop is
measured on its first 50,000 rows (all of them would take many minutes); rows/s is what it
reached. The retention job runs with ``pause_s: 0`` (its default 0.1 s pause would add 100 s
over 1,000 batches, all of it time the writer runs freely). About 5 minutes; ``--quick``:
100,000 rows.
"""

from __future__ import annotations

import os
import random
import threading
import time
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url

PG = os.environ.get("TICKWORK_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
MARIADB = os.environ.get("TICKWORK_TEST_MYSQL", "mysql+pymysql://root@127.0.0.1:3306/test")
ROW_BY_ROW_LIMIT = 50_000


class Writer(threading.Thread):
    def __init__(self, url: str, pg: bool, old: int) -> None:
        super().__init__(daemon=True)
        self.engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        self.pg, self.old = pg, old
        self.stop_flag = threading.Event()
        self.waits: list[float] = []
        self.errors = 0
        self.deadlocks = 0  # InnoDB/PostgreSQL chose this transaction as a deadlock's victim
        self.first_error = ""

    def run(self) -> None:
        now = "LOCALTIMESTAMP" if self.pg else "NOW(6)"
        rng = random.Random(7)
        with self.engine.connect() as conn:
            conn.execute(sa.text("SET lock_timeout = '120s'" if self.pg
                                 else "SET SESSION innodb_lock_wait_timeout = 120"))  # fmt: skip
            conn.commit()
            while not self.stop_flag.is_set():
                started = time.monotonic()
                try:
                    with conn.begin():
                        conn.execute(
                            sa.text(
                                f"INSERT INTO mnt_bench (created_at, payload) VALUES ({now}, 'w')"
                            )
                        )
                        conn.execute(sa.text(
                            "UPDATE mnt_bench SET payload = 'touched' WHERE id = :i"
                        ), {"i": rng.randint(1, self.old)})  # fmt: skip
                except Exception as exc:
                    # A deadlock victim is an outcome both databases document and applications
                    # retry; it is counted apart (a figure, not a harness failure).
                    if _deadlock(exc):
                        self.deadlocks += 1
                    else:
                        self.errors += 1
                        self.first_error = self.first_error or f"{type(exc).__name__}: {exc}"[:300]
                self.waits.append(time.monotonic() - started)
                self.stop_flag.wait(0.01)

    def finish(self) -> dict[str, Any]:
        self.stop_flag.set()
        self.join(180)
        self.engine.dispose()
        waits = sorted(self.waits) or [0.0]
        return {"writer_longest_ms": round(waits[-1] * 1000, 1),
                "writer_p99_ms": round(waits[int(len(waits) * 0.99) - 1 if len(waits) > 1
                                             else 0] * 1000, 1),
                "writer_txns": len(self.waits), "writer_errors": self.errors,
                "writer_deadlocks": self.deadlocks,
                "writer_first_error": self.first_error}  # fmt: skip


def _deadlock(exc: BaseException) -> bool:
    orig = getattr(exc, "orig", exc)
    args = getattr(orig, "args", ())
    return getattr(orig, "sqlstate", None) == "40P01" or (bool(args) and args[0] == 1213)


def _fill(url: str, pg: bool, old: int, new: int) -> None:
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    key = "BIGSERIAL PRIMARY KEY" if pg else "BIGINT AUTO_INCREMENT PRIMARY KEY"
    stamp = "TIMESTAMP" if pg else "DATETIME(6)"
    with engine.connect() as conn:
        conn.execute(sa.text("DROP TABLE IF EXISTS mnt_bench"))
        conn.execute(sa.text(f"CREATE TABLE mnt_bench (id {key}, created_at {stamp} NOT NULL, "
                             "payload VARCHAR(40) NOT NULL)"))  # fmt: skip
        # the old rows go back from 100 days ago (1,000,000 s is 11.6 days); the new ones
        # from yesterday
        for days, n in ((100, old), (1, new)):
            if pg:
                conn.execute(sa.text(
                    "INSERT INTO mnt_bench (created_at, payload) SELECT LOCALTIMESTAMP - "
                    f"make_interval(days => {days}) - make_interval(secs => g), 'row' "
                    f"FROM generate_series(1, {n}) g"))  # fmt: skip
            else:
                conn.execute(sa.text(
                    "INSERT INTO mnt_bench (created_at, payload) SELECT NOW(6) - INTERVAL "
                    f"{days} DAY - INTERVAL seq SECOND, 'row' FROM seq_1_to_{n}"))  # fmt: skip
        conn.execute(sa.text("CREATE INDEX mnt_bench_created ON mnt_bench (created_at)"))
        conn.execute(sa.text("ANALYZE mnt_bench" if pg else "ANALYZE TABLE mnt_bench"))
    engine.dispose()


def _tickwork(url: str, pg: bool) -> int:
    from tickwork.targets import kinds

    class Out:
        def write(self, text: str, /) -> None:
            pass

    kind = kinds.get("builtin")
    spec = kind.validate({"name": "cleanup_old_data", "connection": "db", "table": "mnt_bench",
                          "time_column": "created_at", "dry_run": False, "pause_s": 0,
                          "max_rows": 10_000_000, "lock_timeout_s": 120})  # fmt: skip
    spec["_connections"] = {"db": {"url": url}}
    result = kind.execution(spec, None).run(Out())
    return int(result["metrics"]["rows_deleted"])


def _cutoff(pg: bool) -> str:
    return "LOCALTIMESTAMP - interval '90 days'" if pg else "NOW(6) - INTERVAL 90 DAY"


def _naive(url: str, pg: bool) -> int:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        count = conn.execute(sa.text(f"DELETE FROM mnt_bench WHERE created_at < {_cutoff(pg)}"))
        n = int(count.rowcount)
    engine.dispose()
    return n


def _row_by_row(url: str, pg: bool) -> int:
    """Seed 003's embedding cleanup: 100 ids at a time, one DELETE per id, commit."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    done = 0
    with engine.connect() as conn:
        while done < ROW_BY_ROW_LIMIT:
            ids = [r[0] for r in conn.execute(sa.text(
                f"SELECT id FROM mnt_bench WHERE created_at < {_cutoff(pg)} "
                "ORDER BY created_at DESC LIMIT 100"))]  # fmt: skip
            if not ids:
                break
            for i in ids:
                conn.execute(sa.text("DELETE FROM mnt_bench WHERE id = :i"), {"i": i})
            conn.commit()
            done += len(ids)
    engine.dispose()
    return done


def _database(admin_url: str, pg: bool) -> tuple[str, Any]:
    name = f"mnt_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"' if pg else f"CREATE DATABASE `{name}`"))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)' if pg
                                 else f"DROP DATABASE IF EXISTS `{name}`"))  # fmt: skip
        admin.dispose()

    return make_url(admin_url).set(database=name).render_as_string(hide_password=False), drop


def run(quick: bool = False, rows: int | None = None) -> dict[str, Any]:
    """``rows``: old rows planted (the smoke test's tiny size); else 1,000,000 (100,000
    with ``quick``)."""
    old = rows or (100_000 if quick else 1_000_000)
    new = old // 20
    out: dict[str, Any] = {}
    methods = (("tickwork", _tickwork), ("naive_delete", _naive), ("row_by_row", _row_by_row))
    print(f"deleting {old:,} old rows of {old + new:,} while a writer inserts and updates old "
          "rows (one transaction each)")  # fmt: skip
    print(f"{'engine':<10} {'method':<14} {'rows':>9} {'rows/s':>9} {'writer longest':>15} "
          f"{'writer p99':>11} {'writer txns':>12} {'deadlocks':>10}")  # fmt: skip
    for engine_name, admin_url, pg in (("mariadb", MARIADB, False), ("postgresql", PG, True)):
        try:
            url, drop = _database(admin_url, pg)
        except Exception as exc:
            print(f"{engine_name}: not reachable ({str(exc).splitlines()[0][:80]})")
            continue
        results: dict[str, Any] = {}
        try:
            for name, method in methods:
                _fill(url, pg, old, new)
                writer = Writer(url, pg, old)
                writer.start()
                time.sleep(0.3)
                started = time.monotonic()
                rows = method(url, pg)
                elapsed = time.monotonic() - started
                stats = writer.finish()
                results[name] = {"rows": rows, "seconds": round(elapsed, 2),
                                 "rows_per_s": round(rows / elapsed), **stats}  # fmt: skip
                r = results[name]
                print(f"{engine_name:<10} {name:<14} {rows:>9,} {r['rows_per_s']:>9,} "
                      f"{r['writer_longest_ms']:>12.1f} ms {r['writer_p99_ms']:>8.1f} ms "
                      f"{r['writer_txns']:>12,} {r['writer_deadlocks']:>10}",
                      flush=True)  # fmt: skip
        finally:
            drop()
        t, n, rr = results["tickwork"], results["naive_delete"], results["row_by_row"]
        print(f"{engine_name}: tickwork rows/s = {t['rows_per_s'] / n['rows_per_s']:.2f}x the "
              f"naive DELETE, {t['rows_per_s'] / rr['rows_per_s']:.1f}x the row-by-row loop; "
              f"writer's longest wait {t['writer_longest_ms']:.0f} ms vs "
              f"{n['writer_longest_ms']:.0f} ms (naive), {rr['writer_longest_ms']:.0f} ms "
              "(row by row)")  # fmt: skip
        out[engine_name] = results
    return {
        "maintenance_retention": out,
        "maintenance_rows": old,
    }
