"""Workflows across three scheduler nodes on PostgreSQL, one of them killed with SIGKILL in
the middle (issue 11): a workflow of 50 steps (one step, a fan-out of 48, a fan-in) fired by
its own trigger every 4 seconds. Every step of every workflow run ends exactly once, every
workflow run ends, each trigger instant made one workflow run whichever node fired it, and no
step's job ran more often than its run records allow."""

from __future__ import annotations

import signal
import subprocess
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from tests.cluster.test_cluster import SEC, client, iso, start_node
from tickwork.jobspec import JobSpec

pytestmark = pytest.mark.slow
FAN = 48


@pytest.mark.parametrize("server_url", ["postgres"], indirect=True)
def test_a_workflow_of_50_steps_survives_a_killed_node(server_url: str, tmp_path: Path) -> None:
    ledger = tmp_path / "executions.log"
    tw = client(server_url)
    jobs = ["first", *(f"fan-{i:02d}" for i in range(FAN)), "last"]
    tw.add_jobs(
        [
            JobSpec(target="tests.cluster.tasks:step", id=job_id, next_run_time=None,
                    kwargs={"log": str(ledger), "key": job_id, "seconds": 0.4},
                    retries=2, retry_backoff_s=0.2, retry_backoff_max_s=0.5, max_instances=10,
                    check_target=False)
            for job_id in jobs
        ]
    )  # fmt: skip
    start = ((int(time.time()) + 7) // 4 + 1) * 4 * SEC  # on the trigger's 4-second grid
    fires = [start + k * 4 * SEC for k in range(4)]  # 4 workflow runs, 4 s apart
    steps = [
        {"id": "first"},
        *({"id": f"fan-{i:02d}", "after": ["first"]} for i in range(FAN)),
        {"id": "last", "after": [f"fan-{i:02d}" for i in range(FAN)]},
    ]
    tw.add_workflow(
        "big",
        steps,
        trigger="*/4 * * * * *",
        start_date=iso(fires[0]),
        end_date=iso(fires[-1] + SEC // 2),
        deadline_s=120,
        owner="python",
    )
    until = fires[-1] / SEC + 40  # a bound: the nodes stop once every workflow run ended
    stop = tmp_path / "stop"
    fast = ("--heartbeat", "1", "--dead-after", "4", "--threads", "16", "--poll", "0.5")
    nodes = [start_node(server_url, until, *fast, "--stop-file", str(stop)) for _ in range(3)]
    victim = nodes[kill_the_node_running(ledger, nodes, after=FAN + 1, deadline=until)]
    victim.send_signal(signal.SIGKILL)  # mid fan-out of the second workflow run

    def all_ended() -> bool:
        wrs = tw.get_workflow_runs("big", limit=100)
        return len(wrs) == len(fires) and all(w.status != "running" for w in wrs)

    while time.time() < until and not all_ended():
        time.sleep(0.2)
    stop.touch()
    outputs = [p.communicate(timeout=60)[0] for p in nodes]
    assert victim.returncode == -signal.SIGKILL
    survivors = [(p.returncode, out) for p, out in zip(nodes, outputs, strict=True) if p != victim]
    assert all(code == 0 for code, _ in survivors), survivors

    wrs = tw.get_workflow_runs("big", limit=100)
    assert sorted(w.scheduled_for for w in wrs) == fires, "one workflow run per trigger fire"
    runs = tw.get_runs(limit=100_000)
    by_fire: dict[tuple[str, int], list[str]] = {}
    for r in runs:
        by_fire.setdefault((r.job_id, r.scheduled_for), []).append(r.status)
    lost = 0
    for wr in wrs:
        assert wr.status == "succeeded", timeline(wr, runs, until) + "\n".join(
            o[-2500:] for o in outputs
        )
        assert sorted(s.step for s in wr.step_runs) == sorted(jobs)  # each step once
        for s in wr.step_runs:
            assert s.state == "succeeded", (wr.id, s.step, s.state, s.reason)
            assert s.scheduled_for is not None
            attempts = by_fire.pop((s.job_id, s.scheduled_for))
            # one fire per step: its attempts end once in success, the others lost
            assert sorted(attempts) == ["lost"] * (len(attempts) - 1) + ["succeeded"], attempts
            lost += len(attempts) - 1
    assert by_fire == {}, f"runs of no step: {sorted(by_fire)[:5]}"
    assert lost >= 1, "the killed node was running steps: they ended lost and were retried"
    executed = Counter(line.split()[0] for line in ledger.read_text().splitlines())
    recorded = Counter(r.job_id for r in runs if r.started_at is not None)
    over = {j: (n, recorded[j]) for j, n in executed.items() if n > recorded[j]}
    assert over == {}, "a step ran more often than its started runs"
    assert executed["last"] == len(fires) + sum(
        1 for r in runs if r.job_id == "last" and r.status == "lost"
    )
    print(
        f"{len(wrs)} workflow runs x {len(jobs)} steps, all succeeded; {lost} step run(s) "
        "lost with the killed node and retried elsewhere"
    )
    tw.close()


def kill_the_node_running(
    ledger: Path, nodes: Sequence[subprocess.Popen[str]], *, after: int, deadline: float
) -> int:
    """The index of the node that executes the fan-out once ``after`` fan-out steps have
    started (the ledger names each execution's process)."""
    pids = {p.pid: i for i, p in enumerate(nodes)}
    while time.time() < deadline:
        lines = ledger.read_text().splitlines() if ledger.exists() else []
        fans = [line.split() for line in lines if line.startswith("fan-")]
        if len(fans) >= after:
            return pids[int(fans[-1][1])]
        time.sleep(0.05)
    raise AssertionError("the fan-out never started")


def timeline(wr: Any, runs: list[Any], until: float) -> str:
    """What an unfinished workflow run was waiting for, for the failure message."""
    at = wr.scheduled_for
    lines = [f"workflow run {wr.id} {wr.status}; nodes stopped at +{until - at / SEC:.1f} s"]
    for s in sorted(wr.step_runs, key=lambda s: s.step != "first"):
        if s.state == "succeeded":
            continue
        mine = [r for r in runs if (r.job_id, r.scheduled_for) == (s.job_id, s.scheduled_for)]
        lines.append(
            f"  {s.step} {s.state} released +{((s.released_at or at) - at) / SEC:.1f}: "
            + "; ".join(
                f"#{r.attempt} {r.status} {r.node_id} due +{(r.due_at - at) / SEC:.1f} "
                f"started +{((r.started_at or at) - at) / SEC:.1f}"
                for r in mine
            )
        )
    return "\n".join(lines[:20])
