"""The misfire table: what each policy and grace time does with overdue fires (pure)."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from tickwork.engine.planning import plan_fires, plan_handover
from tickwork.engine.policies import Admission, admit, retry_delay_s, should_retry
from tickwork.models import RunStatus
from tickwork.store.records import JobRecord
from tickwork.store.runs import NewRun
from tickwork.triggers import Trigger, cron

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


def accounted(runs: list[NewRun], trigger: Trigger = EVERY_MINUTE) -> list[int]:
    """The fire instants the records account for: a run its own, a counted missed record
    every fire from its first to its last (walked on the trigger, an independent count)."""
    out: list[int] = []
    for r in runs:
        fire: int | None = r.scheduled_for
        for _ in range(r.fires):
            assert fire is not None
            out.append(fire)
            fire = trigger.next_fire_us(fire)
        if r.fires > 1:
            assert out[-1] == r.last_scheduled_for
    return out


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
    assert accounted(planned.runs) == [T0 + i * MIN for i in range(late_minutes + 2)], (
        "every fire is accounted for exactly once, in order"
    )
    assert planned.next_fire_at == T0 + (late_minutes + 2) * MIN
    assert sum(r.status == M for r in planned.runs) <= 1, "one missed record per claim"
    return [
        f"{r.status}:{r.reason}" + (f"x{r.fires}" if r.status == M else "") for r in planned.runs
    ]


S, M = "scheduled", "missed"


@pytest.mark.parametrize(
    ("policy", "grace", "expected"),
    [
        # 4 overdue fires (3.5 min, 2.5, 1.5 and 0.5 ... the last is 30 s late), then one on time
        ("run_once", None, [f"{M}:schedulex3", f"{S}:catch-up", f"{S}:schedule"]),
        ("run_once", 100.0, [f"{M}:schedulex3", f"{S}:catch-up", f"{S}:schedule"]),
        ("run_once", 10.0, [f"{M}:schedulex4", f"{S}:schedule"]),
        ("run_all", None, [f"{S}:catch-up"] * 4 + [f"{S}:schedule"]),
        ("run_all", 100.0, [f"{M}:schedulex2"] + [f"{S}:catch-up"] * 2 + [f"{S}:schedule"]),
        ("skip", None, [f"{M}:schedulex4", f"{S}:schedule"]),
        ("skip", 1000.0, [f"{M}:schedulex4", f"{S}:schedule"]),
    ],
)
def test_misfire_table(policy: str, grace: float | None, expected: list[str]) -> None:
    assert outcome(policy, grace, 3) == expected


def test_run_all_is_capped_by_max_catchup() -> None:
    got = outcome("run_all", None, 5, max_catchup=2)
    assert got == [f"{M}:schedulex4"] + [f"{S}:catch-up"] * 2 + [f"{S}:schedule"]


def test_missed_records_count_the_fires_and_say_why() -> None:
    planned = plan_fires(
        job(misfire_policy="run_once", misfire_grace_s=150.0),
        EVERY_MINUTE,
        now=T0 + 270 * SEC,  # fires at 0 and 60 s are past the grace; 120, 180, 240 within
        horizon=T0 + 270 * SEC,
        node_id="n",
    )
    missed = planned.runs[0]
    assert (missed.status, missed.fires) == (M, 4)
    assert (missed.scheduled_for, missed.last_scheduled_for) == (T0, T0 + 180 * SEC)
    assert missed.error == (
        "missed: 4 fires (2 later than the grace time of 150 s; 2 coalesced: the misfire "
        "policy run_once runs only the latest); the first claimed 270.000 s after its time"
    )
    assert missed.node_id is None
    assert [(r.status, r.scheduled_for) for r in planned.runs[1:]] == [(S, T0 + 240 * SEC)]
    assert planned.missed == 4


def test_one_missed_fire_is_an_ordinary_record() -> None:
    planned = plan_fires(
        job(misfire_policy="skip"), EVERY_MINUTE, now=T0 + 90 * SEC, horizon=T0, node_id="n"
    )
    (missed,) = [r for r in planned.runs if r.status == M]
    assert (missed.fires, missed.last_scheduled_for) == (2, T0 + MIN)
    single = plan_fires(
        job(misfire_policy="skip"), EVERY_MINUTE, now=T0 + 30 * SEC, horizon=T0, node_id="n"
    )
    assert [(r.status, r.fires, r.last_scheduled_for) for r in single.runs] == [(M, 1, None)]
    assert single.runs[0].error is not None
    assert single.runs[0].error.startswith("missed: 1 fire (1 skipped by the misfire policy")


def test_a_weekend_of_downtime_is_one_record() -> None:
    every_5s = cron("*/5 * * * * *")
    record = job(trigger=every_5s.to_spec(), misfire_policy="run_once")
    weekend = 2 * 24 * 3600 * SEC
    planned = plan_fires(record, every_5s, now=T0 + weekend, horizon=T0 + weekend, node_id="n")
    # 34,561 fires from T0 to T0 + 2 days: all late but the last; run_once runs the latest
    # late one as a catch-up and counts the other 34,559 in one record.
    assert [(r.status, r.reason, r.fires) for r in planned.runs] == [
        (M, "schedule", 34_559),
        (S, "catch-up", 1),
        (S, "schedule", 1),
    ]
    assert planned.runs[0].last_scheduled_for == T0 + weekend - 10 * SEC
    assert planned.runs[1].scheduled_for == T0 + weekend - 5 * SEC
    assert planned.runs[2].scheduled_for == T0 + weekend


def test_a_fire_claimed_within_the_tolerance_is_on_time() -> None:
    planned = plan_fires(
        job(misfire_policy="skip"), EVERY_MINUTE, now=T0 + SEC // 2, horizon=T0 + SEC, node_id="n"
    )
    assert [(r.status, r.reason, r.node_id) for r in planned.runs] == [(S, "schedule", "n")]


def test_no_fire_due_means_nothing_recorded() -> None:
    planned = plan_fires(
        job(next_fire_at=T0 + MIN), EVERY_MINUTE, now=T0, horizon=T0 + SEC, node_id="n"
    )
    assert planned.runs == []
    assert planned.next_fire_at == T0 + MIN


@pytest.mark.parametrize(("policy", "keep"), [("run_once", 1), ("run_all", 5), ("skip", 0)])
def test_a_backlog_longer_than_a_claim_counts_over_several_and_catches_up_once(
    policy: str, keep: int
) -> None:
    """1000 overdue fires counted 300 at a time: every fire accounted for once, one missed
    record per claim, and the catch-up runs are the last fires overall."""
    now = T0 + 999 * MIN + 30 * SEC
    record = job(misfire_policy=policy, max_catchup=5)
    ran: list[int] = []
    records: list[NewRun] = []
    while record.next_fire_at is not None and record.next_fire_at <= now:
        planned = plan_fires(record, EVERY_MINUTE, now=now, horizon=now, node_id="n", max_late=300)
        assert sum(r.status == M for r in planned.runs) <= 1
        records += planned.runs
        ran += [r.scheduled_for for r in planned.runs if r.status == S]
        record = replace(record, next_fire_at=planned.next_fire_at)
    assert accounted(sorted(records, key=lambda r: r.scheduled_for)) == [
        T0 + i * MIN for i in range(1000)
    ]
    assert ran == [T0 + i * MIN for i in range(1000 - keep, 1000)]
    assert len(records) <= 4 + keep


def test_handed_over_runs_follow_the_misfire_policy() -> None:
    now = T0 + 30 * SEC
    fires = [(1, T0 - 20 * SEC, "schedule"), (2, T0 - 10 * SEC, "schedule"),
             (3, T0 + 29_500_000, "schedule"), (4, T0 - 60 * SEC, "manual"),
             (5, T0 - 50 * SEC, "retry")]  # fmt: skip
    once = plan_handover(job(misfire_policy="run_once"), fires, now)
    assert sorted(once.run) == [2, 3, 4, 5]
    assert [rid for rid, _ in once.missed] == [1]
    assert "coalesced" in once.missed[0][1]
    skip = plan_handover(job(misfire_policy="skip"), fires, now)
    assert sorted(skip.run) == [3, 4, 5]
    run_all = plan_handover(job(misfire_policy="run_all"), fires, now)
    assert sorted(run_all.run) == [1, 2, 3, 4, 5]
    grace = plan_handover(job(misfire_policy="run_all", misfire_grace_s=45.0), fires, now)
    assert sorted(grace.run) == [2, 3, 4, 5]
    assert "later than the grace time" in grace.missed[0][1]


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


def test_a_fire_exactly_at_the_tolerance_is_on_time_and_one_microsecond_more_is_late() -> None:
    for late_us, status in ((1_000_000, S), (1_000_001, M)):
        planned = plan_fires(job(misfire_policy="skip"), EVERY_MINUTE, now=T0 + late_us,
                             horizon=T0 + late_us, node_id="n")  # fmt: skip
        assert [r.status for r in planned.runs] == [status], late_us


def test_every_field_of_the_records_a_catch_up_makes() -> None:
    now = T0 + 150 * SEC
    planned = plan_fires(job(misfire_policy="run_once"), EVERY_MINUTE, now=now, horizon=now,
                         node_id="n")  # fmt: skip
    missed, catch_up = planned.runs
    assert missed == NewRun(
        job_id="j", scheduled_for=T0, due_at=T0, reason="schedule", status=M, finished_at=now,
        error=missed.error, fires=2, last_scheduled_for=T0 + MIN,
    )  # fmt: skip
    assert missed.node_id is None  # a missed fire is nobody's to run
    assert catch_up == NewRun(
        job_id="j", scheduled_for=T0 + 2 * MIN, due_at=T0 + 2 * MIN, reason="catch-up",
        status=S, node_id="n",
    )  # fmt: skip
    assert planned.missed == 2
    on_time = plan_fires(job(), EVERY_MINUTE, now=T0, horizon=T0, node_id="n").runs
    assert on_time == [
        NewRun(job_id="j", scheduled_for=T0, due_at=T0, reason="schedule", status=S,
               node_id="n"),
    ]  # fmt: skip


def test_on_time_fires_per_claim_are_capped_and_the_claim_may_start_elsewhere() -> None:
    planned = plan_fires(job(), EVERY_MINUTE, now=T0, horizon=T0 + 10 * MIN, node_id="n",
                         max_fires=3)  # fmt: skip
    assert [r.scheduled_for for r in planned.runs] == [T0, T0 + MIN, T0 + 2 * MIN]
    assert planned.next_fire_at == T0 + 3 * MIN
    later = plan_fires(job(), EVERY_MINUTE, now=T0 + 5 * MIN, horizon=T0 + 5 * MIN,
                       node_id="n", first=T0 + 5 * MIN)  # fmt: skip
    assert [(r.scheduled_for, r.status) for r in later.runs] == [(T0 + 5 * MIN, S)]


def test_a_cut_backlog_reports_how_many_fires_it_counted() -> None:
    now = T0 + 100 * MIN
    planned = plan_fires(job(), EVERY_MINUTE, now=now, horizon=now, node_id="n", max_late=10)
    (record,) = planned.runs
    assert (record.status, record.fires, planned.missed) == (M, 10, 10)
    assert planned.next_fire_at == T0 + 10 * MIN


def test_the_grace_time_is_exact_to_the_microsecond() -> None:
    for late_us, expected in ((150 * SEC, S), (150 * SEC + 100, M)):
        planned = plan_fires(job(misfire_policy="run_all", misfire_grace_s=150.0),
                             EVERY_MINUTE, now=T0 + late_us, horizon=T0, node_id="n")  # fmt: skip
        assert planned.runs[0].status == expected, late_us


def test_run_all_without_catch_up_slots_runs_none_and_says_why() -> None:
    planned = plan_fires(job(misfire_policy="run_all", max_catchup=0), EVERY_MINUTE,
                         now=T0 + 90 * SEC, horizon=T0, node_id="n")  # fmt: skip
    assert [(r.status, r.fires) for r in planned.runs] == [(M, 2)]
    assert planned.runs[0].error is not None
    assert "2 beyond max_catchup=0" in planned.runs[0].error
    run_all = plan_fires(job(misfire_policy="run_all", max_catchup=1), EVERY_MINUTE,
                         now=T0 + 90 * SEC, horizon=T0, node_id="n")  # fmt: skip
    assert [(r.status, r.reason) for r in run_all.runs] == [(M, "schedule"), (S, "catch-up")]
    assert run_all.runs[0].error is not None
    assert run_all.runs[0].error.startswith("missed: 1 fire (1 beyond max_catchup=1)")


def test_handed_over_runs_in_any_order_and_at_the_boundaries() -> None:
    now = T0 + 30 * SEC
    fires = [(3, now - 1_000_000, "schedule"), (1, now - 20 * SEC, "schedule"),
             (2, now - 10 * SEC, "catch-up")]  # fmt: skip
    once = plan_handover(job(misfire_policy="run_once"), fires, now)
    assert sorted(once.run) == [2, 3]  # 3 is exactly at the tolerance: on time
    assert [rid for rid, _ in once.missed] == [1]
    one_slot = plan_handover(job(misfire_policy="run_all", max_catchup=1), fires, now)
    assert sorted(one_slot.run) == [2, 3]  # the latest late one
    grace = plan_handover(job(misfire_policy="run_all", misfire_grace_s=10.0), fires, now)
    assert sorted(grace.run) == [2, 3]  # 2 is exactly 10 s late: within the grace time
    assert grace.missed[0][1].startswith("missed: 1 fire (1 later than the grace time of 10 s)")


def test_a_backlog_of_exactly_one_claims_count_is_not_cut() -> None:
    # ten late fires (T0 .. T0+9 min), then one exactly at the tolerance: max_late=10 is enough
    now = T0 + 10 * MIN + SEC
    planned = plan_fires(job(), EVERY_MINUTE, now=now, horizon=now, node_id="n", max_late=10)
    assert [(r.status, r.reason, r.fires) for r in planned.runs] == [
        (M, "schedule", 9), (S, "catch-up", 1), (S, "schedule", 1),
    ]  # fmt: skip
    assert planned.next_fire_at == T0 + 11 * MIN


def test_the_missed_text_gives_the_lateness_to_the_millisecond() -> None:
    planned = plan_fires(job(misfire_policy="skip"), EVERY_MINUTE, now=T0 + 1000 * SEC,
                         horizon=T0, node_id="n")  # fmt: skip
    assert planned.runs[0].error is not None
    assert planned.runs[0].error.endswith("the first claimed 1000.000 s after its time")


def test_handed_over_runs_keep_the_latest_by_time_not_by_id() -> None:
    now = T0 + 30 * SEC
    fires = [(1, now - 5 * SEC, "schedule"), (2, now - 20 * SEC, "schedule")]
    once = plan_handover(job(misfire_policy="run_once"), fires, now)
    assert once.run == [1]
    assert once.missed[0][0] == 2
    assert once.missed[0][1].startswith("missed: 1 fire (1 coalesced")
    grace = plan_handover(job(misfire_policy="run_all", misfire_grace_s=5.0), fires, now)
    assert grace.run == [1]  # exactly 5 s late: within
    just_over = plan_handover(job(misfire_policy="run_all", misfire_grace_s=5.0),
                              [(1, now - 5 * SEC - 4, "schedule")], now)  # fmt: skip
    assert just_over.run == []


def test_skip_with_a_backlog_of_exactly_one_claims_count_keeps_the_on_time_fire() -> None:
    now = T0 + 10 * MIN + SEC  # ten late fires; the eleventh is exactly at the tolerance
    planned = plan_fires(job(misfire_policy="skip"), EVERY_MINUTE, now=now, horizon=now,
                         node_id="n", max_late=10)  # fmt: skip
    assert [(r.status, r.fires) for r in planned.runs] == [(M, 10), (S, 1)]
    assert planned.runs[1].scheduled_for == T0 + 10 * MIN


def test_the_walk_over_late_fires_stops_at_one_exactly_at_the_tolerance() -> None:
    now = T0 + 3 * MIN + SEC
    planned = plan_fires(job(), EVERY_MINUTE, now=now, horizon=now, node_id="n")
    assert [(r.status, r.reason, r.fires) for r in planned.runs] == [
        (M, "schedule", 2), (S, "catch-up", 1), (S, "schedule", 1),
    ]  # fmt: skip
