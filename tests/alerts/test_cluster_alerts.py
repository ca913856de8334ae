"""Three scheduler processes on one PostgreSQL or MariaDB database, a job failing every
second: each failure's alert is delivered exactly once per channel (no node sends another's,
none is lost), a rule with a dedupe window sends exactly one message, and the DingTalk
robot's signature holds from every node."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.alerts.receivers import DING_SECRET, HOOK_SECRET, receivers
from tickwork import Tickwork
from tickwork.jobspec import JobSpec
from tickwork.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
SEC = 1_000_000
pytestmark = pytest.mark.slow


def iso(us: int) -> str:
    return datetime.fromtimestamp(us / SEC, UTC).isoformat()


def test_three_nodes_send_each_alert_exactly_once(server_url: str, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "TICKWORK_SSRF_ALLOW": "127.0.0.1",
        "TICKWORK_ALERTS_POLL_S": "0.1",
        "TICKWORK_DATA_DIR": str(tmp_path),  # one vault key file shared by the nodes
    }
    settings = Settings.from_env(env).with_overrides(database_url=server_url, timezone="UTC")
    with receivers() as robots, Tickwork(settings=settings) as tw:
        tw.add_alert_channel("hook", "webhook", {"url": robots.hook_url(), "secret": HOOK_SECRET})
        tw.add_alert_channel(
            "ding", "dingtalk", {"url": robots.dingtalk_url(), "secret": DING_SECRET}
        )
        tw.add_alert_rule(
            {"id": "every", "kind": "failed", "dedupe_s": 0, "channels": ["hook", "ding"]}
        )
        tw.add_alert_rule({"id": "once", "kind": "failed", "dedupe_s": 3600, "channels": ["hook"]})
        start = (int(time.time()) + 5) * SEC
        end = start + 5 * SEC
        tw.add_jobs(
            [
                JobSpec(
                    target="tests.alerts.tasks:flaky",
                    trigger="* * * * * *",
                    trigger_args={"start_date": iso(start), "end_date": iso(end)},
                    id="flaky",
                    misfire_policy="run_all",
                    max_catchup=100,
                    check_target=False,
                )
            ]
        )
        until = end / SEC + 10
        nodes = [
            subprocess.Popen(
                [sys.executable, "-m", "tests.alerts.node_main", server_url, "--until", str(until)],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for _ in range(3)
        ]
        outputs = [n.communicate(timeout=until - time.time() + 60)[0] for n in nodes]
        assert all(n.returncode == 0 for n in nodes), outputs

        runs = [r for r in tw.get_runs(job_id="flaky", limit=100) if r.status == "failed"]
        n = len(runs)  # every fire that ran failed (a late start makes some skipped/missed)
        assert n >= 3, [(r.scheduled_for, r.status) for r in tw.get_runs(job_id="flaky")]
        failed_ids = {r.id for r in runs}
        hook = robots.of("webhook")
        by_rule = Counter(r.payload["rule"] for r in hook)
        assert by_rule == {"every": n, "once": 1}, (by_rule, tw.alert_history(), outputs)
        every_runs = Counter(r.payload["run_id"] for r in hook if r.payload["rule"] == "every")
        assert set(every_runs) == failed_ids
        assert set(every_runs.values()) == {1}  # one message per failure: none twice
        deliveries = Counter(r.headers["x-tickwork-delivery"] for r in hook)
        assert set(deliveries.values()) == {1}
        ding = robots.of("dingtalk")
        assert len(ding) == n
        assert robots.refused == []  # every signature verified
        history = tw.alert_history(limit=50)
        assert Counter((a["rule_id"], a["status"]) for a in history) == {
            ("every", "queued"): n,
            ("once", "queued"): 1,
            ("once", "deduplicated"): n - 1,
        }
        attempts = [a for h in history for a in tw.alert(h["id"])["attempts"]]
        assert len(attempts) == 2 * n + 1  # no send tried twice
        assert all(a["ok"] for a in attempts)
