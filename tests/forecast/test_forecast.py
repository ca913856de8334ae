"""The load forecast: the same fires as walking every job's own trigger, hot spots with
their jobs, the H suggestion and its preview; the API, the CLI; nothing written."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tickwork import Tickwork
from tickwork.cli import main
from tickwork.clock import FakeClock
from tickwork.errors import InvalidInput
from tickwork.forecast import _recipes, _resolver, compute, spread_expr
from tickwork.jobspec import JobSpec
from tickwork.triggers import from_spec
from tickwork.triggers.cron_parse import _field_template

# A Saturday in the DST change week of Europe/Berlin (fixed: no test reads the real clock).
NOW = datetime(2026, 3, 28, 22, 30, 7, tzinfo=UTC)
NOW_S = int(NOW.timestamp())


def _rows() -> list[tuple[str, str]]:
    specs: list[tuple[str, dict[str, object]]] = []
    for i in range(40):
        specs.append((f"daily-{i}", {"kind": "cron", "expr": "0 2 * * *", "tz": "Europe/Berlin"}))
    for i in range(30):
        specs.append((f"h-{i}", {"kind": "cron", "expr": "H H * * *", "tz": "Asia/Shanghai"}))
    for i in range(5):
        specs.append((f"sec-{i}", {"kind": "cron", "expr": "*/20 * * * * *", "tz": "UTC"}))
    specs.append(("jit", {"kind": "cron", "expr": "*/7 * * * *", "tz": "UTC", "jitter": 30}))
    specs.append(("iv", {"kind": "interval", "minutes": 13, "tz": "UTC"}))
    specs.append(("kw", {"kind": "cron", "fields": {"minute": "H", "hour": "*/3"}, "tz": "UTC"}))
    specs.append(
        ("ended", {"kind": "cron", "expr": "*/5 * * * *", "tz": "UTC",
                   "end_date": "2026-03-29T03:00:00+00:00"})
    )  # fmt: skip
    specs.append(("wall", {"kind": "cron", "expr": "30 2 * * *", "tz": "Europe/Berlin"}))
    rows = []
    for job_id, spec in specs:
        rows.append((job_id, json.dumps({**spec, "seed": job_id})))
    return rows


def _naive(rows: list[tuple[str, str]], hours: int, bucket_s: int) -> list[int]:
    first = NOW_S - NOW_S % bucket_s
    count = -(-(NOW_S + hours * 3600 - first) // bucket_s)
    buckets = [0] * count
    for _, text in rows:
        trigger = from_spec(json.loads(text))
        t = trigger.next_fire_us(NOW_S * 1_000_000 - 1)
        while t is not None and t < (NOW_S + hours * 3600) * 1_000_000:
            buckets[(t // 1_000_000 - first) // bucket_s] += 1
            t = trigger.next_fire_us(t)
    return buckets


@pytest.mark.parametrize(("hours", "bucket_s"), [(24, 60), (168, 3600), (30, 900)])
def test_forecast_counts_the_same_fires_as_every_trigger_walked(hours: int, bucket_s: int) -> None:
    rows = _rows()
    fc = compute(rows, now_s=NOW_S, hours=hours, bucket_s=bucket_s)
    assert fc.buckets == _naive(rows, hours, bucket_s)
    assert fc.fires == sum(fc.buckets) > 0
    assert fc.jobs == len(rows)
    assert fc.first_bucket_s == NOW_S - NOW_S % bucket_s
    assert fc.end_s - fc.start_s == hours * 3600


def test_hot_spots_name_their_jobs_and_the_h_form_spreads_them() -> None:
    rows = _rows()
    fc = compute(rows, now_s=NOW_S, hours=24, bucket_s=60, threshold=20)
    # 02:00 Berlin on 2026-03-29 does not exist: the 40 fixed-time jobs fire at 03:00 CEST
    spot = fc.hot_spots[0]
    assert datetime.fromtimestamp(spot.start_s, UTC) == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    assert spot.fires >= 40
    assert spot.on_the_hour >= 40
    assert {f"daily-{i}" for i in range(40)} <= set(spot.jobs)
    assert spot.job_count >= 40
    sug = fc.suggestion
    assert sug is not None
    changed = {c.job_id: c for c in sug.changes}
    assert changed["daily-3"].expr == "0 2 * * *"
    assert changed["daily-3"].suggested == "H 2 * * *"
    assert "h-1" not in changed  # already spread
    assert sug.peak < fc.peak
    assert sug.change_count == len(sug.changes)
    # the preview is what the changed jobs would really do with H
    spread = []
    for job_id, text in rows:
        c = changed.get(job_id)
        new = text if c is None else text.replace(json.dumps(c.expr), json.dumps(c.suggested))
        spread.append((job_id, new))
    assert sug.buckets == _naive(spread, 24, 60)


def test_no_hot_spot_no_suggestion_and_bad_windows_name_the_field() -> None:
    fc = compute(_rows()[40:70], now_s=NOW_S, hours=24, bucket_s=3600, threshold=1000)
    assert fc.hot_spots == []
    assert fc.suggestion is None
    with pytest.raises(InvalidInput) as bad:
        compute([], now_s=NOW_S, hours=168 * 2, bucket_s=60)
    assert bad.value.field == "bucket_s"
    assert bad.value.code == "too_many_buckets"
    with pytest.raises(InvalidInput) as bad:
        compute([], now_s=NOW_S, hours=0)
    assert bad.value.field == "hours"


def test_unreadable_triggers_are_listed_not_fatal() -> None:
    rows = [*_rows()[:3], ("broken", '{"kind": "cron", "expr": "61 * * * *", "tz": "UTC"}')]
    fc = compute(rows, now_s=NOW_S, hours=24, bucket_s=3600)
    assert fc.unreadable == ["broken"]
    assert fc.fires == 3


@pytest.mark.parametrize(
    ("expr", "spread"),
    [
        ("0 2 * * *", "H 2 * * *"),
        ("0 * * * *", "H * * * *"),
        ("*/15 * * * *", "H/15 * * * *"),
        ("0 0 9 * * 1", "0 H 9 * * 1"),
        ("@daily", "H 0 * * *"),
        ("H 2 * * *", None),
        ("5,35 * * * *", None),
    ],
)
def test_spread_expr(expr: str, spread: str | None) -> None:
    assert spread_expr(expr) == spread


def test_fast_h_resolution_equals_the_parsers() -> None:
    for expr in ("H H * * *", "H/15 H(8-17) * * 1-5", "0 H H(0-5) H * *", "H 3 * * *"):
        resolve = _resolver(_recipes(expr))
        parts = expr.split()
        names = ("minute", "hour", "day-of-month", "month", "day-of-week")
        if len(parts) == 6:
            names = ("second", *names)
        recipes = [r for n, p in zip(names, parts, strict=True) if "H" in p
                   for r in _field_template(n, p)[2]]  # fmt: skip
        for i in range(300):
            seed = f"job-{i}-数据"
            assert resolve(seed) == tuple(r.resolve(seed).start for r in recipes)


def _tw(tmp_path: Path) -> Tickwork:
    return Tickwork(f"sqlite:///{tmp_path / 'fc.db'}", clock=FakeClock(NOW_S * 1_000_000),
                    check_targets=False)  # fmt: skip


def test_facade_forecast_reads_active_jobs_and_writes_nothing(tmp_path: Path) -> None:
    tw = _tw(tmp_path)
    try:
        specs = [
            JobSpec(
                target="tests.api.tasks:noop",
                trigger="0 2 * * *",
                id=f"j{i}",
                timezone="UTC",
                owner="code",
                check_target=False,
                group="g" if i < 20 else "o",
                paused=i >= 25,
            )
            for i in range(30)
        ]
        tw.add_jobs(specs)
        before = [(j.id, j.record.version, j.record.next_fire_at) for j in tw.get_jobs()]
        fc = tw.forecast(24, 60, hot=5)
        assert fc.jobs == 25
        assert fc.fires == 25
        assert fc.hot_spots[0].job_count == 25
        assert tw.forecast(24, 60, group="g").fires == 20
        after = [(j.id, j.record.version, j.record.next_fire_at) for j in tw.get_jobs()]
        assert before == after
    finally:
        tw.close()


def test_cli_forecast(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tw = _tw(tmp_path)
    tw.add_jobs(
        [
            JobSpec(target="tests.api.tasks:noop", trigger="0 * * * *", id=f"c{i}",
                    timezone="UTC", owner="code", check_target=False)
            for i in range(15)
        ]
    )  # fmt: skip
    tw.close()
    url = f"sqlite:///{tmp_path / 'fc.db'}"
    assert main(["forecast", "--database-url", url, "--hours", "24", "--hot", "10"]) == 0
    out = capsys.readouterr().out
    assert "hot spot above 10" in out
    assert "with H: 15 jobs change" in out
    assert main(["forecast", "--database-url", url, "--json", "--bucket", "3600"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["bucket_s"] == 3600
    assert data["fires"] > 0


def test_forecast_reads_every_backend(db_url: str) -> None:
    tw = Tickwork(db_url, clock=FakeClock(NOW_S * 1_000_000), check_targets=False)
    try:
        specs = [
            JobSpec(target="tests.api.tasks:noop", trigger=expr, id=f"b{i}", timezone=zone,
                    owner="code", check_target=False)
            for i, (expr, zone) in enumerate(
                [("0 2 * * *", "UTC")] * 12 + [("H H * * *", "Asia/Shanghai")] * 8
                + [("*/30 * * * *", "Europe/Berlin")] * 3
            )
        ]  # fmt: skip
        tw.add_jobs(specs)
        fc = tw.forecast(24, 60, hot=10)
        rows = [(j.id, json.dumps(j.record.trigger)) for j in tw.get_jobs()]
        assert fc.buckets == _naive(rows, 24, 60)
        assert fc.jobs == 23
        assert fc.hot_spots[0].job_count == 15  # 02:00 UTC: the 12 daily and the 3 half-hourly
    finally:
        tw.close()
