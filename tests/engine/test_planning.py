"""The misfire table: what each policy and grace time does with overdue fires (pure)."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from tickwork.engine.planning import plan_fires
from tickwork.engine.policies import Admission, admit, retry_delay_s, should_retry
from tickwork.models import RunStatus
from tickwork.store.records import JobRecord
from tickwork.triggers import cron

T0 = 1_767_607_200_000_000  # a minute boundary
SEC = 1_000_000
MIN = 60 * SEC
EVERY_MINUTE = cron("* * * * *")


def job(**changes: object) -> JobRecord:
    base = JobRecord(
        id="j",
        name="j",
        target_kind="python",
        target={"ref": "m:f"},
        trigger_kind="cron",
        trigger=EVERY_MINUTE.to_spec(),
        timezone="UTC",
        next_fire_at=T0,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def outcome(policy: str, grace: float | None, late_minutes: int, **extra: object) -> list[str]:
    """Claim a job whose first fire was ``late_minutes`` ago (plus one on-time fire ahead)."""
    now = T0 + late_minutes * MIN + 30 * SEC  # half a minute past the last overdue fire
    planned = plan_fires(
        job(misfire_policy=policy, misfire_grace_s=grace, **extra),
        EVERY_MINUTE,
        now=now,
        horizon=now + 31 * SEC,  # the next minute's fire is within the lookahead
        node_id="n",
    )
    assert [r.scheduled_for for r in planned.runs] == [
        T0 + i * MIN for i in range(late_minutes + 2)
    ], "every fire gets exactly one record, in order"
    assert planned.next_fire_at == T0 + (late_minutes + 2) * MIN
    return [f"{r.status}:{r.reason}" for r in planned.runs]


S, M = "scheduled", "missed"


@pytest.mark.parametrize(
    ("policy", "grace", "expected"),
    [
        # 3 overdue fires (3 min, 2 min, 1 min and 30 s late), then one on time
        ("run_once", None, [f"{M}:schedule"] * 3 + [f"{S}:catch-up", f"{S}:schedule"]),
        ("run_once", 100.0, [f"{M}:schedule"] * 3 + [f"{S}:catch-up", f"{S}:schedule"]),
        ("run_once", 10.0, [f"{M}:schedule"] * 4 + [f"{S}:schedule"]),
        ("run_all", None, [f"{S}:catch-up"] * 4 + [f"{S}:schedule"]),
        ("run_all", 100.0, [f"{M}:schedule"] * 2 + [f"{S}:catch-up"] * 2 + [f"{S}:schedule"]),
        ("skip", None, [f"{M}:schedule"] * 4 + [f"{S}:schedule"]),
        ("skip", 1000.0, [f"{M}:schedule"] * 4 + [f"{S}:schedule"]),
    ],
)
def test_misfire_table(policy: str, grace: float | None, expected: list[str]) -> None:
    assert outcome(policy, grace, 3) == expected


def test_run_all_is_capped_by_max_catchup() -> None:
    got = outcome("run_all", None, 5, max_catchup=2)
    assert got == [f"{M}:schedule"] * 4 + [f"{S}:catch-up"] * 2 + [f"{S}:schedule"]


def test_missed_records_say_why() -> None:
    planned = plan_fires(
        job(misfire_policy="run_once", misfire_grace_s=10.0),
        EVERY_MINUTE,
        now=T0 + 90 * SEC,
        horizon=T0 + 90 * SEC,
        node_id="n",
    )
    errors = [r.error for r in planned.runs]
    assert errors[0] is not None
    assert "later than the grace time of 10 s" in errors[0]
    assert "90.000 s after its time" in errors[0]
    assert all(r.node_id is None for r in planned.runs if r.status == RunStatus.MISSED)


def test_a_fire_claimed_within_the_tolerance_is_on_time() -> None:
    planned = plan_fires(
        job(misfire_policy="skip"), EVERY_MINUTE, now=T0 + SEC // 2, horizon=T0 + SEC, node_id="n"
    )
    assert [(r.status, r.reason, r.node_id) for r in planned.runs] == [(S, "schedule", "n")]


def test_long_backlogs_are_recorded_over_several_claims() -> None:
    planned = plan_fires(
        job(), EVERY_MINUTE, now=T0 + 100 * MIN, horizon=T0 + 100 * MIN, node_id="n", max_fires=30
    )
    assert len(planned.runs) == 30
    assert planned.next_fire_at == T0 + 30 * MIN  # still due: the next claim continues
    assert all(r.status == M for r in planned.runs)  # none of these is the latest


def test_no_fire_due_means_nothing_recorded() -> None:
    planned = plan_fires(
        job(next_fire_at=T0 + MIN), EVERY_MINUTE, now=T0, horizon=T0 + SEC, node_id="n"
    )
    assert planned.runs == []
    assert planned.next_fire_at == T0 + MIN


@pytest.mark.parametrize(
    ("policy", "limit", "active", "reason", "misfire", "expected"),
    [
        ("allow", 1, 0, "schedule", "run_once", Admission.START),
        ("allow", 1, 1, "schedule", "run_once", Admission.SKIP),
        ("allow", 3, 2, "schedule", "run_once", Admission.START),
        ("allow", 3, 3, "manual", "run_once", Admission.SKIP),
        ("forbid", 5, 1, "schedule", "run_once", Admission.SKIP),  # forbid ignores max_instances
        ("forbid", 5, 0, "schedule", "run_once", Admission.START),
        ("replace", 1, 1, "schedule", "run_once", Admission.REPLACE),
        ("allow", 1, 1, "catch-up", "run_all", Admission.WAIT),  # catch-ups run in sequence
        ("allow", 1, 1, "catch-up", "run_once", Admission.SKIP),
    ],
)
def test_concurrency_table(
    policy: str, limit: int, active: int, reason: str, misfire: str, expected: Admission
) -> None:
    assert admit(policy, limit, active, reason, misfire) is expected


def test_retry_backoff_grows_exponentially_with_bounded_jitter() -> None:
    rnd = random.Random(7)
    for attempt, base in [(1, 10), (2, 20), (3, 40), (4, 80), (10, 600)]:
        delays = [retry_delay_s(attempt, 10, 600, rnd) for _ in range(200)]
        assert min(delays) >= base / 2
        assert max(delays) <= base
        assert max(delays) - min(delays) > base / 4  # it is jittered
    assert should_retry(RunStatus.FAILED, 1, 1)
    assert not should_retry(RunStatus.FAILED, 2, 1)
    assert should_retry(RunStatus.LOST, 1, 2)
    assert should_retry(RunStatus.TIMED_OUT, 2, 2)
    assert not should_retry(RunStatus.CANCELLED, 1, 5)
    assert not should_retry(RunStatus.SKIPPED, 1, 5)


@pytest.mark.parametrize(("policy", "keep"), [("run_once", 1), ("run_all", 5), ("skip", 0)])
def test_a_backlog_split_over_claims_still_catches_up_once(policy: str, keep: int) -> None:
    """1000 overdue fires claimed 300 at a time: the catch-up runs are the last ones overall."""
    now = T0 + 999 * MIN + 30 * SEC
    record = job(misfire_policy=policy, max_catchup=5)
    ran: list[int] = []
    total = 0
    while record.next_fire_at is not None and record.next_fire_at <= now:
        planned = plan_fires(record, EVERY_MINUTE, now=now, horizon=now, node_id="n", max_fires=300)
        total += len(planned.runs)
        ran += [r.scheduled_for for r in planned.runs if r.status == S]
        record = replace(record, next_fire_at=planned.next_fire_at)
    assert total == 1000
    assert ran == [T0 + i * MIN for i in range(1000 - keep, 1000)]
