"""Which fires of a due job run, and which are recorded missed: the misfire policy, pure.

A fire is *late* when it is claimed more than ``late_after_us`` after its instant (downtime,
overload, a paused scheduler). Late fires later than the job's grace time are missed; of the
remaining late fires, ``run_once`` runs the latest, ``run_all`` runs up to ``max_catchup`` of
the latest (in order), ``skip`` runs none. The fires that do not run are recorded together:
one ``missed`` record per job and claim, counting them (``fires``) from the first
(``scheduled_for``) to the last (``last_scheduled_for``), with the reason in its error text.
So a weekend of downtime of a 5-second job is one record of 51,840 fires, not 51,840 rows.

The same rules decide the fate of runs handed back by a dead node (``plan_handover``).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from tickwork.models import MisfirePolicy, RunReason, RunStatus
from tickwork.store.records import JobRecord
from tickwork.store.runs import NewRun
from tickwork.triggers import Trigger

LATE_AFTER_US = 1_000_000  # the loop's own tolerance: a fire claimed within 1 s is on time
MAX_FIRES_PER_CLAIM = 10_000  # on-time fires recorded per claim (the rest in the next one)
# Late fires counted per claim. Counting walks the trigger (about 2 us a fire); a longer
# backlog is counted over several claims, each one missed record.
MAX_LATE_PER_CLAIM = 200_000


@dataclass(slots=True)
class FirePlan:
    runs: list[NewRun]
    next_fire_at: int | None
    missed: int = 0  # fires recorded missed (in at most one record)


@dataclass(slots=True)
class _Missed:
    """Late fires that will not run, counted as they are met (in increasing order)."""

    count: int = 0
    first: int = 0
    last: int = 0
    past_grace: int = 0  # of them, later than the grace time (the rest: dropped by the policy)

    def add(self, fire: int, past_grace: bool) -> None:
        if self.count == 0:
            self.first = fire
        self.count += 1
        self.last = fire
        if past_grace:
            self.past_grace += 1


def plan_fires(
    job: JobRecord,
    trigger: Trigger,
    *,
    now: int,
    horizon: int,
    node_id: str,
    late_after_us: int = LATE_AFTER_US,
    max_fires: int = MAX_FIRES_PER_CLAIM,
    max_late: int = MAX_LATE_PER_CLAIM,
    first: int | None = None,
) -> FirePlan:
    """Enumerate the job's fires from ``first`` (default: its ``next_fire_at``) up to
    ``horizon`` and decide each."""
    nxt = job.next_fire_at if first is None else first
    runs: list[NewRun] = []
    missed = _Missed()
    if nxt is not None and now - nxt > late_after_us:
        nxt = _plan_late(job, trigger, nxt, now, late_after_us, max_late, node_id, runs, missed)
        if missed.count >= max_late and nxt is not None and now - nxt > late_after_us:
            # A backlog longer than one claim counts: the rest is counted by the next claim
            # (so none of the counted fires can be the latest late one).
            return FirePlan([_missed_record(job, missed, now)], nxt, missed.count)
    reason, status = RunReason.SCHEDULE.value, RunStatus.SCHEDULED.value
    on_time = 0
    while nxt is not None and nxt <= horizon and on_time < max_fires:
        runs.append(
            NewRun(
                job_id=job.id,
                scheduled_for=nxt,
                due_at=nxt,
                reason=reason,
                status=status,
                node_id=node_id,
            )
        )
        on_time += 1
        nxt = trigger.next_fire_us(nxt)
    if missed.count:
        runs.insert(0, _missed_record(job, missed, now))
    return FirePlan(runs, nxt, missed.count)


def _plan_late(
    job: JobRecord,
    trigger: Trigger,
    nxt: int,
    now: int,
    late_after_us: int,
    max_late: int,
    node_id: str,
    runs: list[NewRun],
    missed: _Missed,
) -> int | None:
    """Walk the late fires from ``nxt``: count the ones that will not run into ``missed``,
    append the catch-up runs to ``runs``; return the first fire that is not late."""
    grace_us = None if job.misfire_grace_s is None else round(job.misfire_grace_s * 1e6)
    keep = _catch_up_slots(job)
    kept: deque[int] = deque()  # the latest late fires within the grace time, at most ``keep``
    seen = 0
    fire: int | None = nxt
    while fire is not None and now - fire > late_after_us and seen < max_late:
        seen += 1
        if grace_us is not None and now - fire > grace_us:
            missed.add(fire, past_grace=True)
        else:
            kept.append(fire)
            if len(kept) > keep:
                missed.add(kept.popleft(), past_grace=False)
        fire = trigger.next_fire_us(fire)
    nxt_after: int | None = fire
    if seen >= max_late and nxt_after is not None and now - nxt_after > late_after_us:
        # Cut short: later late fires will compete for the catch-up slots; count these.
        for late in kept:
            missed.add(late, past_grace=False)
        return nxt_after
    runs.extend(
        NewRun(
            job_id=job.id,
            scheduled_for=fire,
            due_at=fire,
            reason=RunReason.CATCH_UP.value,
            status=RunStatus.SCHEDULED.value,
            node_id=node_id,
        )
        for fire in kept
    )
    return nxt_after


def _catch_up_slots(job: JobRecord) -> int:
    policy = MisfirePolicy(job.misfire_policy)
    if policy is MisfirePolicy.SKIP:
        return 0
    if policy is MisfirePolicy.RUN_ONCE:
        return 1
    return max(job.max_catchup, 0)


def _missed_record(job: JobRecord, missed: _Missed, now: int) -> NewRun:
    return NewRun(
        job_id=job.id,
        scheduled_for=missed.first,
        due_at=missed.first,
        reason=RunReason.SCHEDULE.value,
        status=RunStatus.MISSED.value,
        finished_at=now,
        error=missed_reason(job, missed.count, missed.past_grace, missed.first, now),
        fires=missed.count,
        last_scheduled_for=missed.last if missed.count > 1 else None,
    )


def missed_reason(job: JobRecord, count: int, past_grace: int, first: int, now: int) -> str:
    """The error text of a missed record: how many fires and why."""
    parts = []
    if past_grace:
        parts.append(f"{past_grace} later than the grace time of {job.misfire_grace_s:g} s")
    if count - past_grace:
        why = {
            MisfirePolicy.SKIP.value: "skipped by the misfire policy skip",
            MisfirePolicy.RUN_ONCE.value: "coalesced: the misfire policy run_once runs only "
            "the latest",
        }.get(job.misfire_policy, f"beyond max_catchup={job.max_catchup}")
        parts.append(f"{count - past_grace} {why}")
    fires = "1 fire" if count == 1 else f"{count} fires"
    late = (now - first) / 1e6
    return f"missed: {fires} ({'; '.join(parts)}); the first claimed {late:.3f} s after its time"


@dataclass(slots=True)
class Handover:
    """What becomes of the runs a dead node had claimed but not started, for one job."""

    run: list[int]  # run ids to start
    missed: list[tuple[int, str]]  # (run id, error) to record missed


def plan_handover(
    job: JobRecord,
    runs: list[tuple[int, int, str]],
    now: int,
    late_after_us: int = LATE_AFTER_US,
) -> Handover:
    """Scheduled fires ``(run id, due_at, reason)`` of one job handed back by a dead node:
    those still on time run; late ones follow the misfire policy as if the node had been down
    (manual runs and retries always run: somebody asked for them)."""
    out = Handover([], [])
    grace_us = None if job.misfire_grace_s is None else round(job.misfire_grace_s * 1e6)
    late: list[tuple[int, int]] = []
    for run_id, due_at, reason in sorted(runs, key=lambda r: r[1]):
        asked = reason not in (RunReason.SCHEDULE.value, RunReason.CATCH_UP.value)
        if asked or now - due_at <= late_after_us:
            out.run.append(run_id)
        elif grace_us is not None and now - due_at > grace_us:
            out.missed.append((run_id, missed_reason(job, 1, 1, due_at, now)))
        else:
            late.append((run_id, due_at))
    keep = _catch_up_slots(job)
    cut = max(len(late) - keep, 0)
    for run_id, due_at in late[:cut]:
        out.missed.append((run_id, missed_reason(job, 1, 0, due_at, now)))
    out.run.extend(run_id for run_id, _ in late[cut:])
    return out
