"""Deterministic jitter: same seed and base fire, same delay; fires stay strictly increasing."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime

import pytest

from tickwork.triggers import TriggerError, cron, date, from_keywords, interval
from tickwork.triggers.base import Trigger, to_us
from tickwork.triggers.jitter import jitter_delay

T0 = to_us(datetime(2026, 1, 1, tzinfo=UTC))


def chain(t: Trigger, start: int, n: int) -> list[int]:
    out: list[int] = []
    x = start
    for _ in range(n):
        nxt = t.next_fire_us(x)
        assert nxt is not None
        out.append(nxt)
        x = nxt
    return out


def test_delay_is_within_jitter_and_deterministic() -> None:
    t = cron("0 * * * *", jitter=30, seed="job-1")
    fires = chain(t, T0 - 1, 50)
    bases = chain(cron("0 * * * *"), T0 - 1, 50)
    delays = [f - b for f, b in zip(fires, bases, strict=True)]
    assert all(0 <= d <= 30_000_000 for d in delays)
    assert len(set(delays)) > 40  # spread, not constant
    assert chain(cron("0 * * * *", jitter=30, seed="job-1"), T0 - 1, 50) == fires


def test_different_seeds_differ_and_none_is_empty() -> None:
    a = chain(cron("0 * * * *", jitter=60, seed="a"), T0, 5)
    b = chain(cron("0 * * * *", jitter=60, seed="b"), T0, 5)
    assert a != b
    assert chain(cron("0 * * * *", jitter=60), T0, 5) == chain(
        cron("0 * * * *", jitter=60, seed=""), T0, 5
    )


def test_pinned_value_is_stable_across_processes() -> None:
    # The delay must be the same on every node: pinned, and recomputed in a fresh process
    # with a different PYTHONHASHSEED (Python's hash() would change; ours must not).
    expected = jitter_delay("job-1", T0, 30_000_000)
    assert expected == 3_785_099
    code = (
        "from tickwork.triggers.jitter import jitter_delay;"
        f"print(jitter_delay('job-1', {T0}, 30_000_000))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONHASHSEED": "12345", "PATH": ""},
    )
    assert int(out.stdout) == expected


def test_no_fire_is_skipped_or_repeated_when_jitter_exceeds_the_period() -> None:
    # Every 10 s with up to 60 s of jitter: the delay is capped below the gap to the next base.
    t = cron("*/10 * * * * *", jitter=60, seed="dense")
    fires = chain(t, T0, 200)
    assert fires == sorted(set(fires))
    bases = chain(cron("*/10 * * * * *"), T0 - 1, 201)
    for i, f in enumerate(fires):
        assert bases[i] <= f < bases[i + 1]
    for f in fires[:50]:
        assert t.next_fire_us(f - 1) == f
        # Asking from any point between two fires gives the later one.
        assert t.next_fire_us(f - 3_000_000) in (f, *[g for g in fires if g < f][-1:])


@pytest.mark.parametrize(
    "t",
    [
        interval(minutes=5, jitter=10, seed="i"),
        from_keywords("cron", minute="*/5", jitter=10, seed="k"),
        cron("*/5 * * * *", "Europe/Berlin", "c", jitter=10),
    ],
)
def test_every_kind_jitters(t: Trigger) -> None:
    fires = chain(t, T0, 20)
    assert fires == sorted(set(fires))
    assert any(f % 300_000_000 for f in fires)
    assert all(f % 300_000_000 <= 10_000_000 for f in fires)


def test_date_jitter_and_end_date_clamp() -> None:
    run = to_us(datetime(2026, 6, 1, 12, tzinfo=UTC))
    t = date("2026-06-01 12:00", jitter=5, seed="d")
    fire = t.next_fire_us(T0)
    assert fire is not None
    assert run <= fire <= run + 5_000_000
    assert t.next_fire_us(fire) is None
    assert t.next_fire_us(fire - 1) == fire
    end = cron("0 12 * * *", jitter=3600, seed="e", end_date="2026-06-01 12:00:01")
    last = end.next_fire_us(run - 1)
    assert last is not None
    assert run <= last <= run + 1_000_000
    assert end.next_fire_us(last) is None


def test_bad_jitter() -> None:
    with pytest.raises(TriggerError, match=r"^jitter: expected a number of seconds"):
        cron("* * * * *", jitter="5")  # type: ignore[arg-type]
    assert cron("* * * * *", jitter=0) == cron("* * * * *")
