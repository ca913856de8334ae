"""Several scheduler processes on one database: exactly one record and one execution per
due fire, checked against an independent list of due instants. Then a node killed with
SIGKILL mid-run, and a database restart under a running node."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.cluster.private_server import PrivateServer, database_on
from tickwork import Tickwork
from tickwork.jobspec import JobSpec
from tickwork.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
SEC = 1_000_000
pytestmark = pytest.mark.slow


class Node(subprocess.Popen[str]):
    """A node process whose output goes to a file, never a pipe: a pipe read only at the end
    fills up under a burst of log lines and blocks every thread that logs, the heartbeat
    too, which made healthy nodes look dead in the drills. ``communicate`` waits, then
    returns the whole output like ``Popen.communicate`` does."""

    def __init__(self, argv: list[str], log: Path, **kwargs: Any) -> None:
        self.log = log
        with open(log, "w") as out:  # the child keeps its own descriptor
            super().__init__(argv, stdout=out, stderr=subprocess.STDOUT, text=True, **kwargs)

    def communicate(  # type: ignore[override]
        self, input: str | None = None, timeout: float | None = None
    ) -> tuple[str, None]:
        self.wait(timeout)
        return self.log.read_text(errors="replace"), None


def start_node(url: str, until: float, *extra: str) -> Node:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    log = Path(tempfile.mkdtemp(prefix="tw-node-")) / "node.log"
    argv = [sys.executable, "-m", "tests.cluster.node_main", url, "--until", str(until), *extra]
    return Node(argv, log, cwd=ROOT, env=env)


def client(url: str) -> Tickwork:
    return Tickwork(settings=Settings(database_url=url, timezone="UTC"))


def iso(us: int) -> str:
    return datetime.fromtimestamp(us / SEC, UTC).isoformat()


def test_three_nodes_fire_every_due_instant_exactly_once(server_url: str, tmp_path: Path) -> None:
    log = str(tmp_path / "executions.log")
    tw = client(server_url)
    start = (int(time.time()) + 8) * SEC  # whole seconds, a few seconds ahead
    cron_end = start + 25 * SEC
    specs: list[JobSpec] = []
    expected: set[tuple[str, int]] = set()
    for i in range(200):
        job_id = f"cron-{i:03d}"
        specs.append(
            JobSpec(
                target="tests.cluster.tasks:mark",
                trigger="* * * * * *",
                trigger_args={"start_date": iso(start), "end_date": iso(cron_end)},
                id=job_id,
                kwargs={"log": log, "key": job_id},
                misfire_policy="run_all",
                max_catchup=1000,
                max_instances=10,
                check_target=False,
            )
        )
        expected |= {(job_id, t) for t in range(start, cron_end + 1, SEC)}
    for i in range(6000):
        job_id = f"once-{i:04d}"
        at = start + i * 20 * SEC // 6000 + 1234  # spread over 20 s, off the whole seconds
        specs.append(
            JobSpec(
                target="tests.cluster.tasks:mark",
                trigger="date",
                trigger_args={"run_date": iso(at)},
                id=job_id,
                kwargs={"log": log, "key": job_id},
                misfire_policy="run_all",
                check_target=False,
            )
        )
        expected.add((job_id, at))
    assert len(expected) >= 10_000
    tw.add_jobs(specs)

    until = cron_end / SEC + 8
    nodes = [start_node(server_url, until, "--threads", "16") for _ in range(3)]
    outputs = [n.communicate(timeout=until - time.time() + 60)[0] for n in nodes]
    assert all(n.returncode == 0 for n in nodes), outputs

    runs = tw.get_runs(limit=100_000)
    recorded = Counter((r.job_id, r.scheduled_for) for r in runs)
    duplicates = {k: n for k, n in recorded.items() if n > 1}
    missing = expected - set(recorded)
    extra = set(recorded) - expected
    assert (len(duplicates), len(missing), len(extra)) == (0, 0, 0), (
        list(duplicates)[:5],
        sorted(missing)[:5],
        sorted(extra)[:5],
    )
    assert Counter(r.status for r in runs) == {"succeeded": len(expected)}

    executions = Counter(line.split()[0] for line in Path(log).read_text().splitlines())
    by_job = Counter(job_id for job_id, _ in expected)
    assert executions == by_job  # each due fire executed exactly once
    per_node = Counter(r.node_id for r in runs)
    assert len(per_node) == 3, per_node  # the three nodes shared the work
    tw.close()


def test_a_node_killed_mid_run_loses_only_its_run_which_is_retried(
    server_url: str, tmp_path: Path
) -> None:
    log, marker = str(tmp_path / "executions.log"), str(tmp_path / "first-attempt.pid")
    tw = client(server_url)
    tw.add_job(
        "tests.cluster.tasks:hang_first_time",
        "date",
        run_date=iso((int(time.time()) + 3) * SEC),
        id="victim",
        kwargs={"marker": marker, "log": log, "key": "victim"},
        retries=1,
        retry_backoff=0.5,
        owner="python",
    )
    tw.add_job(
        "tests.cluster.tasks:mark",
        "* * * * * *",
        id="bystander",
        kwargs={"log": log, "key": "bystander"},
        max_instances=5,
        owner="python",
    )
    until = time.time() + 40
    fast = ("--heartbeat", "0.5", "--dead-after", "2")
    first = start_node(server_url, until, *fast)
    deadline = time.time() + 20
    while not os.path.exists(marker) and time.time() < deadline:
        time.sleep(0.05)
    assert os.path.exists(marker), "the first attempt never started"
    second = start_node(server_url, until, *fast)  # started after, so the first took the run
    victim_pid = int(Path(marker).read_text())
    assert victim_pid == first.pid
    time.sleep(1.0)  # the second node is up and heartbeating
    first.send_signal(signal.SIGKILL)
    first.communicate(timeout=10)

    def victim_runs() -> list[tuple[int, str, str]]:
        return sorted((r.attempt, r.status, r.reason) for r in tw.get_runs("victim"))

    deadline = time.time() + 20
    while victim_runs() != [(1, "lost", "schedule"), (2, "succeeded", "retry")]:
        assert time.time() < deadline, victim_runs()
        time.sleep(0.2)
    lost = next(r for r in tw.get_runs("victim") if r.status == "lost")
    assert lost.finished_at is not None
    # lost within the configured bound: dead after 2 s of silence, reaped within a heartbeat
    assert lost.finished_at - lost.started_at < 8 * SEC  # type: ignore[operator]
    second.send_signal(signal.SIGTERM)
    second.communicate(timeout=30)
    bystander = tw.get_runs("bystander", limit=10_000)
    statuses = Counter(r.status for r in bystander)
    # Nothing else is affected: the bystander's fires are all recorded once; only a run the
    # killed node had claimed but not finished may be lost.
    assert statuses["succeeded"] >= 5
    assert set(statuses) <= {"succeeded", "lost", "scheduled"}
    instants = [r.scheduled_for for r in bystander]
    assert len(instants) == len(set(instants))
    tw.close()


def test_a_sigterm_mid_run_lets_the_run_finish(server_url: str, tmp_path: Path) -> None:
    """The node the other tests stop with SIGTERM stops cleanly: a run running at that moment
    ends with its outcome, not `running` for good (no node would be left to reap it)."""
    log = tmp_path / "executions.log"
    tw = client(server_url)
    tw.add_job(
        "tests.cluster.tasks:mark_and_sleep",
        "date",
        run_date=iso((int(time.time()) + 2) * SEC),
        id="long",
        kwargs={"log": str(log), "key": "long", "seconds": 2.0},
        owner="python",
    )
    node = start_node(server_url, time.time() + 60)
    deadline = time.time() + 20
    while not (log.exists() and "long:start" in log.read_text()):
        assert time.time() < deadline, "the run never started"
        time.sleep(0.05)
    node.send_signal(signal.SIGTERM)
    output = node.communicate(timeout=30)[0]
    assert [r.status for r in tw.get_runs("long")] == ["succeeded"], output
    tw.close()


def test_the_loop_survives_a_database_restart(private: PrivateServer, tmp_path: Path) -> None:
    server_url = database_on(private)
    log = str(tmp_path / "executions.log")
    tw = client(server_url)
    tw.add_job(
        "tests.cluster.tasks:mark",
        "* * * * * *",
        id="steady",
        kwargs={"log": log, "key": "steady"},
        misfire_policy="run_once",
        owner="python",
    )
    until = time.time() + 30
    node = start_node(server_url, until, "--heartbeat", "1", "--dead-after", "30")
    time.sleep(5)
    before = len(tw.get_runs("steady", limit=10_000))
    assert before >= 2
    restart_at = time.time()
    private.stop()
    time.sleep(2)
    private.start()
    time.sleep(6)
    output = node.communicate(timeout=until - time.time() + 60)[0]
    assert node.returncode == 0, output
    runs = tw.get_runs("steady", limit=10_000)
    after_restart = [r for r in runs if r.scheduled_for > (restart_at + 3) * SEC]
    assert len(after_restart) >= 5, output  # it kept firing after the database came back
    instants = sorted(r.scheduled_for for r in runs)
    # every second from the first fire to the last has exactly one record (run or missed)
    assert instants == list(range(instants[0], instants[-1] + 1, SEC)), output
    # the node's clean stop hands its claimed, unstarted fires (the lookahead) back to the queue
    released = [r for r in runs if r.status == "scheduled"]
    assert all(r.node_id is None and r.scheduled_for >= instants[-2] for r in released)
    # Fires claimed before the outage wait for their start to be recorded; when the database
    # is back they are due together, and the job allows one instance at a time: the later
    # ones of such a batch are recorded skipped (with that reason).
    assert {r.status for r in runs} - {"scheduled"} <= {"succeeded", "missed", "skipped"}
    assert all("already running" in (r.error or "") for r in runs if r.status == "skipped")
    tw.close()
