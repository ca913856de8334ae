"""Seed 000's table jobs (analyze_tables, check_table_fragmentation,
generate_performance_report) and seed 004's capacity sync (collect_database_sizes)."""

from __future__ import annotations

from typing import Any

from tickwork.builtins.context import Context
from tickwork.builtins.db import Db, TableInfo, missing_privilege

_MY_SYSTEM = ("mysql", "information_schema", "performance_schema", "sys")


def _listed(ctx: Context) -> list[TableInfo]:
    return [ctx.db.table(name, f"tables[{i}]") for i, name in enumerate(ctx.param("tables"))]


# -- analyze_tables --------------------------------------------------------------------------
def analyze_tables(ctx: Context) -> None:
    db, report = ctx.db, ctx.report
    limit = int(ctx.param("max_tables"))
    chosen: list[tuple[TableInfo, Any]] = [(t, "listed") for t in _listed(ctx)]
    if not chosen:
        if db.dialect == "postgresql":
            rows = db.rows(
                "SELECT schemaname AS s, relname AS t, n_mod_since_analyze AS changes "
                "FROM pg_stat_user_tables WHERE n_mod_since_analyze >= :m "
                "ORDER BY n_mod_since_analyze DESC LIMIT :n",
                {"m": int(ctx.param("min_changes")), "n": limit},
            )
        elif db.dialect == "mysql":
            # MySQL keeps no count of changes; tables written to since the last daily run,
            # the largest first, are those whose statistics drift
            rows = db.rows(
                "SELECT TABLE_SCHEMA AS s, TABLE_NAME AS t, TABLE_ROWS AS changes "
                "FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() "
                "AND TABLE_TYPE = 'BASE TABLE' AND UPDATE_TIME >= NOW() - INTERVAL 25 HOUR "
                "ORDER BY TABLE_ROWS DESC LIMIT :n",
                {"n": limit},
            )
        else:
            rows = db.rows(
                "SELECT NULL AS s, name AS t, NULL AS changes FROM sqlite_master "
                "WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name LIMIT :n",
                {"n": limit},
            )
        chosen = [(TableInfo(r["s"], str(r["t"]), {}, []), r["changes"]) for r in rows]
    done = []
    for table, changes in chosen[:limit]:
        ctx.sleep(0)
        target = db.qualified(table)
        if db.dialect == "mysql":
            result = db.rows(f"ANALYZE TABLE {target}")
            problems = [r for r in result if str(r.get("Msg_type")).lower() == "error"]
            status = "; ".join(str(r.get("Msg_text")) for r in result)[:200]
            if problems:
                report.finding(
                    "warning",
                    table.name,
                    f"ANALYZE failed: {status}",
                    "check the table (CHECK TABLE) and the user's privileges",
                )
        else:
            if db.dialect == "postgresql" and not _pg_owns(db, target):
                # PostgreSQL skips a table it may not analyze with a mere warning
                missing_privilege(report, f"ANALYZE {table.name} (only its owner may)",
                                  f"run the job as the owner of {table.name}", None)  # fmt: skip
                continue
            db.execute(f"ANALYZE {target}")
            status = "OK"
        done.append([table.name, changes, status])
    report.metric("tables_analyzed", len(done))
    report.table("analyzed", ["table", "changes", "status"], done)
    ctx.log(f"analyzed {len(done)} table(s)")


def _pg_owns(db: Db, target: str) -> bool:
    return bool(db.scalar(
        "SELECT pg_has_role(current_user, relowner, 'USAGE') FROM pg_class "
        "WHERE oid = to_regclass(:t)", {"t": target},
    ))  # fmt: skip


# -- check_table_fragmentation ---------------------------------------------------------------
def check_table_fragmentation(ctx: Context) -> None:
    db, report = ctx.db, ctx.report
    threshold = float(ctx.param("threshold_pct"))
    min_bytes = int(ctx.param("min_bytes"))
    shown: list[list[Any]] = []
    if db.dialect == "mysql":
        rows = db.rows(
            "SELECT TABLE_NAME AS t, ENGINE AS engine, DATA_LENGTH + INDEX_LENGTH AS used, "
            "DATA_FREE AS free FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() "
            "AND TABLE_TYPE = 'BASE TABLE' AND DATA_LENGTH + INDEX_LENGTH + DATA_FREE >= :b "
            "ORDER BY DATA_FREE DESC LIMIT 500",
            {"b": min_bytes},
        )
        for r in rows:
            used, free = int(r["used"] or 0), int(r["free"] or 0)
            pct = 100.0 * free / (used + free) if used + free else 0.0
            shown.append([r["t"], r["engine"], used, free, pct])
            if pct > threshold:
                report.finding(
                    "warning", str(r["t"]),
                    f"{pct:.1f}% of the table's space is free ({free} of {used + free} bytes)",
                    f"rebuild it in a quiet hour: OPTIMIZE TABLE {db.quote(str(r['t']))} "
                    "(online for InnoDB)",
                )  # fmt: skip
        report.table("tables", ["table", "engine", "used_bytes", "free_bytes", "free_pct"], shown)
    elif db.dialect == "postgresql":
        rows = db.rows(
            "SELECT schemaname AS s, relname AS t, n_live_tup AS live, n_dead_tup AS dead, "
            "pg_table_size(relid) AS bytes, "
            "greatest(last_vacuum, last_autovacuum) AS vacuumed FROM pg_stat_user_tables "
            "WHERE n_dead_tup >= :d AND pg_table_size(relid) >= :b "
            "ORDER BY n_dead_tup DESC LIMIT 500",
            {"d": int(ctx.param("min_dead_rows")), "b": min_bytes},
        )
        for r in rows:
            live, dead, size = int(r["live"] or 0), int(r["dead"] or 0), int(r["bytes"] or 0)
            pct = 100.0 * dead / (live + dead) if live + dead else 0.0
            bloat = int(size * pct / 100)
            name = f"{r['s']}.{r['t']}"
            shown.append([name, live, dead, pct, size, bloat, r["vacuumed"]])
            if pct > threshold:
                table = f"{db.quote(str(r['s']))}.{db.quote(str(r['t']))}"
                report.finding(
                    "warning", name,
                    f"{pct:.1f}% of its rows are dead ({dead} dead, {live} live; about {bloat} "
                    "bytes of bloat)",
                    f"VACUUM (ANALYZE) {table}; if autovacuum lags behind, lower the table's "
                    "autovacuum_vacuum_scale_factor",
                )  # fmt: skip
        report.table("tables", ["table", "live_rows", "dead_rows", "dead_pct", "bytes",
                                "bloat_bytes", "last_vacuum"], shown)  # fmt: skip
    else:
        pages = int(db.scalar("PRAGMA page_count"))
        free = int(db.scalar("PRAGMA freelist_count"))
        size = int(db.scalar("PRAGMA page_size"))
        pct = 100.0 * free / pages if pages else 0.0
        report.metric("free_pages", free)
        shown.append(["(database)", pages * size, free * size, pct])
        if pct > threshold and pages * size >= min_bytes:
            report.finding(
                "warning",
                "database",
                f"{pct:.1f}% of the file's pages are free",
                "VACUUM the database in a quiet hour (it rewrites the file)",
            )
        report.table("database", ["object", "bytes", "free_bytes", "free_pct"], shown)
    report.metric("tables_checked", len(shown))
    report.metric("fragmented", sum(1 for f in report.findings if f["severity"] == "warning"))
    ctx.log(f"{len(shown)} table(s) checked")


# -- sizes -----------------------------------------------------------------------------------
def table_sizes(db: Db, limit: int) -> list[list[Any]]:
    """[table, bytes (data + indexes), rows (estimate)] of the largest tables."""
    if db.dialect == "postgresql":
        rows = db.rows(
            "SELECT schemaname || '.' || relname AS t, pg_total_relation_size(relid) AS bytes, "
            "n_live_tup AS n FROM pg_stat_user_tables ORDER BY 2 DESC LIMIT :n", {"n": limit},
        )  # fmt: skip
    elif db.dialect == "mysql":
        rows = db.rows(
            "SELECT TABLE_NAME AS t, DATA_LENGTH + INDEX_LENGTH AS bytes, TABLE_ROWS AS n "
            "FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() "
            "AND TABLE_TYPE = 'BASE TABLE' ORDER BY 2 DESC LIMIT :n", {"n": limit},
        )  # fmt: skip
    else:
        try:
            rows = db.rows(
                "SELECT name AS t, SUM(pgsize) AS bytes, NULL AS n FROM dbstat "
                "WHERE name NOT LIKE 'sqlite_%' GROUP BY name ORDER BY 2 DESC LIMIT :n",
                {"n": limit},
            )
        except Exception:  # SQLite built without the dbstat table
            rows = []
    return [[str(r["t"]), int(r["bytes"] or 0), None if r["n"] is None else int(r["n"])]
            for r in rows]  # fmt: skip


def database_sizes(db: Db) -> list[list[Any]]:
    if db.dialect == "postgresql":
        rows = db.rows(
            "SELECT datname AS d, pg_database_size(datname) AS bytes FROM pg_database "
            "WHERE datallowconn AND NOT datistemplate "
            "AND has_database_privilege(datname, 'CONNECT') ORDER BY 2 DESC LIMIT 200"
        )
    elif db.dialect == "mysql":
        rows = db.rows(
            "SELECT TABLE_SCHEMA AS d, SUM(DATA_LENGTH + INDEX_LENGTH) AS bytes "
            "FROM information_schema.TABLES WHERE TABLE_SCHEMA NOT IN "
            "('mysql', 'information_schema', 'performance_schema', 'sys') "
            "GROUP BY TABLE_SCHEMA ORDER BY 2 DESC LIMIT 200"
        )
    else:
        size = int(db.scalar("PRAGMA page_count")) * int(db.scalar("PRAGMA page_size"))
        rows = [{"d": "main", "bytes": size}]
    return [[str(r["d"]), int(r["bytes"] or 0)] for r in rows]


def _current_size(db: Db, databases: list[list[Any]]) -> int:
    if db.dialect == "postgresql":
        return int(db.scalar("SELECT pg_database_size(current_database())"))
    if db.dialect == "mysql":
        name = db.current_schema()
        return next((int(b) for d, b in databases if d == name), 0)
    return int(databases[0][1]) if databases else 0


def collect_database_sizes(ctx: Context) -> None:
    db, report = ctx.db, ctx.report
    databases = database_sizes(db)
    tables = table_sizes(db, int(ctx.param("max_tables")))
    report.metric("database_bytes", _current_size(db, databases))
    report.metric("databases_bytes", sum(int(b) for _, b in databases))
    report.metric("databases", len(databases))
    report.table("databases", ["database", "bytes"], databases)
    report.table("tables", ["table", "bytes", "rows"], tables)
    ctx.log(f"{len(databases)} database(s), {len(tables)} table(s) measured")


# -- generate_performance_report -------------------------------------------------------------
def generate_performance_report(ctx: Context) -> None:
    db, report = ctx.db, ctx.report
    tables = table_sizes(db, int(ctx.param("max_tables")))
    report.table("tables", ["table", "bytes", "rows"], tables)
    report.metric("tables_bytes", sum(t[1] for t in tables))
    if db.dialect == "postgresql":
        report.metric("database_bytes", int(db.scalar(
            "SELECT pg_database_size(current_database())")))  # fmt: skip
        row = db.rows(
            "SELECT blks_hit, blks_read, xact_commit, xact_rollback, deadlocks, temp_bytes "
            "FROM pg_stat_database WHERE datname = current_database()"
        )[0]
        hit, read = int(row["blks_hit"] or 0), int(row["blks_read"] or 0)
        for key in ("xact_commit", "xact_rollback", "deadlocks", "temp_bytes"):
            report.metric(key, int(row[key] or 0))
        connections = int(
            db.scalar("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'")
        )
        maximum = int(db.scalar("SELECT current_setting('max_connections')::int"))
    elif db.dialect == "mysql":
        status = {
            str(r["Variable_name"]): str(r["Value"])
            for r in db.rows(
                "SHOW GLOBAL STATUS WHERE Variable_name IN ('Threads_connected', "
                "'Innodb_buffer_pool_read_requests', 'Innodb_buffer_pool_reads', 'Questions', "
                "'Slow_queries', 'Uptime', 'Created_tmp_disk_tables')"
            )
        }
        requests = int(status.get("Innodb_buffer_pool_read_requests", 0))
        read = int(status.get("Innodb_buffer_pool_reads", 0))
        hit = max(0, requests - read)
        for key in ("Questions", "Slow_queries", "Uptime", "Created_tmp_disk_tables"):
            report.metric(key.lower(), int(status.get(key, 0)))
        connections = int(status.get("Threads_connected", 0))
        maximum = int(db.scalar("SELECT @@max_connections"))
        report.metric("database_bytes", sum(t[1] for t in tables))
    else:
        size = int(db.scalar("PRAGMA page_count")) * int(db.scalar("PRAGMA page_size"))
        report.metric("database_bytes", size)
        ctx.log("SQLite: sizes only")
        return
    ratio = 100.0 * hit / (hit + read) if hit + read else 100.0
    report.metric("cache_hit_pct", ratio)
    report.metric("connections", connections)
    report.metric("max_connections", maximum)
    report.metric("connections_pct", 100.0 * connections / maximum if maximum else 0.0)
    if hit + read > 10_000 and ratio < 90:
        report.finding("warning", "cache", f"cache hit ratio {ratio:.1f}% (below 90%)",
                       "the working set does not fit in memory: raise shared_buffers / "
                       "innodb_buffer_pool_size or find the queries that scan")  # fmt: skip
    ctx.log(f"{connections}/{maximum} connections, cache hit {ratio:.1f}%")
