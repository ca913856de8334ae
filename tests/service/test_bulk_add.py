"""``add_jobs`` and ``add_records``, the bulk path (issue 15: a million jobs): every job as
``build_record`` alone would build it (the shared schedules of equal cron triggers included),
all or nothing, the target rules of the CLI and API, tags, one lean audit event per job, and
progress. On every backend: the rows go to each driver its own way (COPY on PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event

from tickwork.audit import AuditFilter
from tickwork.bulk_build import build_records
from tickwork.clock import FakeClock
from tickwork.errors import Conflict, InvalidInput
from tickwork.jobspec import JobSpec, build_record
from tickwork.service import Tickwork
from tickwork.settings import Settings
from tickwork.store import JobFilter

AT = datetime(2027, 3, 1, 10, 0, 1, tzinfo=UTC)
REF = "tests.importers.sample_jobs:report"


def _client(url: str) -> Tickwork:
    settings = Settings(
        database_url=url, timezone="Europe/Berlin", allowed_targets=("tests.importers",)
    )
    return Tickwork(settings=settings, clock=FakeClock(int(AT.timestamp() * 1_000_000)))


def _specs() -> list[JobSpec]:
    """Triggers the memo shares (the same expression, zone, stored spec) and the ones it
    must not (H, keywords, jitter, other zones, start dates), each more than once."""
    out: list[JobSpec] = []
    for i in range(3):
        out += [
            JobSpec(target=REF, trigger="30 2 * * 1-5", id=f"plain-{i}"),
            JobSpec(target=REF, trigger="30  2 * * 1-5", id=f"spaced-{i}"),
            JobSpec(target=REF, trigger="30 2 * * 1-5", id=f"tokyo-{i}", timezone="Asia/Tokyo"),
            JobSpec(target=REF, trigger="H H * * *", id=f"hashed-{i}"),
            JobSpec(target=REF, trigger="0 9 * * *", trigger_args={"jitter": 600}, id=f"jit-{i}"),
            JobSpec(
                target=REF,
                trigger={"kind": "cron", "expr": "15 4 * * *", "tz": "UTC", "seed": f"old-{i}"},
                id=f"stored-{i}",
            ),
            JobSpec(target=REF, trigger={"kind": "cron", "expr": "15 4 * * *"}, id=f"no-seed-{i}"),
            JobSpec(target=REF, trigger="cron", trigger_args={"hour": 5}, id=f"kw-{i}"),
            JobSpec(target=REF, trigger="interval", trigger_args={"hours": 2}, id=f"every-{i}"),
            JobSpec(target=REF, trigger="@daily", id=f"daily-{i}", tags=["a", "b", "a"]),
            JobSpec(target=REF, trigger="0 3 * * *", id=f"paused-{i}", paused=True),
            JobSpec(
                target=REF,
                trigger="0 4 * * *",
                id=f"first-{i}",
                next_run_time=datetime(2027, 3, 2, tzinfo=UTC),
            ),
        ]
    return out


def _shared_parts() -> list[JobSpec]:
    """Jobs that share all but id, name and trigger, in several groups of sharers, and
    jobs whose shared part holds more than plain values."""
    shell = {"kind": "shell", "command": "echo hi", "shell": True}
    out: list[JobSpec] = []
    for i in range(3):
        out += [
            JobSpec(target=REF, trigger="@hourly", id=f"py-{i}", group="g1", retries=2),
            JobSpec(target=REF, trigger="@hourly", id=f"named-{i}", name=f"n{i}", group="g1",
                    retries=2, description="same"),
            JobSpec(target=dict(shell), trigger="5 4 * * *", id=f"sh-{i}", group="crontab",
                    description=f"line {i}", executor="process"),
            JobSpec(target={"kind": "python", "ref": REF}, trigger="5 4 * * *", id=f"pm-{i}"),
            JobSpec(target=REF, trigger="5 4 * * *", id=f"nrt-{i}", next_run_time=None),
            JobSpec(target=REF, trigger="5 4 * * *", id=f"args-{i}", args=[i], kwargs={"k": i}),
            JobSpec(target=REF, trigger="5 4 * * *", id=f"sec-{i}", kwargs={"pw": "x"},
                    secret_keys=["pw"]),
            JobSpec(target=REF, trigger="5 4 * * *", id=f"tz-{i}", timezone="Asia/Shanghai",
                    timeout_s=30, max_instances=2, misfire_policy="skip"),
        ]  # fmt: skip
    return out


def test_jobs_sharing_fields_are_built_as_one_by_one() -> None:
    now = int(AT.timestamp() * 1_000_000)
    one_by_one = [build_record(s, now_us=now, default_tz="UTC", by=None) for s in _shared_parts()]
    built = list(build_records(_shared_parts(), now_us=now, default_tz="UTC", by=None))
    assert built == one_by_one
    shells = [r.target for r in built if r.target_kind == "shell"]
    assert len({id(t) for t in shells}) == 3  # each its own target


@pytest.mark.parametrize(
    ("field", "good", "bad"),
    [("max_instances", 1, True), ("retries", 0, 0.0), ("timeout_s", 1.0, "1"),
     ("group", "g", "bad\x00group"), ("executor", "thread", "threads")],
)  # fmt: skip
def test_a_value_equal_to_a_valid_one_is_still_checked(field: str, good: Any, bad: Any) -> None:
    """True == 1 == 1.0: a shared part that passed must not let an equal value of another
    type (or another value) through."""
    now = int(AT.timestamp() * 1_000_000)
    ok = JobSpec(target=REF, trigger="@daily", id="ok", **{field: good})
    wrong = JobSpec(target=REF, trigger="@daily", id="wrong", **{field: bad})
    with pytest.raises(InvalidInput) as caught:
        build_records([ok, wrong], now_us=now, default_tz="UTC", by=None)
    assert caught.value.field == field


def test_bulk_built_records_are_the_ones_built_one_by_one() -> None:
    now = int(AT.timestamp() * 1_000_000)
    one_by_one = [build_record(s, now_us=now, default_tz="UTC", by="me") for s in _specs()]
    assert list(build_records(_specs(), now_us=now, default_tz="UTC", by="me")) == one_by_one
    # each job keeps its own id as the seed of its (shared) schedule
    plain = [r for r in one_by_one if r.id.startswith("plain-")]
    assert [r.trigger["seed"] for r in plain] == ["plain-0", "plain-1", "plain-2"]
    assert len({id(r.trigger) for r in plain}) == 3  # one dict each, not one shared


def test_a_bad_trigger_is_refused_every_time_not_memoised() -> None:
    now = int(AT.timestamp() * 1_000_000)
    specs = [JobSpec(target=REF, trigger="61 * * * *", id=f"bad-{i}") for i in range(2)]
    for spec in specs:
        with pytest.raises(InvalidInput) as caught:
            build_records([spec], now_us=now, default_tz="UTC", by=None)
        assert caught.value.field.startswith("trigger")


def test_add_jobs_stores_what_add_job_would(db_url: str) -> None:
    tw = _client(db_url)
    try:
        progress: list[int] = []
        assert tw.add_jobs(_specs(), by="bulk-user", progress=progress.append) == 36
        assert progress == [36]
        now = tw.clock.now_us()
        expected = {
            r.id: r
            for r in (
                build_record(s, now_us=now, default_tz="Europe/Berlin", by="bulk-user")
                for s in _specs()
            )
        }
        stored = {j.id: j.record for j in tw.get_jobs()}
        assert stored == expected
        assert stored["daily-1"].tags == ["a", "b"]
        assert [j.id for j in tw.get_jobs(tag="b")] == ["daily-0", "daily-1", "daily-2"]
        assert stored["paused-0"].next_fire_at is None
        events = tw.audit.page(AuditFilter(action="job.create"), limit=100)
        assert len(events) == 36
        assert {e.job_id for e in events} == set(expected)
        assert {(e.actor, e.after is None, str(e.detail)) for e in events} == {
            ("bulk-user", True, "{'bulk': 36}")
        }
    finally:
        tw.close()


def test_a_duplicate_id_writes_nothing(db_url: str) -> None:
    tw = _client(db_url)
    try:
        tw.add_jobs([JobSpec(target=REF, trigger="@daily", id="taken")])
        with pytest.raises(Conflict):
            tw.add_jobs([JobSpec(target=REF, trigger="@daily", id=f"new-{i}") for i in range(3)]
                        + [JobSpec(target=REF, trigger="@hourly", id="taken")])  # fmt: skip
        with tw.store.db.read() as conn:
            assert tw.store.jobs.ids(conn, JobFilter()) == ["taken"]
        assert tw.audit.count(AuditFilter(action="job.create")) == 1
    finally:
        tw.close()


def test_jobs_of_the_cli_and_api_keep_the_target_rules(db_url: str) -> None:
    tw = _client(db_url)
    try:
        celery = {"kind": "celery", "task": "x.ping", "app": "elsewhere.app:celery"}
        for target in ("os:system", "other.module:fn", celery):
            spec = JobSpec(target=target, trigger="@daily", id="j", owner="cli")
            spec.check_target = False
            with pytest.raises(InvalidInput) as caught:
                tw.add_jobs([JobSpec(target=REF, trigger="@daily", id="fine", owner="cli"), spec])
            assert caught.value.field == "jobs[j].target"
        assert tw.get_jobs() == []
        # the same targets from Python code are the program's own business
        tw.add_jobs([JobSpec(target="other.module:fn", trigger="@daily", id="py",
                             check_target=False)])  # fmt: skip
        assert [j.id for j in tw.get_jobs()] == ["py"]
    finally:
        tw.close()


def _indexes(tw: Tickwork) -> list[tuple[str, str]]:
    with tw.store.db.read() as conn:
        return sorted(
            conn.exec_driver_sql(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                "AND tbl_name IN ('tw_job', 'tw_audit_event') AND sql IS NOT NULL"
            ).all()
        )


def test_a_large_bulk_on_sqlite_builds_the_indexes_at_the_end(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The secondary indexes are dropped and built again around a bulk that outgrows the
    table (the threshold lowered here): the same indexes after, queries through them answer,
    the page cache is back to what it was."""
    from tickwork.store import bulk_rows

    monkeypatch.setattr(bulk_rows, "REINDEX_MIN_ROWS", 10)
    tw = _client(f"sqlite:///{tmp_path / 'bulk.db'}")
    try:
        before = _indexes(tw)
        assert len(before) >= 6  # next_fire_at, group, the audit's four
        statements: list[str] = []
        event.listen(
            tw.store.db.engine,
            "before_cursor_execute",
            lambda _c, _k, statement, *_: statements.append(statement),
        )
        tw.add_jobs([JobSpec(target=REF, trigger="@daily", id=f"j-{i:03d}") for i in range(40)])
        assert sorted(s for s in statements if s.startswith("DROP INDEX")) == sorted(
            f'DROP INDEX "{name}"' for name, _ in before
        )
        assert _indexes(tw) == before
        with tw.store.db.read() as conn:
            plan = " ".join(
                str(row[-1])
                for row in conn.exec_driver_sql(
                    "EXPLAIN QUERY PLAN SELECT id FROM tw_job WHERE next_fire_at < 1"
                )
            )
            assert "ix_tw_job_next_fire_at" in plan
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
            assert conn.exec_driver_sql("PRAGMA cache_size").scalar() != -bulk_rows.BULK_CACHE_KIB
        assert len(tw.get_jobs()) == 40
        assert tw.audit.count(AuditFilter(action="job.create")) == 40
    finally:
        tw.close()


def test_a_failed_large_bulk_on_sqlite_keeps_the_indexes_and_writes_nothing(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tickwork.store import bulk_rows

    monkeypatch.setattr(bulk_rows, "REINDEX_MIN_ROWS", 10)
    tw = _client(f"sqlite:///{tmp_path / 'bulk.db'}")
    try:
        before = _indexes(tw)
        specs = [JobSpec(target=REF, trigger="@daily", id=f"j-{i:03d}") for i in range(40)]
        with pytest.raises(Conflict):
            tw.add_jobs([*specs, JobSpec(target=REF, trigger="@daily", id="j-000")])
        assert _indexes(tw) == before
        assert tw.get_jobs() == []
        assert tw.audit.count(AuditFilter(action="job.create")) == 0
    finally:
        tw.close()


def test_a_taken_id_in_a_later_batch_writes_nothing(db_url: str) -> None:
    """A duplicate id found by the database after two batches were written leaves
    nothing, on every backend."""
    tw = _client(db_url)
    try:
        specs = [JobSpec(target=REF, trigger="@daily", id=f"j-{i:04d}") for i in range(1_200)]
        specs[1_100] = JobSpec(target=REF, trigger="@hourly", id="j-0005")
        progress: list[int] = []
        with pytest.raises(Conflict):
            tw.add_jobs(specs, progress=progress.append)
        assert progress == [500, 1_000]  # two batches were written before it
        assert tw.get_jobs() == []
        assert tw.audit.count(AuditFilter(action="job.create")) == 0
    finally:
        tw.close()


def test_bulk_rows_write_each_trigger_as_json_dumps_would() -> None:
    """The cron spec text made from a prefix per expression is json.dumps' text, for
    seeds with quotes, non-ASCII and escapes, and for specs of any other shape."""
    import json

    from tickwork.store.bulk_rows import JOB_ROW_COLUMNS, job_rows

    at = JOB_ROW_COLUMNS.index("trigger")
    now = 1_800_000_000_000_000
    specs = [
        JobSpec(target=REF, trigger=t, id=i, owner="python", check_target=False)
        for i, t in [
            ("a", "0 2 * * *"),
            ("b", "0 2 * * *"),
            ("c", {"kind": "cron", "expr": "0 2 * * *", "tz": "UTC", "seed": 'q"uo\\te'}),
            ("d", {"kind": "cron", "expr": "0 2 * * *", "tz": "UTC", "seed": "计划-Ω\n"}),
            ("e", {"kind": "cron", "expr": "0 2 * * *", "tz": "Asia/Shanghai"}),
            ("f", "H 3 * * *"),
            ("g", "interval"),
        ]
    ]
    specs[-1].trigger_args = {"minutes": 5}
    records = build_records(specs, now_us=now, default_tz="UTC", by=None)
    assert [row[at] for row in job_rows(records)] == [json.dumps(r.trigger) for r in records]


def test_sqlite_bulk_rows_with_shared_literals_read_back_exactly(tmp_path: Any) -> None:
    """On SQLite, the columns all jobs of a batch share are written into the statement as
    literals: quotes, SQL-looking text, non-ASCII, whole and other floats, booleans and
    NULLs read back as the records had them, shared or differing."""
    tw = _client(f"sqlite:///{tmp_path / 'lit.db'}")
    try:
        texts = ["it's", "'; DROP TABLE tw_job; --", "计划任务 Ω", 'say "hi"', ""]
        shared = [
            JobSpec(target=REF, trigger="0 2 * * *", id=f"s-{i:02d}", description="it's",
                    group="g'1", timeout_s=2.5, paused=True)
            for i in range(30)
        ]  # fmt: skip
        varied = [
            JobSpec(
                target=REF,
                trigger="0 2 * * *" if i % 3 else "*/5 * * * *",
                id=f"v-{i:02d}",
                name=f"name {texts[i % len(texts)]}",
                description=texts[(i // 7) % len(texts)],
                group="g'1" if (i // 10) % 2 else "default",
                timeout_s=[None, 3.0, 2.5, 0.1][(i // 15) % 4],
                paused=bool((i // 20) % 2),
                max_instances=1 + (i // 30),
            )
            for i in range(60)
        ]
        statements: list[str] = []
        event.listen(
            tw.store.db.engine,
            "before_cursor_execute",
            lambda _c, _k, statement, *_: statements.append(statement),
        )
        tw.add_jobs(shared, by="o'neil")
        tw.add_jobs(varied, by="o'neil")
        inserts = [s for s in statements if s.startswith("INSERT INTO tw_job ")]
        assert len(inserts) == 2
        assert all(w in inserts[0] for w in ("'it''s'", "'g''1'", "'o''neil'"))  # escaped
        assert "2.5" not in inserts[0]  # bound: no decimal round trip
        assert "'o''neil'" in inserts[1]
        assert "'it''s'" not in inserts[1]
        now = tw.clock.now_us()
        expected = {
            s.id: build_record(s, now_us=now, default_tz="Europe/Berlin", by="o'neil")
            for s in shared + varied
        }
        assert {j.id: j.record for j in tw.get_jobs()} == expected
    finally:
        tw.close()
