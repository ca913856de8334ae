"""Alerts end to end through a scheduler node (SQLite): a failing job sends one signed
DingTalk message and one email per dedupe window, the rest is counted and summarised
("and 2 more") when the window ends, the first success sends one "recovered" message, and
everything is in the alert history with every attempt."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from tests.alerts import tasks
from tests.alerts.conftest import BASE_URL, SEC, SMTP_PASSWORD, Mailbox
from tests.alerts.receivers import CANARIES, DING_SECRET, Receivers
from tickwork import Tickwork
from tickwork.clock import FakeClock

Make = Callable[..., Tickwork]


def wait_for(predicate: Callable[[], object], timeout: float = 15.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what or predicate}")


def ended(tw: Tickwork, job_id: str) -> int:
    return len([r for r in tw.get_runs(job_id=job_id, limit=100) if r.finished_at is not None])


def setup_channels(tw: Tickwork, robots: Receivers, mailbox: Mailbox) -> None:
    tw.add_connection(
        "mail", "smtp",
        {"host": "127.0.0.1", "port": mailbox.port, "security": "none", "username": "ops",
         "password": SMTP_PASSWORD, "from_addr": "tickwork@example.com"},
    )  # fmt: skip
    tw.add_alert_channel(
        "ding", "dingtalk", {"url": robots.dingtalk_url(), "secret": DING_SECRET},
        language="zh-CN",
    )  # fmt: skip
    tw.add_alert_channel("oncall", "email", {"connection": "mail", "to": ["oncall@example.com"]})


def test_failure_dedupe_summary_and_recovery(
    make_tw: Make, clock: FakeClock, robots: Receivers, mailbox: Mailbox
) -> None:
    tw = make_tw()
    setup_channels(tw, robots, mailbox)
    tw.add_alert_rule(
        {"id": "flaky-failed", "kind": "failed", "scope": "job", "scope_value": "flaky",
         "severity": "critical", "dedupe_s": 3600, "channels": ["ding", "oncall"]}
    )  # fmt: skip
    tw.add_alert_rule({"id": "flaky-back", "kind": "recovery", "channels": ["ding"]})
    tw.add_job("tests.alerts.tasks:flaky", "interval", seconds=60, id="flaky", name="flaky")
    tw.start()

    clock.advance(60)
    wait_for(lambda: ended(tw, "flaky") == 1, what="the first failure")
    wait_for(lambda: len(robots.of("dingtalk")) == 1 and len(mailbox.messages) == 1,
             what="one DingTalk message and one email")  # fmt: skip
    for n in (2, 3):  # two more failures in the window: counted, not sent
        clock.advance(60)
        wait_for(lambda n=n: ended(tw, "flaky") == n, what=f"failure {n}")  # type: ignore[misc]
    tasks.state["fail"] = False
    clock.advance(60)
    wait_for(lambda: ended(tw, "flaky") == 4, what="the success")
    wait_for(lambda: len(robots.of("dingtalk")) == 2, what="the recovery message")
    # the window ends: one summary of the two suppressed alerts
    clock.advance(3600)
    wait_for(lambda: len(robots.of("dingtalk")) == 3, what="the summary")
    time.sleep(0.3)  # nothing more arrives (a duplicate would show here)
    tw.shutdown()

    ding = [r.payload["markdown"]["text"] for r in robots.of("dingtalk")]
    assert "任务 flaky 运行失败" in ding[0]
    assert "the database is unreachable" in ding[0]
    assert f"{BASE_URL}/runs/" in ding[0]
    assert "任务 flaky 已恢复" in ding[1]
    assert "另外 2 条告警" in ding[2]
    assert len(robots.of("dingtalk")) == 3
    assert all(r.query.get("sign") for r in robots.of("dingtalk"))  # signed, and verified
    assert robots.refused == []
    assert len(mailbox.messages) == 2  # the failure and the summary (the rule's channels)
    mail = mailbox.messages[0]
    assert mail["Subject"] == "[Tickwork] Job flaky failed"
    assert "and 2 more alert(s)" in mailbox.messages[1]["Subject"]
    assert mailbox.rcpt == [["oncall@example.com"]] * 2
    assert ("ops", SMTP_PASSWORD) in mailbox.logins

    history = tw.alert_history(limit=20)
    kinds = [(a["kind"], a["status"]) for a in reversed(history)]
    assert kinds == [
        ("failed", "queued"),
        ("failed", "deduplicated"),
        ("failed", "deduplicated"),
        ("recovery", "queued"),
        ("summary", "queued"),
    ]
    first = tw.alert(history[-1]["id"])
    assert sorted(d["channel"] for d in first["deliveries"]) == ["ding", "oncall"]
    assert all(d["status"] == "delivered" for d in first["deliveries"])
    assert {a["channel"] for a in first["attempts"]} == {"ding", "oncall"}
    assert all(a["ok"] and a["finished_at"] for a in first["attempts"])
    ding_attempt = next(a for a in first["attempts"] if a["channel"] == "ding")
    assert ding_attempt["status_code"] == 200
    assert '"errcode": 0' in ding_attempt["response"]
    # the channel's secrets are nowhere in what the history shows or the messages carry
    shown = repr(history) + repr(first) + repr(tw.alert_channels())
    bodies = " ".join(m.as_string() for m in mailbox.messages) + repr(ding)
    for canary in (*CANARIES, SMTP_PASSWORD):
        assert canary not in shown
        assert canary not in bodies


def test_a_refused_message_is_retried_with_backoff_and_every_attempt_recorded(
    make_tw: Make, clock: FakeClock, robots: Receivers
) -> None:
    """DingTalk answers HTTP 200 with errcode 310000 when the keyword is missing: a failure,
    retried after the backoff; once the robot accepts, delivered."""
    tw = make_tw()
    robots.ding_keyword = "TICKWORK-KEYWORD"
    tw.add_alert_channel("ding", "dingtalk", {"url": robots.dingtalk_url(), "secret": DING_SECRET})
    tw.add_alert_rule({"id": "any-failed", "kind": "failed", "channels": ["ding"]})
    tw.add_job("tests.alerts.tasks:flaky", "interval", seconds=60, id="flaky")
    tw.start()
    clock.advance(60)
    wait_for(lambda: any(r[0] == "dingtalk" for r in robots.refused), what="the refusal")
    wait_for(lambda: _delivery(tw)["status"] == "pending", what="the delivery back to pending")
    first = _delivery(tw)
    assert first["attempts"] == 1
    assert "310000" in first["last_error"]
    assert first["next_attempt_at"] >= clock.now_us() + 30 * SEC - SEC
    robots.ding_keyword = None  # the administrator fixed the robot's settings
    clock.advance(31)
    wait_for(lambda: _delivery(tw)["status"] == "delivered", what="the retry")
    tw.shutdown()
    alert = tw.alert(tw.alert_history()[-1]["id"])
    oks = [(a["ok"], a["status_code"]) for a in alert["attempts"]]
    assert oks == [(False, 200), (True, 200)]
    assert "keywords not in content" in (alert["attempts"][0]["response"] or "")


def _delivery(tw: Tickwork) -> dict[str, Any]:
    history = tw.alert_history(rule_id="any-failed")
    return dict(history[-1]["deliveries"][0]) if history and history[-1]["deliveries"] else {}
