"""Which fires of a due job run, and which are recorded missed: the misfire policy, pure.

A fire is *late* when it is claimed more than ``late_after_us`` after its instant (downtime,
overload, a paused scheduler). Late fires later than the job's grace time are missed; of the
remaining late fires, ``run_once`` runs the latest, ``run_all`` runs up to ``max_catchup`` of
the latest (in order), ``skip`` runs none. Every fire that does not run is still recorded,
as ``missed``, with the reason in its error text.
"""

from __future__ import annotations

from dataclasses import dataclass

from tickwork.models import MisfirePolicy, RunReason, RunStatus
from tickwork.store.records import JobRecord
from tickwork.store.runs import NewRun
from tickwork.triggers import Trigger

LATE_AFTER_US = 1_000_000  # the loop's own tolerance: a fire claimed within 1 s is on time
MAX_FIRES_PER_CLAIM = 10_000  # long backlogs are recorded over several claims


@dataclass(slots=True)
class FirePlan:
    runs: list[NewRun]
    next_fire_at: int | None


def plan_fires(
    job: JobRecord,
    trigger: Trigger,
    *,
    now: int,
    horizon: int,
    node_id: str,
    late_after_us: int = LATE_AFTER_US,
    max_fires: int = MAX_FIRES_PER_CLAIM,
    first: int | None = None,
) -> FirePlan:
    """Enumerate the job's fires from ``first`` (default: its ``next_fire_at``) up to
    ``horizon`` and decide each."""
    fires: list[int] = []
    nxt = job.next_fire_at if first is None else first
    while nxt is not None and nxt <= horizon and len(fires) < max_fires:
        fires.append(nxt)
        nxt = trigger.next_fire_us(nxt)

    if not fires or now - fires[0] <= late_after_us:
        # Nothing late (fires are increasing): every fire runs; no misfire policy applies.
        reason, status = RunReason.SCHEDULE.value, RunStatus.SCHEDULED.value
        return FirePlan(
            [
                NewRun(
                    job_id=job.id,
                    scheduled_for=fire,
                    due_at=fire,
                    reason=reason,
                    status=status,
                    node_id=node_id,
                )
                for fire in fires
            ],
            nxt,
        )
    late = [f for f in fires if now - f > late_after_us]
    on_time = fires[len(late) :]  # fires are increasing, so the late ones come first
    grace_us = None if job.misfire_grace_s is None else round(job.misfire_grace_s * 1e6)

    runs: list[NewRun] = []

    def missed(fire: int, why: str) -> None:
        runs.append(
            NewRun(
                job_id=job.id,
                scheduled_for=fire,
                due_at=fire,
                reason=RunReason.SCHEDULE.value,
                status=RunStatus.MISSED.value,
                finished_at=now,
                error=f"missed: {why} (claimed {(now - fire) / 1e6:.3f} s after its time)",
            )
        )

    def run(fire: int, reason: RunReason) -> None:
        runs.append(
            NewRun(
                job_id=job.id,
                scheduled_for=fire,
                due_at=fire,
                reason=reason.value,
                status=RunStatus.SCHEDULED.value,
                node_id=node_id,
            )
        )

    within = []
    for fire in late:
        if grace_us is not None and now - fire > grace_us:
            missed(fire, f"later than the grace time of {job.misfire_grace_s:g} s")
        else:
            within.append(fire)

    policy = MisfirePolicy(job.misfire_policy)
    keep = {MisfirePolicy.SKIP: 0, MisfirePolicy.RUN_ONCE: 1}.get(policy, max(job.max_catchup, 0))
    # A backlog cut at max_fires continues in the next claim: late fires beyond the cut
    # compete for the same catch-up slots, so count them (at most ``keep`` of them).
    beyond = 0
    probe = nxt if len(fires) == max_fires else None
    while probe is not None and beyond < keep and now - probe > late_after_us:
        if grace_us is None or now - probe <= grace_us:
            beyond += 1
        probe = trigger.next_fire_us(probe)
    slots = max(keep - beyond, 0)
    cut = max(len(within) - slots, 0)
    why = {
        MisfirePolicy.SKIP: "the misfire policy is skip",
        MisfirePolicy.RUN_ONCE: "coalesced: the misfire policy run_once runs only the latest",
    }.get(policy, f"more than max_catchup={keep} overdue fires")
    for fire in within[:cut]:
        missed(fire, why)
    for fire in within[cut:]:
        run(fire, RunReason.CATCH_UP)

    for fire in on_time:
        run(fire, RunReason.SCHEDULE)
    runs.sort(key=lambda r: r.scheduled_for)
    return FirePlan(runs, nxt)
