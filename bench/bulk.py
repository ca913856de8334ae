"""Bulk speed (issue 15, item 7): adding 1,000,000 jobs with ``add_jobs`` and through the
importers (``tickwork import crontab`` of a 1,000,000-line crontab, ``tickwork jobs import`` of
a 1,000,000-entry job file written by ``tickwork export``, ``tickwork import xxl-job`` and
``tickwork import ruoyi`` of mysqldump-style dumps of 1,000,000 rows on the same schedules),
on SQLite and PostgreSQL, against the issue's targets (20 s on SQLite, 60 s on PostgreSQL).
``--quick``: 20,000 jobs.
``add_jobs`` is one call with all the jobs (its JobSpecs made inside the timing) and a
progress callback; the CLI commands run with TICKWORK_PROGRESS=1, so their progress lines
are written (to a buffer) inside the timing too.

Each measurement runs in a fresh database; the PostgreSQL one is created and dropped here
(TICKWORK_BENCH_PG, default the local server). Rates are jobs per second of wall time; the
ratio column is the measured rate over the target's rate (1,000,000 jobs in the target's
seconds): >= 1 meets it."""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench.peers.common import cron_mix

PG_ADMIN = os.environ.get("TICKWORK_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
TARGET_S = {"sqlite": 20.0, "postgres": 60.0}


@contextlib.contextmanager
def _database(kind: str, folder: Path) -> Iterator[str]:
    if kind == "sqlite":
        path = folder / f"bulk-{uuid.uuid4().hex[:8]}.db"
        try:
            yield f"sqlite:///{path}"
        finally:
            for leftover in folder.glob(path.name + "*"):
                leftover.unlink()
        return
    name = f"tw_bench_bulk_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.engine.make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _add_jobs(url: str, n: int) -> float:
    from tickwork import JobSpec, Tickwork

    exprs = cron_mix(n, 0)
    tw = Tickwork(url, timezone="UTC")
    steps: list[int] = []  # progress as a caller shows it: reported, and timed with the rest
    try:
        t0 = time.perf_counter()
        tw.add_jobs(
            [
                JobSpec(target="bench.engine_tasks:noop", trigger=exprs[i],
                        id=f"cron-{i:07d}", owner="python", check_target=False)
                for i in range(n)
            ],
            progress=steps.append,
        )  # fmt: skip
        elapsed = time.perf_counter() - t0
        if not steps or steps[-1] != n:
            raise RuntimeError(f"add_jobs reported no progress to the end: {steps[-3:]}")
        return elapsed
    finally:
        tw.close()


def _cli(*argv: str) -> float:
    from tickwork.cli import main

    sink = io.StringIO()
    os.environ["TICKWORK_PROGRESS"] = "1"  # progress lines written (to the sink), and timed
    try:
        t0 = time.perf_counter()
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            status = main(list(argv))
        elapsed = time.perf_counter() - t0
    finally:
        del os.environ["TICKWORK_PROGRESS"]
    if status != 0:
        raise RuntimeError(f"tickwork {' '.join(argv)} failed: {sink.getvalue()[-500:]}")
    if argv[0] != "export" and "jobs: " not in sink.getvalue():
        raise RuntimeError(f"tickwork {' '.join(argv)} showed no progress")
    return elapsed


def _measure(kind: str, n: int, folder: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with _database(kind, folder) as url:
        out["add_jobs"] = _add_jobs(url, n)
        export = folder / f"jobs-{kind}.json"
        out["export"] = _cli("export", "--format", "json", "-o", str(export), "--database-url", url)
    crontab = folder / "bulk.crontab"
    if not crontab.exists():
        crontab.write_text("".join(f"{e} /bin/true\n" for e in cron_mix(n, 0)))
    with _database(kind, folder) as url:
        out["import_crontab"] = _cli("import", "crontab", str(crontab), "--database-url", url)
    with _database(kind, folder) as url:
        out["import_job_file"] = _cli("jobs", "import", str(export), "--database-url", url)
    xxl, ruoyi = folder / "xxl_job.sql", folder / "ruoyi_sys_job.sql"
    if not xxl.exists():
        _write_dumps(n, xxl, ruoyi)
    with _database(kind, folder) as url:
        out["import_xxl_job"] = _cli(
            "import", "xxl-job", str(xxl), "--handler", "demoJobHandler=bench.engine_tasks:noop",
            "--database-url", url,
        )  # fmt: skip
    with _database(kind, folder) as url:
        out["import_ruoyi"] = _cli("import", "ruoyi", str(ruoyi), "--database-url", url)
    return out


def _quartz(expr: str) -> str:
    """A 5-field cron expression of ``cron_mix`` as Quartz writes it (seconds, ``?`` in the
    day field not given, days of the week 1 = Sunday)."""
    m, h, dom, mon, dow = expr.split()
    if dow == "*":
        return f"0 {m} {h} {dom} {mon} ?"
    return f"0 {m} {h} ? {mon} {'2-6' if dow == '1-5' else int(dow) + 1}"


def _write_dumps(n: int, xxl: Path, ruoyi: Path) -> None:
    """mysqldump-style dumps (extended INSERTs of 2,000 rows) of xxl-job's ``xxl_job_info``
    and RuoYi's ``sys_job`` holding ``n`` jobs on ``cron_mix``'s schedules."""
    crons = [_quartz(e) for e in cron_mix(n, 0)]
    with xxl.open("w", encoding="utf-8") as f:
        f.write(
            "CREATE TABLE `xxl_job_group` (`id` int, `app_name` varchar(64), `title` varchar(12),"
            " `address_type` tinyint, `address_list` text, `update_time` datetime);\n"
            "INSERT INTO `xxl_job_group` VALUES (1,'bench','Bench',0,NULL,'2026-01-01 00:00:00');\n"
            "CREATE TABLE `xxl_job_info` (`id` int, `job_group` int, `job_desc` varchar(255), "
            "`add_time` datetime, `update_time` datetime, `author` varchar(64), "
            "`alarm_email` varchar(255), `schedule_type` varchar(50), `schedule_conf` varchar(128),"
            " `misfire_strategy` varchar(50), `executor_route_strategy` varchar(50), "
            "`executor_handler` varchar(255), `executor_param` varchar(512), "
            "`executor_block_strategy` varchar(50), `executor_timeout` int, "
            "`executor_fail_retry_count` int, `glue_type` varchar(50), `glue_source` mediumtext, "
            "`glue_remark` varchar(128), `glue_updatetime` datetime, `child_jobid` varchar(255), "
            "`trigger_status` tinyint, `trigger_last_time` bigint, `trigger_next_time` bigint);\n"
        )
        for start in range(0, n, 2000):
            rows = ",".join(
                f"({i + 1},1,'job {i + 1}','2026-01-01 00:00:00','2026-01-01 00:00:00','ops',NULL,"
                f"'CRON','{crons[i]}','DO_NOTHING','FIRST','demoJobHandler','',"
                "'SERIAL_EXECUTION',0,0,'BEAN',NULL,NULL,NULL,NULL,1,0,0)"
                for i in range(start, min(n, start + 2000))
            )
            f.write(f"INSERT INTO `xxl_job_info` VALUES {rows};\n")
    with ruoyi.open("w", encoding="utf-8") as f:
        f.write(
            "create table sys_job (job_id bigint, job_name varchar(64), job_group varchar(64), "
            "invoke_target varchar(500), cron_expression varchar(255), misfire_policy varchar(20),"
            " concurrent char(1), status char(1), create_by varchar(64), create_time datetime, "
            "update_by varchar(64), update_time datetime, remark varchar(500));\n"
        )
        for start in range(0, n, 2000):
            rows = ",".join(
                f"({i + 1},'job {i + 1}','DEFAULT','bench.engine_tasks.noop','{crons[i]}','3','1',"
                "'0','admin',sysdate(),'',null,'')"
                for i in range(start, min(n, start + 2000))
            )
            f.write(f"insert into sys_job values{rows};\n")


def _core_speed() -> float:
    """Seconds for a fixed pure-Python loop: how fast a core is right now. On a shared
    virtual machine it varies by half from hour to hour, and so does every figure here."""
    t0 = time.perf_counter()
    total = 0
    for i in range(20_000_000):
        total += i
    return time.perf_counter() - t0


def run(quick: bool = False) -> dict[str, Any]:
    n = 20_000 if quick else int(os.environ.get("TICKWORK_BENCH_BULK_N", "1000000"))
    os.environ["TICKWORK_ALLOWED_TARGETS"] = "bench"
    results: dict[str, Any] = {}
    load_start = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    speed_start = _core_speed()
    with tempfile.TemporaryDirectory(prefix="tw-bulk-") as tmp:
        for kind in ("sqlite", "postgres"):
            try:
                results[kind] = _measure(kind, n, Path(tmp))
            except Exception as exc:  # a missing server: say so, measure the rest
                results[kind] = {"error": f"{type(exc).__name__}: {str(exc)[:200]}"}
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    speed_end = _core_speed()
    print(f"bulk: {n:,} jobs per measurement; ratio = rate / target rate (>= 1: met)")
    print(
        f"load average at the start: {load_start}, at the end: {load} "
        "(other work on the machine slows every figure)"
    )
    print(
        f"core speed (a fixed pure-Python loop, s; lower is faster): {speed_start:.2f} at the "
        f"start, {speed_end:.2f} at the end"
    )
    print(
        f"{'store':<10} {'operation':<18} {'seconds':>9} {'jobs/s':>9} {'target/s':>9} {'ratio':>6}"
    )
    flat: dict[str, Any] = {}
    for kind, ops in results.items():
        if "error" in ops:
            print(f"{kind:<10} {ops['error']}")
            continue
        for op, seconds in ops.items():
            rate = n / seconds
            target = 1_000_000 / TARGET_S[kind] if op != "export" else None
            ratio = f"{rate / target:.2f}" if target else "-"
            shown = f"{target:,.0f}" if target else "-"
            print(f"{kind:<10} {op:<18} {seconds:>9.1f} {rate:>9,.0f} {shown:>9} {ratio:>6}")
            flat[f"bulk_{kind}_{op}_s"] = round(seconds, 2)
    flat["bulk_jobs"] = n
    flat["bulk_core_speed_s"] = [round(speed_start, 2), round(speed_end, 2)]
    return flat
