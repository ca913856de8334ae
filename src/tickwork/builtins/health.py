"""Seed 000's high-frequency jobs: db_health_check, monitor_connection_pool,
cleanup_connection_pool and check_slow_queries, on PostgreSQL and MySQL/MariaDB (and SQLite
and Redis where the idea applies)."""

from __future__ import annotations

import statistics
import time
from typing import Any

from tickwork.builtins.context import Context
from tickwork.builtins.db import Db, missing_privilege, pg_can, user_grants_mysql
from tickwork.builtins.mask import mask_statement


# -- db_health_check ------------------------------------------------------------------------
def db_health_check(ctx: Context) -> None:
    report = ctx.report
    rounds = int(ctx.param("rounds"))
    times: list[float] = []
    if ctx.kind == "redis":
        started = time.monotonic()
        client = ctx.redis
        report.metric("connect_ms", (time.monotonic() - started) * 1000)
        for _ in range(rounds):
            t = time.monotonic()
            client.command("PING")
            times.append((time.monotonic() - t) * 1000)
        report.metric("server", "redis")
    else:
        db = ctx.db
        report.metric("connect_ms", db.connect_ms)
        for _ in range(rounds):
            t = time.monotonic()
            db.scalar("SELECT 1")
            times.append((time.monotonic() - t) * 1000)
        version = db.conn.dialect.server_version_info
        report.metric("server", f"{db.dialect} {'.'.join(str(v) for v in version or ())}".strip())
    median = statistics.median(times)
    report.metric("latency_ms", median)
    report.metric("latency_max_ms", max(times))
    warn, critical = float(ctx.param("warn_ms")), float(ctx.param("critical_ms"))
    if median >= critical:
        report.finding(
            "critical",
            "latency",
            f"round trip {median:.1f} ms >= {critical:g} ms",
            "check the server's load and the network between it and Tickwork",
        )
    elif median >= warn:
        report.finding(
            "warning",
            "latency",
            f"round trip {median:.1f} ms >= {warn:g} ms",
            "check the server's load and the network between it and Tickwork",
        )
    ctx.log(f"round trip {median:.1f} ms over {rounds} queries")


# -- monitor_connection_pool -----------------------------------------------------------------
def _not_applicable(ctx: Context, what: str) -> bool:
    if ctx.kind == "database" and ctx.db.dialect == "sqlite":
        ctx.report.finding("info", "sqlite", f"SQLite has no {what}", "")
        return True
    return False


def monitor_connection_pool(ctx: Context) -> None:
    _application_pool(ctx)
    if _not_applicable(ctx, "server connections"):
        return
    db, report = ctx.db, ctx.report
    if db.dialect == "postgresql":
        maximum = int(db.scalar("SELECT current_setting('max_connections')::int"))
        reserved = int(db.scalar("SELECT current_setting('superuser_reserved_connections')::int"))
        rows = db.rows(
            "SELECT coalesce(usename, '') AS user_name, coalesce(state, '') AS state, "
            "count(*) AS n FROM pg_stat_activity WHERE backend_type = 'client backend' "
            "GROUP BY 1, 2 ORDER BY 3 DESC"
        )
        used = sum(int(r["n"]) for r in rows)
        if not pg_can(db, "pg_read_all_stats"):
            missing_privilege(report, "see other users' session states", "GRANT pg_monitor TO "
                              "the connection's user", None)  # fmt: skip
        report.metric("reserved_connections", reserved)
    else:
        maximum = int(db.scalar("SELECT @@max_connections"))
        status = db.rows("SHOW GLOBAL STATUS WHERE Variable_name IN "
                         "('Threads_connected', 'Max_used_connections')")  # fmt: skip
        values = {str(r["Variable_name"]): int(r["Value"]) for r in status}
        used = values.get("Threads_connected", 0)
        report.metric("max_used_connections", values.get("Max_used_connections", 0))
        rows = db.rows(
            "SELECT USER AS user_name, COMMAND AS state, COUNT(*) AS n "
            "FROM information_schema.PROCESSLIST GROUP BY USER, COMMAND ORDER BY n DESC"
        )
        if "PROCESS" not in user_grants_mysql(db) and "ALL PRIVILEGES" not in user_grants_mysql(db):
            missing_privilege(
                report,
                "see other users' sessions (the breakdown shows only its own)",
                "GRANT PROCESS ON *.* TO the connection's user",
                None,
            )
    pct = 100.0 * used / maximum if maximum else 0.0
    report.metric("connections", used)
    report.metric("max_connections", maximum)
    report.metric("usage_pct", pct)
    report.table("sessions", ["user", "state", "count"],
                 [[r["user_name"], r["state"], int(r["n"])] for r in rows])  # fmt: skip
    warn, critical = float(ctx.param("warn_pct")), float(ctx.param("critical_pct"))
    message = f"{used} of {maximum} connections in use ({pct:.1f}%)"
    action = ("find the sessions holding connections (the sessions table); raise "
              "max_connections or put a pooler (PgBouncer, ProxySQL) in front")  # fmt: skip
    if pct >= critical:
        report.finding("critical", "max_connections", message, action)
    elif pct >= warn:
        report.finding("warning", "max_connections", message, action)
    ctx.log(message)


def _application_pool(ctx: Context) -> None:
    """The application's own SQLAlchemy pool, when it registered one (pools.register)."""
    from tickwork.builtins.pools import usage

    name = ctx.param("pool")
    if not name:
        return
    report = ctx.report
    found = usage(str(name))
    if found is None:
        report.finding(
            "info",
            f"pool {name}",
            "no application pool is registered under this name in the process that ran the job",
            "call tickwork.builtins.pools."
            "register in the application, and run the job in its thread executor",
        )
        return
    for key, value in found.items():
        report.metric(f"pool.{key}", value)
    capacity = found.get("size", 0) + max(0, found.get("max_overflow", 0))
    if capacity > 0:
        pct = 100.0 * found.get("checked_out", 0) / capacity
        report.metric("pool.usage_pct", pct)
        warn, critical = float(ctx.param("warn_pct")), float(ctx.param("critical_pct"))
        message = (f"{found.get('checked_out', 0)} of {capacity} pooled connections checked out "
                   f"({pct:.1f}%)")  # fmt: skip
        action = "look for sessions not closed (a leak) or raise pool_size / max_overflow"
        if pct >= critical:
            report.finding("critical", f"pool {name}", message, action)
        elif pct >= warn:
            report.finding("warning", f"pool {name}", message, action)


# -- cleanup_connection_pool -----------------------------------------------------------------
def _pg_sessions(db: Db, idle_s: float, everywhere: bool) -> list[dict[str, Any]]:
    scope = "" if everywhere else "AND datname = current_database() "
    return db.rows(
        "SELECT pid AS id, coalesce(usename, '') AS user_name, coalesce(datname, '') AS db, "
        "coalesce(client_addr::text, 'local') AS host, state, application_name AS app, "
        "extract(epoch FROM now() - state_change)::float8 AS idle_s "
        "FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> "
        "pg_backend_pid() AND state IN ('idle', 'idle in transaction', "
        "'idle in transaction (aborted)') AND now() - state_change > make_interval(secs => :s) "
        f"{scope}"
        "ORDER BY state_change LIMIT 1000",
        {"s": idle_s},
    )


def _my_sessions(db: Db, idle_s: float, everywhere: bool) -> list[dict[str, Any]]:
    scope = "" if everywhere else "AND p.DB = DATABASE() "
    rows = db.rows(
        "SELECT p.ID AS id, p.USER AS user_name, coalesce(p.DB, '') AS db, p.HOST AS host, "
        "CASE WHEN t.trx_id IS NULL THEN 'idle' ELSE 'idle in transaction' END AS state, "
        "'' AS app, p.TIME AS idle_s FROM information_schema.PROCESSLIST p "
        "LEFT JOIN information_schema.INNODB_TRX t ON t.trx_mysql_thread_id = p.ID "
        "WHERE p.COMMAND = 'Sleep' AND p.ID <> CONNECTION_ID() AND p.TIME > :s "
        f"{scope}"
        "ORDER BY p.TIME DESC LIMIT 1000",
        {"s": idle_s},
    )
    return rows


def _own(row: dict[str, Any], excluded: set[str]) -> bool:
    """Tickwork's own sessions (its built-ins and its store, when it names itself) and those
    of excluded users are never ended."""
    app = str(row.get("app") or "")
    return app.startswith("tickwork") or str(row["user_name"]) in excluded


def cleanup_connection_pool(ctx: Context) -> None:
    if _not_applicable(ctx, "server sessions"):
        return
    db, report = ctx.db, ctx.report
    idle_s = float(ctx.param("idle_s"))
    after_s = float(ctx.param("terminate_after_s"))
    excluded = set(ctx.param("exclude_users"))
    everywhere = bool(ctx.param("all_databases"))
    sessions = _pg_sessions if db.dialect == "postgresql" else _my_sessions
    rows = sessions(db, idle_s, everywhere)
    if db.dialect == "postgresql" and not pg_can(db, "pg_read_all_stats"):
        missing_privilege(
            report,
            "see other users' session states (their sessions are not listed)",
            "GRANT pg_monitor TO the connection's user",
            None,
        )
    idle = [r for r in rows if r["state"] == "idle"]
    in_txn = [r for r in rows if r["state"] != "idle"]
    report.metric("idle_sessions", len(idle))
    report.metric("idle_in_transaction", len(in_txn))
    report.table(
        "idle_sessions", ["id", "user", "database", "host", "state", "idle_s"],
        [[r["id"], r["user_name"], r["db"], r["host"], r["state"], float(r["idle_s"])]
         for r in rows],
    )  # fmt: skip
    if idle:
        report.finding(
            "warning" if len(idle) >= 10 else "info",
            "sessions",
            f"{len(idle)} session(s) idle for more than {idle_s:g} s",
            "check the application's pool settings (pool_recycle, idle timeout)",
        )
    for r in in_txn[:20]:
        report.finding(
            "warning", f"session {r['id']} ({r['user_name']}@{r['host']})",
            f"idle in a transaction for {float(r['idle_s']):.0f} s: it holds locks and "
            "snapshots", "fix the code path that leaves the transaction open; set "
            "terminate: true to end such sessions",
        )  # fmt: skip
    victims = [r for r in in_txn if not _own(r, excluded)]
    victims += [r for r in idle if float(r["idle_s"]) > after_s and not _own(r, excluded)]
    victims = victims[: int(ctx.param("max_terminate"))]
    report.metric("to_terminate", len(victims))
    if not ctx.param("terminate"):
        if victims:
            report.finding(
                "info",
                "terminate",
                f"{len(victims)} session(s) would be ended (terminate is off)",
                "set terminate: true to end them",
            )
        return
    ended = 0
    for r in victims:
        ctx.sleep(0)
        try:
            if db.dialect == "postgresql":
                ok = bool(db.scalar("SELECT pg_terminate_backend(:pid)", {"pid": int(r["id"])}))
            else:
                db.execute(f"KILL CONNECTION {int(r['id'])}")  # an integer from the catalog
                ok = True
        except Exception as exc:
            from tickwork.builtins.db import privilege_error

            if privilege_error(exc):
                missing_privilege(report, f"end session {r['id']}",
                                  "GRANT pg_signal_backend (PostgreSQL) or CONNECTION ADMIN / "
                                  "SUPER (MariaDB) to the connection's user", exc)  # fmt: skip
                break
            raise
        if ok:
            ended += 1
            report.finding(
                "info",
                f"session {r['id']} ({r['user_name']})",
                f"ended ({r['state']} for {float(r['idle_s']):.0f} s)",
                "",
            )
    report.metric("terminated", ended)
    ctx.log(f"{len(rows)} idle session(s); {ended} ended")


# -- check_slow_queries ----------------------------------------------------------------------
def check_slow_queries(ctx: Context) -> None:
    if _not_applicable(ctx, "list of running statements"):
        return
    db, report = ctx.db, ctx.report
    threshold = float(ctx.param("threshold_s"))
    critical = float(ctx.param("critical_s"))
    chars = int(ctx.param("max_statement_chars"))
    if db.dialect == "postgresql":
        rows = db.rows(
            "SELECT pid AS id, coalesce(usename, '') AS user_name, coalesce(datname, '') AS db, "
            "coalesce(wait_event_type || ':' || wait_event, state) AS state, "
            "extract(epoch FROM now() - query_start)::float8 AS seconds, "
            "left(query, :n) AS statement FROM pg_stat_activity "
            "WHERE state = 'active' AND backend_type = 'client backend' "
            "AND pid <> pg_backend_pid() AND now() - query_start > make_interval(secs => :s) "
            "ORDER BY query_start LIMIT 200",
            {"s": threshold, "n": chars * 4 + 1000},
        )
        if not pg_can(db, "pg_read_all_stats"):
            missing_privilege(report, "see other users' statements", "GRANT pg_monitor TO the "
                              "connection's user", None)  # fmt: skip
        cancel = "SELECT pg_cancel_backend({id})"
    else:
        rows = db.rows(
            "SELECT ID AS id, USER AS user_name, coalesce(DB, '') AS db, "
            "coalesce(STATE, COMMAND) AS state, TIME_MS / 1000.0 AS seconds, "
            "LEFT(INFO, :n) AS statement FROM information_schema.PROCESSLIST "
            "WHERE COMMAND = 'Query' AND ID <> CONNECTION_ID() AND TIME_MS > :ms "
            "ORDER BY TIME_MS DESC LIMIT 200"
            if db.mariadb else
            "SELECT ID AS id, USER AS user_name, coalesce(DB, '') AS db, "
            "coalesce(STATE, COMMAND) AS state, TIME AS seconds, LEFT(INFO, :n) AS statement "
            "FROM information_schema.PROCESSLIST WHERE COMMAND = 'Query' "
            "AND ID <> CONNECTION_ID() AND TIME > :s ORDER BY TIME DESC LIMIT 200",
            {"s": threshold, "ms": threshold * 1000, "n": chars * 4 + 1000},
        )  # fmt: skip
        grants = user_grants_mysql(db)
        if "PROCESS" not in grants and "ALL PRIVILEGES" not in grants:
            missing_privilege(report, "see other users' statements", "GRANT PROCESS ON *.* TO "
                              "the connection's user", None)  # fmt: skip
        cancel = "KILL QUERY {id}"
    shown = []
    for r in rows:
        seconds = float(r["seconds"] or 0)
        text = mask_statement(r["statement"], chars)
        shown.append([r["id"], r["user_name"], r["db"], r["state"], seconds, text])
        report.finding(
            "critical" if seconds >= critical else "warning",
            f"session {r['id']} ({r['user_name']}@{r['db']})",
            f"running for {seconds:.1f} s: {text}",
            f"EXPLAIN the statement and add the index it lacks; to stop it: "
            f"{cancel.format(id=int(r['id']))}",
        )
    report.metric("slow_queries", len(rows))
    report.metric("longest_s", max((s[4] for s in shown), default=0.0))
    report.table("slow_queries", ["id", "user", "database", "state", "seconds", "statement"],
                 shown)  # fmt: skip
    ctx.log(f"{len(rows)} statement(s) running longer than {threshold:g} s")
