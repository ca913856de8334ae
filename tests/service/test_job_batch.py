"""``JobBatch``: the jobs of a bulk add kept as runs of own columns beside the record they
share (issue 15). Whatever is read from it (records, ids, slices, selections) is what
``build_record`` builds for each spec, in the specs' order; the store writes the same
rows from it as from the records."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tickwork.bulk_build import BulkBuilder, build_records
from tickwork.errors import InvalidInput
from tickwork.jobspec import JobSpec, build_record
from tickwork.store.job_batch import JobBatch, JobRun

NOW = 1_803_895_201_000_000
REF = "tests.importers.sample_jobs:report"


def _specs() -> list[JobSpec]:
    """Long runs of jobs sharing a part (a text target, a shell target made anew for each
    job as importers do), broken by jobs that share nothing."""
    out: list[JobSpec] = []
    for i in range(40):
        out.append(JobSpec(target=REF, trigger=f"{i % 7} 2 * * *", id=f"py-{i}"))
    out.append(JobSpec(target=REF, trigger="@daily", id="tagged", tags=["t"]))
    for i in range(30):
        shell = {"kind": "shell", "command": "/bin/true", "shell": True}
        out.append(JobSpec(target=shell, trigger="*/5 * * * *", id=f"sh-{i}",
                           description=f"line {i}", group="crontab"))  # fmt: skip
    out.append(JobSpec(target=REF, trigger="interval", trigger_args={"hours": 1}, id="every"))
    return out


def _one_by_one(specs: list[JobSpec]) -> list[Any]:
    return [build_record(s, now_us=NOW, default_tz="UTC", by="me") for s in specs]


def _one_by_one_in(specs: list[JobSpec], tz: str) -> list[Any]:
    return [build_record(s, now_us=NOW, default_tz=tz, by=None) for s in specs]


def test_a_batch_reads_as_the_records_built_one_by_one() -> None:
    specs = _specs()
    batch = build_records(specs, now_us=NOW, default_tz="UTC", by="me")
    expected = _one_by_one(specs)
    runs = [p for p in batch.parts if isinstance(p, JobRun)]
    # the runs are made ("every" shares the first run's part, after others: a run of its
    # own), the tagged job is whole
    assert [len(r.rows) for r in runs] == [40, 30, 1]
    assert runs[2].shared is runs[0].shared
    assert len(batch) == len(expected)
    assert list(batch) == expected
    assert [batch[i] for i in range(len(batch))] == expected
    assert batch[-1] == expected[-1]
    assert batch.ids() == [r.id for r in expected]
    with pytest.raises(IndexError):
        batch[len(batch)]
    # each record its own dicts and lists, not the shared record's
    a, b = batch[1], batch[2]
    assert a.target is not b.target
    assert a.tags is not b.tags
    assert a.trigger is not b.trigger


@pytest.mark.parametrize(("start", "stop"), [(0, 72), (0, 1), (5, 45), (39, 42), (41, 71)])
def test_a_slice_of_a_batch_is_the_same_slice_of_its_records(start: int, stop: int) -> None:
    specs = _specs()
    batch = build_records(specs, now_us=NOW, default_tz="UTC", by="me")
    part = batch[start:stop]
    assert isinstance(part, JobBatch)
    assert list(part) == _one_by_one(specs)[start:stop]
    assert part.ids() == [s.id for s in specs[start:stop]]


def test_where_keeps_the_flagged_jobs_in_order() -> None:
    specs = _specs()
    batch = build_records(specs, now_us=NOW, default_tz="UTC", by="me")
    keep = [i % 3 != 0 for i in range(len(specs))]
    kept = batch.where(keep)
    assert list(kept) == [r for r, k in zip(_one_by_one(specs), keep, strict=True) if k]


def test_short_runs_are_written_as_records() -> None:
    batch = build_records(_specs(), now_us=NOW, default_tz="UTC", by="me")
    chunks = batch.chunks(35)
    assert [type(c).__name__ for c in chunks] == ["JobRun", "list"]
    assert len(chunks[1]) == 32  # tagged, the 30 shell jobs, every
    assert [len(c) if isinstance(c, list) else len(c.rows) for c in batch.chunks()] == [
        40,
        1,
        30,
        1,
    ]


def test_a_target_mapping_equal_in_value_but_not_in_type_is_checked_again() -> None:
    """{"shell": True} and {"shell": 1} are equal mappings; the second is refused."""
    good = JobSpec(target={"kind": "shell", "command": "x", "shell": True}, trigger="@daily",
                   id="good")  # fmt: skip
    bad = JobSpec(target={"kind": "shell", "command": "x", "shell": 1}, trigger="@daily", id="bad")
    builder = BulkBuilder(now_us=NOW, default_tz="UTC", by=None)
    batch = JobBatch()
    builder.add(good, batch)
    with pytest.raises(InvalidInput) as caught:
        builder.add(bad, batch)
    assert caught.value.field == "target.shell"
    assert batch.ids() == ["good"]  # nothing of the refused one


def test_a_target_mapping_in_another_key_order_keeps_its_own_order() -> None:
    first = {"kind": "shell", "command": "x", "shell": True}
    second = {"shell": True, "kind": "shell", "command": "x"}
    specs = [JobSpec(target=t, trigger="@daily", id=f"j{i}") for i, t in enumerate((first, second))]
    built = build_records(specs, now_us=NOW, default_tz="UTC", by=None)
    expected = _one_by_one(specs)
    assert [list(r.target) for r in built] == [list(r.target) for r in expected]


def _client(url: str) -> Any:
    from tickwork.clock import FakeClock
    from tickwork.service import Tickwork
    from tickwork.settings import Settings

    settings = Settings(database_url=url, timezone="UTC", allowed_targets=("tests.importers",))
    return Tickwork(settings=settings, clock=FakeClock(NOW))


def _long_run() -> list[JobSpec]:
    """More jobs sharing a part than a run needs for a statement of its own on SQLite, with
    quotes and non-ASCII in what they share and in what is their own, and a shared value
    with no exact SQL literal (2.5)."""
    texts = ["it's", "'; DROP TABLE tw_job; --", "计划任务 Ω", 'say "hi"', ""]
    return [
        JobSpec(target=REF, trigger=["0 2 * * *", "*/5 * * * *", "@daily"][i % 3],
                id=f"r-{i:03d}", name=f"n {texts[i % 5]}", description=texts[(i // 5) % 5],
                group="g'1", timeout_s=2.5, paused=i >= 100)
        for i in range(150)
    ]  # fmt: skip


def test_a_long_run_is_stored_as_built_one_by_one(db_url: str) -> None:
    tw = _client(db_url)
    try:
        assert tw.add_jobs(_long_run(), by="o'neil") == 150
        expected = {
            r.id: r
            for r in (
                build_record(s, now_us=NOW, default_tz="UTC", by="o'neil") for s in _long_run()
            )
        }
        assert {j.id: j.record for j in tw.get_jobs()} == expected
    finally:
        tw.close()


def test_a_long_run_on_sqlite_binds_its_own_columns_and_writes_the_shared_ones(
    tmp_path: Any,
) -> None:
    from sqlalchemy import event

    tw = _client(f"sqlite:///{tmp_path / 'run.db'}")
    try:
        statements: list[str] = []
        event.listen(
            tw.store.db.engine,
            "before_cursor_execute",
            lambda _c, _k, statement, *_: statements.append(statement),
        )
        specs = _long_run()[:100]  # one shared part (paused from 100 on)
        tw.add_jobs(specs, by="o'neil")
        (insert,) = [s for s in statements if s.startswith("INSERT INTO tw_job ")]
        assert "'g''1'" in insert
        assert "'o''neil'" in insert
        assert "2.5" not in insert  # bound after the own columns
        assert "?9" in insert
        assert "DROP" not in insert  # own columns are bound
        expected = [build_record(s, now_us=NOW, default_tz="UTC", by="o'neil") for s in specs]
        assert sorted((j.record for j in tw.get_jobs()), key=lambda r: r.id) == expected
    finally:
        tw.close()


def test_each_trigger_text_is_what_json_dumps_writes() -> None:
    """The runs hold each job's trigger as stored text, made from a memoised prefix and the
    seed: the text json.dumps writes of the record's trigger, for expressions and stored
    specs (seeds with quotes and non-ASCII), in several zones, repeated."""
    specs = []
    for i in range(12):
        specs.append(JobSpec(target=REF, trigger=["5 4 * * *", "@hourly"][i % 2], id=f"e-{i}",
                             timezone=["UTC", "Asia/Shanghai", None][i % 3]))  # fmt: skip
    for i in range(12):
        seed = ["plain", 'quo"te', "计划", "back\\slash"][i % 4] + str(i)
        trigger = {"kind": "cron", "expr": ["15 4 * * *", "0 0 1 * *"][i % 2],
                   "tz": ["UTC", "Europe/Berlin"][i % 2], "seed": seed}  # fmt: skip
        specs.append(JobSpec(target=REF, trigger=trigger, id=f"s-{i}"))
    batch = build_records(specs, now_us=NOW, default_tz="Europe/Berlin", by=None)
    texts = [own[-1] for part in batch.parts if isinstance(part, JobRun) for own in part.rows]
    assert len(texts) == len(specs)
    assert texts == [json.dumps(r.trigger) for r in _one_by_one_in(specs, "Europe/Berlin")]
