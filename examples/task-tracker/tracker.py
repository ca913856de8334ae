"""The task tracker's data and its scheduled work (seed 001's ``SchedulerService``), on
PostgreSQL through SQLAlchemy Core. The jobs are plain functions: Tickwork runs them, records
each run and retries a failed one.

Differences from the seed, on purpose: a job that failed on some tasks fails its run after
handling the others (the seed printed the error and reported success, so nobody was told);
the 24-hour warning dedupe is a table of the app's database (the seed's Redis key with a TTL,
which it skipped silently when Redis was down, sending the warning again every hour).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

PERIODIC, NORMAL = "periodic", "normal"
NEW, PROCESSING, COMPLETED, CLOSED = "new", "processing", "completed", "closed"
RESET_AFTER = timedelta(days=7)  # a periodic task comes back a week after it was finished
DEDUPE = timedelta(hours=24)  # one warning of a level per task a day
LEVELS = ((95, 5), (90, 10), (80, 20))  # time progress reached -> % of time left

metadata = sa.MetaData()
tasks = sa.Table(
    "tasks",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("category", sa.String(16), nullable=False, server_default=NORMAL),
    sa.Column("status", sa.String(16), nullable=False, server_default=NEW),
    sa.Column("progress", sa.Integer, nullable=False, server_default="0"),
    sa.Column("time_progress", sa.Integer, nullable=False, server_default="0"),
    sa.Column("expected_start_time", sa.DateTime),
    sa.Column("expected_end_time", sa.DateTime),
    sa.Column("actual_start_time", sa.DateTime),
    sa.Column("actual_end_time", sa.DateTime),
    sa.Column("current_handler_id", sa.Integer),
    # set when the task is closed: the builtin cleanup_old_data walks this index and deletes
    # tasks closed more than 90 days ago (open tasks have none, so they are never touched)
    sa.Column("closed_at", sa.DateTime, index=True),
)
notifications = sa.Table(
    "notifications",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("user_id", sa.Integer),
    sa.Column("type", sa.String(32), nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("content", sa.Text, nullable=False),
    sa.Column("task_id", sa.Integer, index=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
)
warnings_sent = sa.Table(
    "warnings_sent",
    metadata,
    sa.Column("task_id", sa.Integer, primary_key=True),
    sa.Column("level", sa.Integer, primary_key=True),
    sa.Column("sent_at", sa.DateTime, nullable=False),
)

_engines: dict[str, sa.Engine] = {}


def engine() -> sa.Engine:
    url = os.environ.get("APP_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1/tracker")
    if url not in _engines:
        _engines[url] = sa.create_engine(url, pool_pre_ping=True)
    return _engines[url]


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)  # the tables hold UTC without a zone


def time_progress(row: Any, at: datetime) -> int:
    """Share of the expected time gone, 0-100."""
    total = (row.expected_end_time - row.expected_start_time).total_seconds()
    if total <= 0:
        return 100
    gone = (at - row.expected_start_time).total_seconds()
    return max(0, min(100, int(gone * 100 // total)))


def warning_level(time_pct: int, progress: int) -> int | None:
    """5, 10 or 20 (% of time left) when the work lags the time; else None."""
    for reached, level in LEVELS:
        if time_pct >= reached and progress < reached:
            return level
    return None


def _notify(conn: sa.Connection, user_id: int | None, kind: str, title: str, content: str,
            task_id: int | None) -> None:  # fmt: skip
    conn.execute(notifications.insert().values(user_id=user_id, type=kind, title=title,
                 content=content, task_id=task_id, created_at=now()))  # fmt: skip


class TaskErrors(RuntimeError):
    """Some tasks could not be handled; the others were (the run fails, naming them)."""


def _each(rows: Sequence[Any], handle: Any) -> list[str]:
    errors = []
    for row in rows:
        try:
            with engine().begin() as conn:
                handle(conn, row)
        except Exception as exc:
            errors.append(f"task {row.id}: {exc}")
    return errors


def reset_periodic_tasks() -> dict[str, Any]:
    """Periodic tasks completed or closed a week ago or more start again: status new, progress
    0, expected to finish in 7 days; the handler is told."""
    at = now()
    with engine().connect() as conn:
        rows = conn.execute(sa.select(tasks).where(
            tasks.c.category == PERIODIC, tasks.c.status.in_([COMPLETED, CLOSED]),
            tasks.c.actual_end_time <= at - RESET_AFTER)).all()  # fmt: skip

    def reset(conn: sa.Connection, row: Any) -> None:
        conn.execute(tasks.update().where(tasks.c.id == row.id).values(
            status=NEW, progress=0, time_progress=0, actual_start_time=None,
            actual_end_time=None, closed_at=None, expected_start_time=at,
            expected_end_time=at + RESET_AFTER))  # fmt: skip
        _notify(conn, row.current_handler_id, "task_reset", "周期任务已重置 / periodic task reset",
                f"任务「{row.title}」已重置，请及时处理", row.id)  # fmt: skip

    errors = _each(rows, reset)
    if errors:
        raise TaskErrors("; ".join(errors))
    return {"reset": len(rows)}


def update_all_time_progress() -> dict[str, Any]:
    """Every task in progress gets its time progress (every 30 minutes), in one statement per
    task, committed together."""
    at = now()
    with engine().begin() as conn:
        rows = conn.execute(sa.select(tasks).where(
            tasks.c.status == PROCESSING, tasks.c.expected_start_time.is_not(None),
            tasks.c.expected_end_time.is_not(None))).all()  # fmt: skip
        for row in rows:
            conn.execute(tasks.update().where(tasks.c.id == row.id)
                         .values(time_progress=time_progress(row, at)))  # fmt: skip
    return {"updated": len(rows)}


def check_task_warnings() -> dict[str, Any]:
    """Tasks whose work lags their time (20 %, 10 %, 5 % of the time left) warn their handler,
    once a level a task in 24 hours."""
    at = now()
    with engine().connect() as conn:
        rows = conn.execute(sa.select(tasks).where(
            tasks.c.status == PROCESSING, tasks.c.expected_start_time.is_not(None),
            tasks.c.expected_end_time.is_not(None))).all()  # fmt: skip
    sent: list[dict[str, int]] = []

    def check(conn: sa.Connection, row: Any) -> None:
        pct = time_progress(row, at)
        conn.execute(tasks.update().where(tasks.c.id == row.id).values(time_progress=pct))
        level = warning_level(pct, row.progress)
        if level is None:
            return
        last = conn.execute(sa.select(warnings_sent.c.sent_at).where(
            warnings_sent.c.task_id == row.id, warnings_sent.c.level == level)
            .with_for_update()).scalar()  # fmt: skip
        if last is not None and at - last < DEDUPE:
            return
        if last is None:
            conn.execute(warnings_sent.insert().values(task_id=row.id, level=level, sent_at=at))
        else:
            conn.execute(warnings_sent.update().where(warnings_sent.c.task_id == row.id,
                         warnings_sent.c.level == level).values(sent_at=at))  # fmt: skip
        title = f"任务剩余时间不足 {level}% / {level}% of the time left"
        content = f"任务「{row.title}」时间进度 {pct}%，处理进度 {row.progress}%"
        _notify(conn, row.current_handler_id, "task_warning", title, content, row.id)
        sent.append({"task_id": row.id, "level": level})

    errors = _each(rows, check)
    if errors:
        raise TaskErrors("; ".join(errors))
    return {"checked": len(rows), "warnings": sent}
