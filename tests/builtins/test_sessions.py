"""Seed 000's session jobs against the real servers, with the conditions planted: an idle
session, one idle in a transaction, a long SLEEP / pg_sleep running, a user without
privileges."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from tests.builtins.conftest import findings, run_builtin

WAIT_S = 20.0  # the most a test waits for the server to show a planted condition


def until(check: Callable[[], dict[str, Any] | None]) -> dict[str, Any]:
    """Repeat ``check`` until it returns a result (servers show sessions' times in whole
    seconds); fails if the condition never shows."""
    deadline = time.monotonic() + WAIT_S
    while True:
        result = check()
        if result is not None:
            return result
        assert time.monotonic() < deadline, "the planted condition never showed"
        time.sleep(0.2)


def session_id(conn: sa.Connection, engine_name: str) -> int:
    sql = "SELECT pg_backend_pid()" if engine_name == "postgres" else "SELECT CONNECTION_ID()"
    return int(conn.execute(sa.text(sql)).scalar_one())


@pytest.fixture
def pool_table(admin: sa.Engine, engine_name: str) -> Iterator[str]:
    with admin.connect() as conn:
        conn.execute(sa.text("DROP TABLE IF EXISTS mnt_pool"))
        conn.execute(sa.text("CREATE TABLE mnt_pool (id INT PRIMARY KEY)"))
    yield "mnt_pool"
    with admin.connect() as conn:
        conn.execute(sa.text("DROP TABLE IF EXISTS mnt_pool"))


def test_db_health_check_measures_a_round_trip(target_url: str) -> None:
    result = run_builtin(target_url, name="db_health_check", rounds=2, warn_ms=0)
    assert "failed" not in result
    assert result["metrics"]["latency_ms"] >= 0
    assert result["metrics"]["server"].split()[0] in ("postgresql", "mysql")
    # warn_ms 0: every round trip is over it
    assert [f["object"] for f in findings(result, "warning")] == ["latency"]


def test_unreachable_server_is_a_critical_finding_and_a_failed_run(engine_name: str) -> None:
    url = ("postgresql+psycopg://nobody@127.0.0.1:1/x" if engine_name == "postgres"
           else "mysql+pymysql://nobody@127.0.0.1:1/x")  # fmt: skip
    result = run_builtin(url, name="db_health_check")
    assert result["failed"].startswith("cannot reach the server")
    assert findings(result, "critical")[0]["object"] == "connection"


def test_idle_sessions_are_reported_and_ended_only_with_terminate(
    target_url: str, engine_name: str, pool_table: str
) -> None:
    engine = sa.create_engine(target_url, poolclass=sa.pool.NullPool)
    idle, in_txn = engine.connect(), engine.connect()
    try:
        idle.execute(sa.text("SELECT 1"))
        idle.commit()
        idle_id = session_id(idle, engine_name)
        idle.commit()
        txn_id = session_id(in_txn, engine_name)
        in_txn.execute(sa.text("INSERT INTO mnt_pool (id) VALUES (1)"))  # and stays open

        def seen() -> dict[str, Any] | None:
            result = run_builtin(target_url, name="cleanup_connection_pool", idle_s=1)
            ids = {row[0] for row in result["tables"]["idle_sessions"]["rows"]}
            return result if {idle_id, txn_id} <= ids else None

        result = until(seen)
        assert "failed" not in result
        warned = [f["object"] for f in findings(result, "warning")]
        assert any(o.startswith(f"session {txn_id} ") for o in warned)
        assert not any(o.startswith(f"session {idle_id} ") for o in warned)
        assert result["metrics"].get("terminated") is None  # terminate is off by default
        # Both sessions still work.
        idle.execute(sa.text("SELECT 1"))
        idle.commit()
        assert in_txn.execute(sa.text("SELECT count(*) FROM mnt_pool")).scalar_one() == 1

        until(lambda: None if txn_id not in {
            r[0] for r in run_builtin(target_url, name="cleanup_connection_pool", idle_s=1)[
                "tables"]["idle_sessions"]["rows"]} else {})  # fmt: skip
        ended = run_builtin(
            target_url, name="cleanup_connection_pool", idle_s=1, terminate=True,
            terminate_after_s=3600,
        )  # fmt: skip
        assert "failed" not in ended
        assert ended["metrics"]["terminated"] >= 1
        with pytest.raises(sa.exc.DBAPIError):
            in_txn.execute(sa.text("SELECT 1"))
        # The plain idle session is under terminate_after_s: it stays.
        idle.execute(sa.text("SELECT 1"))
        idle.commit()
    finally:
        for conn in (idle, in_txn):
            try:
                conn.close()
            except Exception:
                conn.invalidate()
        engine.dispose()
    checker = sa.create_engine(target_url, poolclass=sa.pool.NullPool)
    with checker.connect() as check:  # the ended transaction's row is gone
        assert check.execute(sa.text("SELECT count(*) FROM mnt_pool")).scalar_one() == 0
    checker.dispose()


@pytest.mark.postgres
def test_tickwork_sessions_are_never_ended(mnt_databases: Callable[[str], str]) -> None:
    url = mnt_databases("postgres")
    engine = sa.create_engine(
        url, poolclass=sa.pool.NullPool, connect_args={"application_name": "tickwork-store"}
    )
    with engine.connect() as ours:
        pid = session_id(ours, "postgres")
        ours.execute(sa.text("SELECT 1"))  # idle in a transaction from here on

        def seen() -> dict[str, Any] | None:
            result = run_builtin(url, name="cleanup_connection_pool", idle_s=0.5,
                                 terminate=True)  # fmt: skip
            ids = {row[0] for row in result["tables"]["idle_sessions"]["rows"]}
            return result if pid in ids else None

        result = until(seen)
        assert result["metrics"]["terminated"] == 0 or not any(
            f["object"].startswith(f"session {pid} ") and f["message"].startswith("ended")
            for f in result["findings"]
        )
        assert ours.execute(sa.text("SELECT 1")).scalar_one() == 1
    engine.dispose()


def test_slow_query_is_found_with_its_literals_masked(
    target_url: str, engine_name: str, admin: sa.Engine
) -> None:
    engine = sa.create_engine(target_url, poolclass=sa.pool.NullPool)
    sleeper = engine.connect()
    sid = session_id(sleeper, engine_name)
    sleep = "pg_sleep" if engine_name == "postgres" else "SLEEP"
    thread = threading.Thread(
        target=lambda: _quietly(sleeper, f"SELECT {sleep}(10), 'mnt-secret-literal', 42"),
        daemon=True,
    )
    thread.start()
    try:

        def seen() -> dict[str, Any] | None:
            result = run_builtin(target_url, name="check_slow_queries", threshold_s=1)
            return result if result["metrics"]["slow_queries"] >= 1 else None

        result = until(seen)
        mine = [f for f in result["findings"] if f["object"].startswith(f"session {sid} ")]
        assert len(mine) == 1
        assert mine[0]["severity"] == "warning"
        assert sleep.lower() in mine[0]["message"].lower()
        assert "mnt-secret-literal" not in str(result)
        assert "42" not in mine[0]["message"]
        assert "?" in mine[0]["message"]
        critical = run_builtin(target_url, name="check_slow_queries", threshold_s=0.5,
                               critical_s=0.5)  # fmt: skip
        assert any(f["object"].startswith(f"session {sid} ") for f in findings(critical,
                   "critical"))  # fmt: skip
    finally:
        with admin.connect() as conn:
            if engine_name == "postgres":
                conn.execute(sa.text("SELECT pg_cancel_backend(:p)"), {"p": sid})
            else:
                conn.execute(sa.text(f"KILL QUERY {sid}"))
        thread.join(15)
        sleeper.close()
        engine.dispose()


def _quietly(conn: sa.Connection, sql: str) -> None:
    with contextlib.suppress(Exception):
        conn.execute(sa.text(sql)).fetchall()


def test_pool_over_the_critical_share_is_critical(target_url: str) -> None:
    result = run_builtin(target_url, name="monitor_connection_pool", warn_pct=0,
                         critical_pct=0.1)  # fmt: skip
    metrics = result["metrics"]
    assert metrics["connections"] >= 1
    assert metrics["max_connections"] > 0
    assert metrics["usage_pct"] == pytest.approx(
        100 * metrics["connections"] / metrics["max_connections"], abs=0.01
    )
    crit = findings(result, "critical")
    assert [f["object"] for f in crit] == ["max_connections"]
    quiet = run_builtin(target_url, name="monitor_connection_pool")  # 60 % / 80 %
    assert not findings(quiet, "critical")
    assert result["tables"]["sessions"]["rows"]


def test_a_user_without_privileges_gets_a_finding_not_a_crash(unprivileged_url: str) -> None:
    for name in ("check_slow_queries", "monitor_connection_pool", "cleanup_connection_pool"):
        result = run_builtin(unprivileged_url, name=name)
        assert "failed" not in result, result
        privileges = [f for f in findings(result, "warning") if f["object"] == "privileges"]
        assert len(privileges) == 1, result
        assert "GRANT" in privileges[0]["action"]


def test_the_applications_own_pool_when_registered(target_url: str) -> None:
    from tickwork.builtins import pools

    engine = sa.create_engine(target_url, pool_size=2, max_overflow=0)
    pools.register("mnt-app", engine)
    held = [engine.connect(), engine.connect()]
    try:
        full = run_builtin(target_url, name="monitor_connection_pool", pool="mnt-app")
        assert full["metrics"]["pool.checked_out"] == 2
        assert full["metrics"]["pool.usage_pct"] == 100.0
        assert ("critical", "pool mnt-app") in [
            (f["severity"], f["object"]) for f in full["findings"]
        ]
        held.pop().close()
        half = run_builtin(target_url, name="monitor_connection_pool", pool="mnt-app")
        assert ("warning", "pool mnt-app") not in [
            (f["severity"], f["object"]) for f in half["findings"]
        ]  # 50 % is under the 60 % warning
        unknown = run_builtin(target_url, name="monitor_connection_pool", pool="nowhere")
        assert ("info", "pool nowhere") in [(f["severity"], f["object"])
                                            for f in unknown["findings"]]  # fmt: skip
    finally:
        for conn in held:
            conn.close()
        pools.unregister("mnt-app")
        engine.dispose()


@pytest.mark.postgres
def test_the_stores_and_the_sql_kinds_sessions_name_themselves(
    mnt_databases: Callable[[str], str],
) -> None:
    from tickwork.store.database import Database
    from tickwork.targets.sql import engine_for

    url = mnt_databases("postgres")
    db = Database(url)
    sql_engine = engine_for(url)
    try:
        with db.engine.connect() as a, sql_engine.connect() as b:
            names = {
                conn.execute(sa.text("SELECT current_setting('application_name')")).scalar_one()
                for conn in (a, b)
            }
        assert names == {"tickwork-store", "tickwork-sql"}
    finally:
        db.engine.dispose()
        sql_engine.dispose()  # (the engine stays usable; its pooled connection is closed)


def test_analyze_without_the_tables_privilege_is_a_finding(
    unprivileged_url: str, admin: sa.Engine, pool_table: str
) -> None:
    result = run_builtin(unprivileged_url, name="analyze_tables", tables=["mnt_pool"])
    assert "failed" not in result, result
    assert [f["object"] for f in findings(result, "warning")] == ["privileges"]
    assert result["metrics"].get("tables_analyzed", 0) == 0  # MariaDB: the statement refused
