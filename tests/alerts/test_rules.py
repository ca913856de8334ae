"""Rules through the run hook, in the transaction that records the outcome (as the engine
calls it), with the injectable clock: each kind, scopes, the dedupe window and its summary,
quiet hours, the dead-man sweep with no node running, and the robots' rate limits shared by
every node."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import insert

from tests.alerts.conftest import SEC, T0
from tests.alerts.receivers import DING_SECRET, HOOK_SECRET, Receivers
from tickwork import Tickwork
from tickwork.clock import FakeClock
from tickwork.engine.hooks import RunEnded
from tickwork.errors import InvalidInput
from tickwork.store.tables import run

Make = Callable[..., Tickwork]


class Runs:
    """Records run outcomes the way the engine's writer does: the row and the hooks in one
    transaction."""

    def __init__(self, tw: Tickwork, clock: FakeClock) -> None:
        self.tw = tw
        self.clock = clock
        self.n = 0

    def end(self, job_id: str, status: str, *, duration: float = 1.0, result: Any = None,
            final: bool = True) -> int:  # fmt: skip
        self.n += 1
        now = self.clock.now_us()
        with self.tw.store.db.write() as conn:
            run_id = int(
                conn.execute(
                    insert(run).values(
                        job_id=job_id, scheduled_for=now - self.n, due_at=now, attempt=1,
                        reason="schedule", status=status, created_at=now,
                        started_at=now - int(duration * SEC), finished_at=now,
                        duration_s=duration, error="boom" if status != "succeeded" else None,
                        result=json.dumps(result) if result is not None else None,
                    )
                ).inserted_primary_key[0]  # type: ignore[index]
            )  # fmt: skip
            self.tw.run_hooks(
                conn,
                [RunEnded(run_id=run_id, job_id=job_id, status=status, scheduled_for=now,
                          attempt=1, final=final, finished_at=now, duration_s=duration,
                          error="boom" if status != "succeeded" else None)],
            )  # fmt: skip
        return run_id


@pytest.fixture
def tw(make_tw: Make) -> Tickwork:
    tw = make_tw()
    tw.add_job(
        "tests.alerts.tasks:ok", "interval", seconds=60, id="j1", group="etl", tags=["nightly"]
    )
    tw.add_job("tests.alerts.tasks:ok", "interval", seconds=60, id="j2", group="web")
    tw.sync_declared()  # stored now (code jobs are otherwise written at start())
    return tw


def alerts(tw: Tickwork, **filters: Any) -> list[tuple[str, str | None, str]]:
    return [(a["kind"], a["job_id"], a["status"]) for a in reversed(tw.alert_history(**filters))]


def rule(tw: Tickwork, rule_id: str, kind: str, **extra: Any) -> None:
    tw.add_alert_rule({"id": rule_id, "kind": kind, "dedupe_s": 0, **extra})


def test_consecutive_failures_and_error_rate(tw: Tickwork, clock: FakeClock) -> None:
    runs = Runs(tw, clock)
    rule(tw, "three", "consecutive_failures", params={"count": 3})
    rule(tw, "half", "error_rate", params={"rate": 0.5, "window_s": 3600, "min_runs": 4})
    runs.end("j1", "failed")
    runs.end("j1", "succeeded")
    runs.end("j1", "failed")
    assert alerts(tw) == []  # 2 of 3 failed: too few runs for the rate, no streak of 3
    runs.end("j1", "failed")  # 3 of 4 failed; the streak is 2
    assert alerts(tw) == [("error_rate", "j1", "queued")]
    runs.end("j1", "timed_out")  # a streak of 3 (timed out is a failure)
    assert sorted(alerts(tw)[-2:]) == [
        ("consecutive_failures", "j1", "queued"),
        ("error_rate", "j1", "queued"),
    ]
    facts = tw.alert_history(rule_id="half")[0]["facts"]
    assert (facts["runs"], facts["failures"]) == (5, 4)


def test_failed_timed_out_lost_and_retries(tw: Tickwork, clock: FakeClock) -> None:
    runs = Runs(tw, clock)
    rule(tw, "f", "failed")
    rule(tw, "t", "timed_out")
    rule(tw, "l", "lost")
    runs.end("j1", "failed", final=False)  # a retry follows: not yet an alert
    assert alerts(tw) == []
    runs.end("j1", "timed_out")
    runs.end("j2", "lost")
    assert sorted(alerts(tw)) == sorted(
        [("failed", "j1", "queued"), ("timed_out", "j1", "queued"),
         ("failed", "j2", "queued"), ("lost", "j2", "queued")]
    )  # fmt: skip


def test_long_runs_by_threshold_and_by_p95(tw: Tickwork, clock: FakeClock) -> None:
    runs = Runs(tw, clock)
    rule(tw, "ten", "long_run", params={"threshold_s": 10}, scope="job", scope_value="j2")
    rule(tw, "p95", "long_run", params={"p95_factor": 2, "min_samples": 5}, scope="job",
         scope_value="j1")  # fmt: skip
    runs.end("j2", "succeeded", duration=12)
    for _ in range(5):
        runs.end("j1", "succeeded", duration=1.0)
    runs.end("j1", "succeeded", duration=1.9)  # under 2 x p95 (1 s)
    assert alerts(tw) == [("long_run", "j2", "queued")]
    runs.end("j1", "succeeded", duration=4.0)  # p95 of the last six successes: 1.9 s
    assert alerts(tw)[-1] == ("long_run", "j1", "queued")
    assert tw.alert_history(rule_id="p95")[0]["facts"]["p95_s"] == 1.9


def test_findings_and_queue_backlog(tw: Tickwork, clock: FakeClock) -> None:
    runs = Runs(tw, clock)
    rule(tw, "critical", "finding", params={"min_severity": "critical"})
    rule(
        tw,
        "backlog",
        "finding",
        params={"finding_kind": "queue_backlog", "metric": "queue_backlog", "above": 1000},
    )
    result = {
        "findings": [
            {
                "severity": "critical",
                "object": "db.users",
                "message": "disk 91% full",
                "action": "grow it",
            },
            {"severity": "info", "object": "db.logs", "message": "vacuumed"},
        ],
        "metrics": {"queue_backlog": 1500},
    }
    runs.end("j1", "succeeded", result=result)
    got = {a["rule_id"]: a for a in tw.alert_history()}
    assert got["critical"]["facts"]["finding_count"] == 1
    assert got["critical"]["facts"]["findings"][0]["object"] == "db.users"
    assert got["backlog"]["facts"]["value"] == 1500  # the metric over the line
    runs.end("j1", "succeeded", result={"findings": [], "metrics": {"queue_backlog": 10}})
    assert len(tw.alert_history()) == 2  # nothing new
    with pytest.raises(InvalidInput) as caught:
        rule(tw, "bad", "finding", params={"metric": "queue_backlog"})
    assert caught.value.field == "params.above"


def test_scopes_group_tag_job(tw: Tickwork, clock: FakeClock) -> None:
    runs = Runs(tw, clock)
    rule(tw, "by-group", "failed", scope="group", scope_value="web")
    rule(tw, "by-tag", "failed", scope="tag", scope_value="nightly")
    rule(tw, "by-job", "failed", scope="job", scope_value="j2")
    runs.end("j1", "failed")
    runs.end("j2", "failed")
    pairs = sorted((a["rule_id"], a["job_id"]) for a in tw.alert_history())
    assert pairs == [("by-group", "j2"), ("by-job", "j2"), ("by-tag", "j1")]


def test_the_dedupe_window_counts_then_summarises(tw: Tickwork, clock: FakeClock) -> None:
    runs = Runs(tw, clock)
    tw.add_alert_channel("hook", "webhook", {"url": "http://127.0.0.1:9/hook"})
    tw.add_alert_rule({"id": "f", "kind": "failed", "dedupe_s": 600, "channels": ["hook"]})
    runs.end("j1", "failed")
    for _ in range(12):
        clock.advance(30)
        runs.end("j1", "failed")
    runs.end("j2", "failed")  # another job: its own window
    assert [s for _, j, s in alerts(tw) if j == "j1"] == ["queued"] + ["deduplicated"] * 12
    assert tw.sweep_alerts() == 0  # the window (600 s from the first) has not ended
    clock.advance(600 - 12 * 30)
    assert tw.sweep_alerts() == 1
    summary = tw.alert_history(limit=1)[0]
    assert (summary["kind"], summary["job_id"], summary["facts"]["count"]) == ("summary", "j1", 12)
    assert [d["channel"] for d in summary["deliveries"]] == ["hook"]
    assert tw.sweep_alerts() == 0  # said once
    runs.end("j1", "failed")  # a new window
    assert alerts(tw)[-1] == ("failed", "j1", "queued")
    from tickwork.alerts.messages import compose, render_text

    text = render_text(compose(summary, "en", None))
    assert "...and 12 more alert(s) of rule f for ok in the last 10 min" in text


def test_quiet_hours_hold_deliveries_until_they_end(tw: Tickwork, clock: FakeClock) -> None:
    runs = Runs(tw, clock)
    tw.add_alert_channel("hook", "webhook", {"url": "http://127.0.0.1:9/hook"})
    tw.add_alert_rule({
        "id": "night", "kind": "failed", "dedupe_s": 0, "channels": ["hook"],
        "quiet": {"start": "22:00", "end": "07:00", "timezone": "Asia/Shanghai"},
    })  # fmt: skip
    runs.end("j1", "failed")  # T0 is 18:00 in Shanghai: sent at once
    clock.set(T0 + 5 * 3600 * SEC)  # 23:00 in Shanghai
    runs.end("j1", "failed")
    day, night = (a["deliveries"][0]["next_attempt_at"] for a in reversed(tw.alert_history()))
    assert day == T0
    assert night == T0 + 13 * 3600 * SEC  # 07:00 the next morning in Shanghai (23:00 UTC)
    with pytest.raises(InvalidInput) as caught:
        tw.add_alert_rule(
            {"id": "x", "kind": "failed", "quiet": {"start": "25:00", "end": "07:00"}}
        )
    assert caught.value.field == "quiet.start"


def test_the_dead_man_fires_with_no_node_running_the_job(
    tw: Tickwork, clock: FakeClock, robots: Receivers
) -> None:
    """No node runs at all: the sweep (any node's, here the facade's) sees from the trigger
    that j1 was due at T0+60 s and nothing succeeded by then plus the grace."""
    tw.add_alert_channel("hook", "webhook", {"url": robots.hook_url(), "secret": HOOK_SECRET})
    tw.add_alert_rule({"id": "dead", "kind": "missed", "scope": "job", "scope_value": "j1",
                       "params": {"grace_s": 120}, "channels": ["hook"]})  # fmt: skip
    clock.advance(60 + 120)
    assert tw.sweep_alerts() == 0  # due at +60 s, grace until +180 s: not yet
    clock.advance(1)
    assert tw.sweep_alerts() == 1
    assert tw.sweep_alerts() == 0  # once, until the job recovers
    assert tw.deliver_alerts("node-x") == 1
    sent = robots.of("webhook")
    assert len(sent) == 1
    assert sent[0].payload["kind"] == "missed"
    assert sent[0].payload["facts"]["dead_man"] is True
    assert sent[0].payload["facts"]["expected_at"] == T0 + 60 * SEC
    assert "has not run successfully" in sent[0].payload["title"]
    # a success ends the episode; a later silence alerts again
    Runs(tw, clock).end("j1", "succeeded")
    clock.advance(600)
    assert tw.sweep_alerts() == 1


def test_robot_rate_limits_hold_across_nodes(
    tw: Tickwork, clock: FakeClock, robots: Receivers
) -> None:
    runs = Runs(tw, clock)
    robots.ding_limit = 1000  # the receiver would refuse past 20 a minute; we never get there
    tw.add_alert_channel("ding", "dingtalk", {"url": robots.dingtalk_url(), "secret": DING_SECRET})
    tw.add_alert_rule({"id": "f", "kind": "failed", "dedupe_s": 0, "channels": ["ding"]})
    for _ in range(25):
        runs.end("j1", "failed")
    sent = 0
    for node in ("node-a", "node-b", "node-c", "node-a"):
        sent += tw.deliver_alerts(node)
    assert sent == 20
    assert len(robots.of("dingtalk")) == 20
    clock.advance(61)
    assert tw.deliver_alerts("node-b") + tw.deliver_alerts("node-c") == 5
    assert len(robots.of("dingtalk")) == 25
    assert {d["status"] for a in tw.alert_history(limit=30) for d in a["deliveries"]} == {
        "delivered"
    }


def test_rules_are_checked_before_anything_is_written(tw: Tickwork) -> None:
    cases = [
        ({"id": "a", "kind": "nope"}, "kind"),
        ({"id": "a b", "kind": "failed"}, "id"),
        ({"id": "a", "kind": "failed", "scope": "group"}, "scope_value"),
        ({"id": "a", "kind": "failed", "severity": "fatal"}, "severity"),
        ({"id": "a", "kind": "failed", "channels": ["missing"]}, "channels"),
        ({"id": "a", "kind": "consecutive_failures", "params": {"count": 1}}, "params.count"),
        ({"id": "a", "kind": "long_run"}, "params.threshold_s"),
        ({"id": "a", "kind": "failed", "params": {"count": 3}}, "params.count"),
        ({"id": "a", "kind": "failed", "dedupe_s": -1}, "dedupe_s"),
        (
            {
                "id": "a",
                "kind": "failed",
                "quiet": {"start": "22:00", "end": "07:00", "timezone": "Mars/Base"},
            },
            "quiet.timezone",
        ),
    ]
    for body, field in cases:
        with pytest.raises(InvalidInput) as caught:
            tw.add_alert_rule(body)
        assert caught.value.field == field, (body, caught.value)
    assert tw.alert_rules() == []
