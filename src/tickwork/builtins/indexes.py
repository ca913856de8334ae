"""optimize_database_indexes: advice on indexes (unindexed foreign keys, unused and redundant
indexes, tables read mostly by full scans), and the creation of the indexes the job lists
when ``apply: true`` (``CREATE INDEX CONCURRENTLY`` on PostgreSQL, an online ``ALTER TABLE``
on MariaDB/MySQL): nothing is created blindly."""

from __future__ import annotations

import contextlib
from collections import defaultdict
from typing import Any

from tickwork.builtins.context import Context
from tickwork.builtins.db import Db

_PG_FKS = """
SELECT n.nspname AS s, r.relname AS t, c.conname AS fk,
       array_to_string(array_agg(a.attname ORDER BY k.ord), ',') AS cols
FROM pg_constraint c
JOIN pg_class r ON r.oid = c.conrelid
JOIN pg_namespace n ON n.oid = r.relnamespace
CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord)
JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
WHERE c.contype = 'f' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND NOT EXISTS (
    SELECT 1 FROM pg_index i WHERE i.indrelid = c.conrelid
      AND (string_to_array(i.indkey::text, ' ')::int2[])[1:array_length(c.conkey, 1)]
          @> c.conkey
      AND (string_to_array(i.indkey::text, ' ')::int2[])[1:array_length(c.conkey, 1)]
          <@ c.conkey)
GROUP BY n.nspname, r.relname, c.conname
ORDER BY 1, 2, 3 LIMIT 200
"""
_PG_INDEXES = """
SELECT n.nspname AS s, t.relname AS t, ic.relname AS idx, i.indisunique AS u,
       i.indisprimary AS p,
       array_to_string(ARRAY(SELECT a.attname FROM unnest(i.indkey) WITH ORDINALITY k(n, o)
         JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.n ORDER BY k.o), ',')
         AS cols,
       coalesce(s.idx_scan, 0) AS scans, pg_relation_size(i.indexrelid) AS bytes,
       coalesce(st.n_live_tup, 0) AS table_rows
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_class t ON t.oid = i.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
LEFT JOIN pg_stat_user_indexes s ON s.indexrelid = i.indexrelid
LEFT JOIN pg_stat_user_tables st ON st.relid = i.indrelid
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
  AND i.indexprs IS NULL AND i.indpred IS NULL
ORDER BY 1, 2, 3 LIMIT 5000
"""


def _indexes(db: Db) -> list[dict[str, Any]]:
    if db.dialect == "postgresql":
        rows = db.rows(_PG_INDEXES)
        return [{"table": f"{r['s']}.{r['t']}", "name": str(r["idx"]), "unique": bool(r["u"]),
                 "primary": bool(r["p"]), "cols": str(r["cols"]).split(","),
                 "scans": int(r["scans"]), "bytes": int(r["bytes"]),
                 "rows": int(r["table_rows"])} for r in rows]  # fmt: skip
    rows = db.rows(
        "SELECT TABLE_NAME AS t, INDEX_NAME AS idx, NON_UNIQUE AS nu, COLUMN_NAME AS c "
        "FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() "
        "AND COLUMN_NAME IS NOT NULL ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX LIMIT 20000"
    )
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for r in rows:
        key = (str(r["t"]), str(r["idx"]))
        item = out.setdefault(key, {"table": key[0], "name": key[1], "unique": not int(r["nu"]),
                                    "primary": key[1] == "PRIMARY", "cols": [], "scans": None,
                                    "bytes": None, "rows": None})  # fmt: skip
        item["cols"].append(str(r["c"]))
    return list(out.values())


def _short(table: str) -> str:
    return table.rpartition(".")[2]


def optimize_database_indexes(ctx: Context) -> None:
    db, report = ctx.db, ctx.report
    if db.dialect == "sqlite":
        report.finding("info", "sqlite", "index advice needs PostgreSQL or MySQL/MariaDB "
                       "statistics; run PRAGMA optimize on SQLite", "")  # fmt: skip
        return
    wanted = {ctx.db.table(n, f"tables[{i}]").name for i, n in enumerate(ctx.param("tables"))}

    def included(table: str) -> bool:
        return not wanted or _short(table) in wanted

    min_rows = int(ctx.param("min_rows"))
    advice: list[list[Any]] = []
    # 1. foreign keys without an index on their columns (InnoDB always makes one)
    if db.dialect == "postgresql":
        for r in db.rows(_PG_FKS):
            table = f"{r['s']}.{r['t']}"
            if not included(table):
                continue
            cols = str(r["cols"])
            advice.append([table, "unindexed foreign key", r["fk"], cols])
            report.finding(
                "warning", table,
                f"foreign key {r['fk']} ({cols}) has no index: deleting or updating a parent "
                "row scans the whole table and locks it longer",
                f"list {{table: {r['t']}, columns: [{cols}]}} under create and set apply: true",
            )  # fmt: skip
    # 2. redundant indexes: one whose columns start another's
    indexes = [i for i in _indexes(db) if included(i["table"])]
    by_table: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in indexes:
        by_table[item["table"]].append(item)
    for table, items in by_table.items():
        for a in items:
            if a["primary"] or a["unique"]:
                continue
            for b in items:
                if b is a or len(b["cols"]) < len(a["cols"]):
                    continue
                if b["cols"][: len(a["cols"])] == a["cols"] and (
                    len(b["cols"]) > len(a["cols"]) or b["name"] < a["name"] or b["unique"]
                ):
                    advice.append([table, "redundant index", a["name"], ",".join(a["cols"])])
                    report.finding(
                        "warning", f"{table}.{a['name']}",
                        f"index {a['name']} ({', '.join(a['cols'])}) is covered by "
                        f"{b['name']} ({', '.join(b['cols'])})",
                        f"drop it after checking no hint names it: DROP INDEX {a['name']}",
                    )  # fmt: skip
                    break
    # 3. unused indexes and 4. tables read by full scans (PostgreSQL's statistics; MySQL's
    # need performance_schema)
    if db.dialect == "postgresql":
        for item in indexes:
            if (item["scans"] == 0 and not item["unique"] and not item["primary"]
                    and item["rows"] >= min_rows):  # fmt: skip
                advice.append([item["table"], "unused index", item["name"],
                               ",".join(item["cols"])])  # fmt: skip
                report.finding(
                    "info", f"{item['table']}.{item['name']}",
                    f"index {item['name']} was never used since the statistics were reset "
                    f"({item['bytes']} bytes)",
                    "if it stays unused over a full business cycle, drop it",
                )  # fmt: skip
        scans = db.rows(
            "SELECT schemaname || '.' || relname AS t, seq_scan, seq_tup_read, "
            "coalesce(idx_scan, 0) AS idx_scan, n_live_tup FROM pg_stat_user_tables "
            "WHERE n_live_tup >= :m AND seq_scan > coalesce(idx_scan, 0) "
            "AND seq_tup_read > 10 * n_live_tup ORDER BY seq_tup_read DESC LIMIT 50",
            {"m": min_rows},
        )
        scan_rows = [[r["t"], int(r["seq_scan"]), int(r["idx_scan"]), int(r["seq_tup_read"])]
                     for r in scans if included(str(r["t"]))]  # fmt: skip
    else:
        scan_rows = _mysql_usage(ctx, included, advice)
    for t, seq, idx, read in scan_rows:
        report.finding(
            "info", t, f"read mostly by full scans ({seq} full scans, {idx} index scans, {read} "
            "rows read)", "find the queries that scan it (check_slow_queries, EXPLAIN) and "
            "list the index they need under create",
        )  # fmt: skip
    report.table("advice", ["table", "kind", "object", "columns"], advice)
    report.metric("advice", len(advice) + len(scan_rows))
    _create(ctx, indexes)


def _mysql_usage(ctx: Context, included: Any, advice: list[list[Any]]) -> list[list[Any]]:
    db, report = ctx.db, ctx.report
    if not int(db.scalar("SELECT @@performance_schema")):
        report.finding("info", "performance_schema", "performance_schema is off: unused indexes "
                       "and full scans are not measured", "turn on performance_schema to get "
                       "this advice")  # fmt: skip
        return []
    rows = db.rows(
        "SELECT OBJECT_NAME AS t, INDEX_NAME AS idx, COUNT_STAR AS n, COUNT_READ AS r "
        "FROM performance_schema.table_io_waits_summary_by_index_usage "
        "WHERE OBJECT_SCHEMA = DATABASE() LIMIT 20000"
    )
    out = []
    for r in rows:
        if not included(str(r["t"])):
            continue
        if r["idx"] is None and int(r["r"] or 0) > 0:
            out.append([str(r["t"]), int(r["n"] or 0), 0, int(r["r"] or 0)])
        elif r["idx"] not in (None, "PRIMARY") and int(r["n"] or 0) == 0:
            advice.append([str(r["t"]), "unused index", r["idx"], ""])
            report.finding(
                "info",
                f"{r['t']}.{r['idx']}",
                f"index {r['idx']} was never used since the server started",
                "if it stays unused, drop it",
            )
    return out[:50]


def _create(ctx: Context, existing: list[dict[str, Any]]) -> None:
    db, report = ctx.db, ctx.report
    wanted = ctx.param("create")
    created = 0
    for i, spec in enumerate(wanted):
        table = db.table(spec["table"], f"create[{i}].table")
        cols = [db.column(table, c, f"create[{i}].columns") for c in spec["columns"]]
        name = spec.get("name") or f"ix_{table.name}_{'_'.join(cols)}"[:63]
        same = [e for e in existing if _short(e["table"]) == table.name
                and (e["name"] == name or e["cols"][: len(cols)] == cols)]  # fmt: skip
        if same:
            report.finding(
                "info",
                f"{table.name}.{name}",
                f"not created: index {same[0]['name']} already covers ({', '.join(cols)})",
                "",
            )
            continue
        target = db.qualified(table)
        column_list = ", ".join(db.quote(c) for c in cols)
        if db.dialect == "postgresql":
            sql = f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {db.quote(name)} ON {target} " \
                  f"({column_list})"  # fmt: skip
        else:
            sql = f"ALTER TABLE {target} ADD INDEX {db.quote(name)} ({column_list}), " \
                  "ALGORITHM=INPLACE, LOCK=NONE"  # fmt: skip
        if not ctx.param("apply"):
            report.finding(
                "info", f"{table.name}.{name}", f"would run: {sql}", "set apply: true to create it"
            )
            continue
        _run_long(ctx, db, sql, name, table)
        created += 1
        report.finding("info", f"{table.name}.{name}", f"created: {sql}", "")
    report.metric("indexes_created", created)


def _run_long(ctx: Context, db: Db, sql: str, name: str, table: Any) -> None:
    limit = float(ctx.param("index_timeout_s"))
    if db.dialect == "postgresql":
        db.execute(f"SET statement_timeout = {int(limit * 1000)}")
        try:
            db.autocommit(sql)
        except Exception:
            # a failed CONCURRENTLY build leaves an INVALID index behind
            schema = f"{db.quote(table.schema)}." if table.schema else ""
            with contextlib.suppress(Exception):  # the first error says what went wrong
                db.autocommit(f"DROP INDEX CONCURRENTLY IF EXISTS {schema}{db.quote(name)}")
            raise
        finally:
            db.execute(f"SET statement_timeout = {int(db.statement_timeout_s * 1000)}")
    else:
        setting = "max_statement_time" if db.mariadb else "max_execution_time"
        value = f"{limit:.3f}" if db.mariadb else str(int(limit * 1000))
        old = f"{db.statement_timeout_s:.3f}" if db.mariadb else str(
            int(db.statement_timeout_s * 1000))  # fmt: skip
        db.execute(f"SET SESSION {setting} = {value}")
        try:
            db.execute(sql)
        finally:
            db.execute(f"SET SESSION {setting} = {old}")
