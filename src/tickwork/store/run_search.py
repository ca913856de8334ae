"""Text search in the run history (log, error, result), bounded per request.

A substring search cannot use an index, so it never scans the whole table: each request looks
at a *window* of at most ``SEARCH_WINDOW`` runs, the newest that match the other filters (job,
status, time range: all indexed) below the cursor, and searches only those rows by primary-key
range. When the page is not full but the window was, the cursor points below the window, so
"load more" searches the next, older window. The cost of a request is bounded by the window, not
by the size of the history. Matching is case-insensitive ``LIKE`` with the user's ``%``/``_``
escaped, on SQLite, PostgreSQL (``ILIKE``) and MySQL/MariaDB alike."""

from __future__ import annotations

from sqlalchemy import Connection, func, or_, select

from tickwork.store.records import RunRecord
from tickwork.store.runs import LIST_COLUMNS, RunFilter
from tickwork.store.runs import _conditions as run_conditions
from tickwork.store.tables import run

SEARCH_WINDOW = 10_000
_ESCAPE = "/"


def like_pattern(text: str) -> str:
    """``%text%`` with LIKE's wildcards in ``text`` taken literally."""
    escaped = (
        text.replace(_ESCAPE, _ESCAPE * 2).replace("%", _ESCAPE + "%").replace("_", _ESCAPE + "_")
    )
    return f"%{escaped}%"


def search_page(
    conn: Connection,
    flt: RunFilter,
    text: str,
    *,
    before_id: int | None = None,
    limit: int = 50,
    window: int = SEARCH_WINDOW,
) -> tuple[list[RunRecord], int | None]:
    """Runs of ``flt`` whose log, error or result contains ``text``, newest first, looking at
    no more than ``window`` runs below ``before_id``. Returns up to ``limit`` runs and the
    cursor (a ``before_id``) to continue from, or None when nothing older is left."""
    scope = select(run.c.id).where(*run_conditions(flt))
    if before_id is not None:
        scope = scope.where(run.c.id < before_id)
    ids = scope.order_by(run.c.id.desc()).limit(window).subquery()
    low, high, seen = conn.execute(
        select(func.min(ids.c.id), func.max(ids.c.id), func.count()).select_from(ids)
    ).one()
    if not seen:
        return [], None
    pattern = like_pattern(text)
    found = or_(
        run.c.log.ilike(pattern, escape=_ESCAPE),
        run.c.error.ilike(pattern, escape=_ESCAPE),
        run.c.result.ilike(pattern, escape=_ESCAPE),
    )
    # Both ends of the window: a primary-key range the planners read as such.
    query = select(*LIST_COLUMNS).where(
        *run_conditions(flt), run.c.id >= low, run.c.id <= high, found
    )
    rows = [
        RunRecord.from_row(r)
        for r in conn.execute(query.order_by(run.c.id.desc()).limit(limit + 1)).mappings()
    ]
    if len(rows) > limit:
        return rows[:limit], rows[limit - 1].id
    return rows, (int(low) if seen >= window else None)
