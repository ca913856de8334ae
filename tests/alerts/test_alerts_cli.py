"""`tickwork alerts test CHANNEL` and `tickwork alerts list`, run as the real command against a
channel made through the facade on the same data directory; no secret in what it prints."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.alerts.receivers import CANARIES, DING_SECRET, Receivers
from tickwork import Tickwork
from tickwork.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def tickwork(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TICKWORK_DATA_DIR": str(data_dir), "PYTHONPATH": str(ROOT),
           "TICKWORK_SSRF_ALLOW": "127.0.0.1"}  # fmt: skip
    env.pop("TICKWORK_DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "tickwork.cli", *args],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip


def test_alerts_test_and_list(tmp_path: Path, robots: Receivers) -> None:
    data = tmp_path / "data"
    settings = Settings(data_dir=data, timezone="UTC", ssrf_allow=("127.0.0.1",))
    with Tickwork(settings=settings) as tw:
        tw.add_alert_channel(
            "ding", "dingtalk", {"url": robots.dingtalk_url(), "secret": DING_SECRET}
        )
        tw.add_alert_channel("bad", "dingtalk", {"url": robots.dingtalk_url(), "secret": "nope-x1"})
        tw.add_alert_rule({"id": "all-failed", "kind": "failed", "channels": ["ding"]})
    good = tickwork(data, "alerts", "test", "ding", "--language", "zh-CN")
    assert good.returncode == 0, good.stderr
    assert good.stdout.strip() == "ding: delivered (HTTP/SMTP 200)"
    bad = tickwork(data, "alerts", "test", "bad")
    assert bad.returncode == 1
    assert "310000" in bad.stdout
    assert "Tickwork 测试消息" in robots.of("dingtalk")[0].payload["markdown"]["text"]
    listed = tickwork(data, "alerts", "list")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0].split()[:3] == ["ID", "AT", "KIND"]
    assert "bad:failed" in lines[1]
    assert "ding:delivered" in lines[2]
    rules = tickwork(data, "alerts", "rules")
    assert "all-failed" in rules.stdout
    channels = tickwork(data, "alerts", "channels")
    assert "ding" in channels.stdout
    everything = good.stdout + bad.stdout + listed.stdout + rules.stdout + channels.stdout
    everything += good.stderr + bad.stderr + listed.stderr
    for canary in (*CANARIES, "nope-x1"):
        assert canary not in everything
