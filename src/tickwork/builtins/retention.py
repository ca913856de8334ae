"""cleanup_old_data: delete the rows of a table older than N days in bounded batches.

Each batch is its own short transaction: the next ``batch_size`` keys are read by walking the
time column's index from where the last batch stopped (keyset: ``(time, key) > (last)``, so
deleted rows are never read again), their child rows are deleted first (in the order the job
lists the child tables, as Dify's message cleanup does), then the rows themselves by primary
key, and the batch commits; a pause lets other writers in. A lock wait longer than
``lock_timeout_s`` rolls the batch back and it is tried again. A run stops after ``max_rows``
or when stopped; what is left is deleted by the next run (the job is resumable by design: it
only ever deletes committed batches). ``dry_run`` (the default) only counts.
"""

from __future__ import annotations

import time
from typing import Any

from tickwork.builtins.context import Context
from tickwork.builtins.db import Db, Refused, TableInfo, error_text, privilege_error
from tickwork.targets.base import TargetFailed

_TIME_TYPES = ("DATE", "TIME")  # DATE, DATETIME, TIMESTAMP, TIMESTAMP WITH TIME ZONE
LOCK_RETRIES = 3


def _cutoff(db: Db, days: float) -> Any:
    seconds = days * 86_400
    if db.dialect == "postgresql":
        return db.scalar("SELECT now() - make_interval(secs => :s)", {"s": seconds})
    if db.dialect == "mysql":
        return db.scalar("SELECT NOW(6) - INTERVAL :s SECOND", {"s": int(seconds)})
    return db.scalar("SELECT strftime('%Y-%m-%d %H:%M:%f', 'now', :m)",
                     {"m": f"-{int(seconds)} seconds"})  # fmt: skip


def _lock_timeout(exc: BaseException) -> bool:
    orig = getattr(exc, "orig", exc)
    state = getattr(orig, "sqlstate", None)
    if state in ("55P03", "40P01"):  # lock_not_available, deadlock_detected
        return True
    args: tuple[Any, ...] = tuple(getattr(orig, "args", ()))
    return bool(args) and args[0] in (1205, 1213)  # lock wait timeout, deadlock


def cleanup_old_data(ctx: Context) -> None:
    db, report = ctx.db, ctx.report
    table = db.table(ctx.param("table"))
    tc = db.column(table, ctx.param("time_column"), "time_column")
    if not any(word in table.columns[tc].upper() for word in _TIME_TYPES):
        raise Refused(f"time_column: {tc!r} is a {table.columns[tc]} column, not a date/time one")
    if len(table.primary_key) != 1:
        raise Refused(f"table: {table.name!r} needs a one-column primary key to delete by key")
    pk = table.primary_key[0]
    children: list[tuple[TableInfo, str, str]] = []
    for i, child in enumerate(ctx.param("children")):
        info = db.table(child["table"], f"children[{i}].table")
        column = db.column(info, child["column"], f"children[{i}].column")
        parent_col = db.column(table, child.get("parent_column", pk),
                               f"children[{i}].parent_column")  # fmt: skip
        if not info.has_leading_index(column):
            report.finding("warning", info.name, f"{info.name}.{column} has no index: each "
                           "batch scans the child table", f"CREATE INDEX ON {info.name} "
                           f"({column})")  # fmt: skip
        children.append((info, column, parent_col))
    cutoff = _cutoff(db, float(ctx.param("older_than_days")))
    report.metric("cutoff", str(cutoff))
    q_table, q_tc, q_pk = db.qualified(table), db.quote(tc), db.quote(pk)
    if ctx.param("dry_run"):
        _count(ctx, q_table, q_tc, cutoff, children)
        return
    if not table.has_leading_index(tc):
        raise Refused(
            f"time_column: {table.name}.{tc} has no index, so every batch would scan the whole "
            f"table; create one first (optimize_database_indexes with create: [{{table: "
            f"{table.name}, columns: [{tc}]}}] and apply: true)"
        )
    parent_cols = sorted({p for _, _, p in children if p != pk})
    # key, time, then the parent columns the children refer to
    select_cols = ", ".join([q_pk, q_tc, *(db.quote(c) for c in parent_cols)])
    position = {pk: 0, **{c: i + 2 for i, c in enumerate(parent_cols)}}
    batch = int(ctx.param("batch_size"))
    pause = float(ctx.param("pause_s"))
    max_rows = int(ctx.param("max_rows"))
    deleted = child_deleted = batches = retries = 0
    longest = 0.0
    last: tuple[Any, Any] | None = None
    started = time.monotonic()
    while deleted < max_rows:
        ctx.sleep(0)
        after = ""
        params: dict[str, Any] = {"cutoff": cutoff, "n": min(batch, max_rows - deleted)}
        if last is not None:
            after = f" AND {q_tc} >= :lt AND ({q_tc} > :lt OR {q_pk} > :lk)"
            params.update(lt=last[1], lk=last[0])
        rows = db.tuples(
            f"SELECT {select_cols} FROM {q_table} WHERE {q_tc} < :cutoff{after} "
            f"ORDER BY {q_tc}, {q_pk} LIMIT :n",
            params,
        )
        if not rows:
            break
        keys = [r[0] for r in rows]
        for attempt in range(LOCK_RETRIES + 1):
            t = time.monotonic()
            try:
                with db.transaction():
                    for info, column, parent_col in children:
                        at = position[parent_col]
                        values = sorted({r[at] for r in rows if r[at] is not None})
                        if values:
                            child_deleted += db.delete_in(
                                f"DELETE FROM {db.qualified(info)}", db.quote(column), values,
                                "", (),
                            )  # fmt: skip
                    deleted += db.delete_in(
                        f"DELETE FROM {q_table}", q_pk, keys, f" AND {q_tc} < ?", (cutoff,)
                    )
                break
            except Exception as exc:
                if privilege_error(exc):
                    raise  # a finding (the run's context), not a crash
                if not _lock_timeout(exc) or attempt == LOCK_RETRIES:
                    if _lock_timeout(exc):
                        report.finding(
                            "warning",
                            table.name,
                            f"a batch waited for locks {LOCK_RETRIES + 1} times: {error_text(exc)}",
                            "run the job in a quieter hour or raise lock_timeout_s",
                        )
                    _progress(ctx, deleted, child_deleted, batches, longest, started, retries)
                    raise TargetFailed(f"batch {batches + 1}: {error_text(exc)}",
                                       report.as_result()) from None  # fmt: skip
                retries += 1
                ctx.sleep(max(pause, 0.05))
            finally:
                longest = max(longest, (time.monotonic() - t) * 1000)
        batches += 1
        last = (rows[-1][0], rows[-1][1])
        if pause:
            ctx.sleep(pause)
    _progress(ctx, deleted, child_deleted, batches, longest, started, retries)
    if deleted >= max_rows:
        report.finding(
            "info",
            table.name,
            f"stopped at max_rows ({max_rows}); older rows may remain",
            "the next run continues; raise max_rows to do more per run",
        )
    ctx.log(f"deleted {deleted} row(s) of {table.name} in {batches} batch(es)")


def _progress(ctx: Context, deleted: int, child_deleted: int, batches: int, longest: float,
              started: float, retries: int) -> None:  # fmt: skip
    elapsed = time.monotonic() - started
    report = ctx.report
    report.metric("rows_deleted", deleted)
    report.metric("child_rows_deleted", child_deleted)
    report.metric("batches", batches)
    report.metric("lock_retries", retries)
    report.metric("longest_batch_ms", longest)
    report.metric("rows_per_s", deleted / elapsed if elapsed > 0 else 0.0)


def _count(ctx: Context, q_table: str, q_tc: str, cutoff: Any,
           children: list[tuple[TableInfo, str, str]]) -> None:  # fmt: skip
    db, report = ctx.db, ctx.report
    total = int(db.scalar(f"SELECT COUNT(*) FROM {q_table} WHERE {q_tc} < :c", {"c": cutoff}))
    report.metric("rows_matching", total)
    counts = []
    for info, column, parent_col in children:
        n = int(db.scalar(
            f"SELECT COUNT(*) FROM {db.qualified(info)} WHERE {db.quote(column)} IN "
            f"(SELECT {db.quote(parent_col)} FROM {q_table} WHERE {q_tc} < :c)", {"c": cutoff},
        ))  # fmt: skip
        counts.append([info.name, n])
    if counts:
        report.table("children", ["table", "rows_matching"], counts)
        report.metric("child_rows_matching", sum(n for _, n in counts))
    report.finding("info", q_table, f"dry run: {total} row(s) older than "
                   f"{ctx.param('older_than_days'):g} days would be deleted",
                   "set dry_run: false to delete them")  # fmt: skip
