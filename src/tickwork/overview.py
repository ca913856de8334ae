"""What the console's dashboard shows that the other queries do not: runs per hour over a
recent window (with their outcome), and the jobs that fire next.

Service-level reads like ``tickwork.stats``: the API calls these with the facade, and the SQL
stays portable (integer division of epoch microseconds groups runs into buckets on SQLite,
PostgreSQL and MariaDB alike; ``scheduled_for`` is indexed)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from tickwork.models import RunStatus
from tickwork.store.records import JobRecord
from tickwork.store.runs import outside_groups
from tickwork.store.tables import run

if TYPE_CHECKING:
    from tickwork.service import Tickwork

SEC = 1_000_000
FAILURES = frozenset({RunStatus.FAILED, RunStatus.TIMED_OUT, RunStatus.LOST})


@dataclass(frozen=True, slots=True)
class Bucket:
    start: int  # epoch microseconds (UTC), inclusive
    runs: int  # every run scheduled in the bucket
    succeeded: int
    failed: int  # failed, timed out or lost
    other: int  # scheduled, running, cancelled, skipped, missed


@dataclass(frozen=True, slots=True)
class Timeline:
    start: int  # the window's start: exactly ``hours`` before now
    end: int  # the end of the current bucket
    bucket_s: int
    buckets: list[Bucket]  # aligned to multiples of bucket_s since the epoch (UTC)
    partial_first_bucket: bool  # the first bucket began before ``start``: it counts from there


def timeline(
    tw: Tickwork,
    *,
    hours: int = 24,
    bucket_s: int = 3600,
    hidden_groups: frozenset[str] = frozenset(),
) -> Timeline:
    """Runs scheduled in the last ``hours``, counted per ``bucket_s`` by outcome.

    The window covers what is asked whatever the time of day: it starts ``hours`` before now
    and ends at the end of the current bucket, so the newest bucket fills as time passes.
    Buckets are aligned (whole hours, whole UTC days); when the window's start falls inside a
    bucket, that first bucket is partial and counts runs from the window's start only."""
    now = tw.clock.now_us()
    size = bucket_s * SEC
    end = (now // size + 1) * size
    start = now - hours * 3600 * SEC
    first = start // size * size
    count = (end - first) // size
    index = (run.c.scheduled_for - first) // size
    query = (
        select(index.label("i"), run.c.status, func.count())
        .where(run.c.scheduled_for >= start, run.c.scheduled_for < end)
        .group_by(index, run.c.status)
    )
    if hidden_groups:  # runs of jobs in groups the caller may not see
        query = query.where(outside_groups(hidden_groups))
    totals = [[0, 0, 0] for _ in range(count)]  # succeeded, failed, other
    failures = {s.value for s in FAILURES}
    with tw.store.db.read() as conn:
        for i, status, n in conn.execute(query).all():
            slot = int(i)
            if not 0 <= slot < count:
                continue
            if status == RunStatus.SUCCEEDED.value:
                totals[slot][0] += int(n)
            elif status in failures:
                totals[slot][1] += int(n)
            else:
                totals[slot][2] += int(n)
    buckets = [
        Bucket(start=first + k * size, runs=sum(t), succeeded=t[0], failed=t[1], other=t[2])
        for k, t in enumerate(totals)
    ]
    return Timeline(
        start=start,
        end=end,
        bucket_s=bucket_s,
        buckets=buckets,
        partial_first_bucket=first < start,
    )


def upcoming(
    tw: Tickwork, limit: int = 10, hidden_groups: frozenset[str] = frozenset()
) -> list[JobRecord]:
    """The jobs that fire next (paused and finished jobs have no next fire), soonest first;
    jobs that fire at the same instant in the order of their ids; none of ``hidden_groups``."""
    with tw.store.db.read() as conn:
        return tw.store.jobs.upcoming(conn, limit, hidden_groups)
