"""Runs found by text in their log, error or result (``GET /api/runs?q=``), with the other
filters and the date range, on every dialect; the search is bounded by a window of runs per
request and continues below it with the cursor."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from tests.api.conftest import Api, job_body, make_api
from tests.conftest import database_url
from tickwork.store import RunFilter, Store
from tickwork.store.run_search import like_pattern, search_page
from tickwork.store.runs import NewRun
from tickwork.store.tables import run as run_table

HOUR = 3_600_000_000
T0 = 1_790_000_000_000_000  # 2026-09-21, a fixed instant: the test never reads the clock


def add_run(store: Store, job_id: str, at: int, **outcome: Any) -> int:
    with store.db.write() as conn:
        run_id = store.runs.insert_one(
            conn,
            NewRun(job_id=job_id, scheduled_for=at, due_at=at, reason="schedule", status="failed"),
            at,
        )
        if outcome:
            conn.execute(update(run_table).where(run_table.c.id == run_id).values(**outcome))
    return run_id


@pytest.fixture(params=["sqlite", "postgres", "mysql"])
def store(
    request: pytest.FixtureRequest, tmp_path: Path, server_database: object
) -> Iterator[Store]:
    kind: str = request.param
    request.applymarker(getattr(pytest.mark, kind))
    from tests import dbs

    store = Store(database_url(kind, tmp_path, server_database))
    store.upgrade()
    dbs.empty_tables(store)
    yield store
    store.close()


def ids(store: Store, text: str, **kw: Any) -> tuple[list[int], int | None]:
    flt = kw.pop("flt", RunFilter())
    with store.db.read() as conn:
        rows, cursor = search_page(conn, flt, text, **kw)
    return [r.id for r in rows], cursor


def test_finds_text_in_log_error_and_result_case_insensitively(store: Store) -> None:
    in_log = add_run(store, "a", T0, log="connecting...\nDisk FULL on /var\n")
    in_error = add_run(store, "a", T0 + 1, error="ValueError: disk full")
    in_result = add_run(store, "b", T0 + 2, result="'disk full, skipped'")
    add_run(store, "b", T0 + 3, log="all good", error=None, result="ok")
    found, cursor = ids(store, "disk full")
    assert found == [in_result, in_error, in_log]
    assert cursor is None
    # the other filters apply too
    assert ids(store, "DISK", flt=RunFilter(job_id="a"))[0] == [in_error, in_log]
    assert ids(store, "disk", flt=RunFilter(since=T0 + 1, until=T0 + 2))[0] == [in_error]


def test_wildcards_in_the_text_are_literal(store: Store) -> None:
    percent = add_run(store, "a", T0, log="progress 100% done")
    add_run(store, "a", T0 + 1, log="progress 1000 done")
    underscore = add_run(store, "a", T0 + 2, error="no such column a_b")
    add_run(store, "a", T0 + 3, error="no such column axb")
    slash = add_run(store, "a", T0 + 4, result="a/%b")
    assert ids(store, "100%")[0] == [percent]
    assert ids(store, "a_b")[0] == [underscore]
    assert ids(store, "a/%b")[0] == [slash]
    assert like_pattern("5%_/") == "%5/%/_//%"


def test_each_request_searches_one_window_and_the_cursor_goes_below_it(store: Store) -> None:
    run_ids = [
        add_run(store, "a", T0 + i, log="needle" if i in (1, 7) else "hay") for i in range(10)
    ]
    # window of 4 newest (ids 9..6): the needle at 7 is found, the cursor continues below 6
    found, cursor = ids(store, "needle", window=4, limit=50)
    assert found == [run_ids[7]]
    assert cursor == run_ids[6]
    # the next window (5..2) has none: an empty page that still continues below it
    found, cursor = ids(store, "needle", window=4, limit=50, before_id=cursor)
    assert found == []
    assert cursor == run_ids[2]
    found, cursor = ids(store, "needle", window=4, limit=50, before_id=cursor)
    assert found == [run_ids[1]]
    assert cursor is None
    # a full page ends at its last run
    found, cursor = ids(store, "needle", window=100, limit=1)
    assert found == [run_ids[7]]
    assert cursor == run_ids[7]


def test_the_api_searches_with_q_and_pages_with_the_cursor(
    tmp_path: Path, server_database: object
) -> None:
    api: Api = make_api(database_url("sqlite", tmp_path, server_database), tmp_path)
    try:
        admin = api.client("admin")
        assert admin.post("/api/jobs", json=job_body("search-me")).status_code == 201
        store = api.tw.store
        want = [
            add_run(store, "search-me", T0 + i * HOUR, log=f"row {i} Timeout x") for i in range(3)
        ]
        add_run(store, "search-me", T0 + 5 * HOUR, log="fine")
        page = admin.get("/api/runs", params={"q": "timeout", "limit": 2}).json()
        assert [r["id"] for r in page["items"]] == [want[2], want[1]]
        rest = admin.get(
            "/api/runs", params={"q": "timeout", "limit": 2, "cursor": page["next_cursor"]}
        ).json()
        assert [r["id"] for r in rest["items"]] == [want[0]]
        assert rest["next_cursor"] is None
        # with the date range: since/until are instants with an offset
        ranged = admin.get(
            "/api/runs",
            params={
                "q": "timeout",
                "since": "2026-09-21T15:13:20+00:00",  # T0 + 1 h
                "until": "2026-09-21T17:30:00+00:00",
            },
        ).json()
        assert [r["id"] for r in ranged["items"]] == [want[2], want[1]]
        too_long = admin.get("/api/runs", params={"q": "x" * 201})
        assert too_long.status_code == 422
        assert too_long.json()["code"] == "string_too_long"
        assert too_long.json()["params"] == {"max": 200}
    finally:
        api.tw.close()
