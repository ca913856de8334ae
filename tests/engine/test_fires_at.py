"""``fires_at``: the instants a job's schedule fires at, which runs recorded apart from the
schedule (manual runs, workflow steps) keep off."""

from __future__ import annotations

from tests.engine.conftest import SEC, T0
from tickwork.engine.trigger_cache import fires_at
from tickwork.triggers import cron, interval


def test_a_cron_schedule_fires_on_its_instants_only() -> None:
    at = fires_at(cron("* * * * *").to_spec())
    assert at(T0)
    assert at(T0 + 60 * SEC)
    assert not at(T0 + 1)
    assert not at(T0 - 1)
    assert not at(T0 + 30 * SEC)


def test_a_jittered_schedule_fires_on_its_jittered_instants() -> None:
    trigger = cron("0 * * * *", jitter=30, seed="job-1")
    at = fires_at(trigger.to_spec())
    fire = trigger.next_fire_us(T0 - 1)
    assert fire is not None
    assert fire != T0
    assert at(fire)
    assert not at(T0)
    assert not at(fire + 1)


def test_an_interval_schedule_and_no_schedule() -> None:
    trigger = interval(seconds=10, start_date="2026-01-05 10:00:00")
    at = fires_at(trigger.to_spec())
    first = trigger.next_fire_us(T0 - 1)
    assert first is not None
    assert at(first)
    assert at(first + 10 * SEC)
    assert not at(first + 5 * SEC)
    nothing = fires_at({})  # a job without a schedule (or one that no longer parses)
    assert not nothing(T0)
