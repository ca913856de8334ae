"""/api/alerts through the app: channels with secrets masked (never in a response), the test
message against a receiver on 127.0.0.1, rules (a job's own), the history with its filters
and attempts, and refusals naming the field."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from tests.alerts.receivers import CANARIES, DING_SECRET, FEISHU_SECRET, Receivers
from tests.api.conftest import Api, make_api


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    api = make_api(f"sqlite:///{tmp_path / 'api.db'}", tmp_path / "data")
    api.tw.settings = replace(api.tw.settings, ssrf_allow=("127.0.0.1",))
    yield api
    api.tw.close()


def test_channels_rules_and_history_through_the_api(api: Api, robots: Receivers) -> None:
    admin, viewer = api.client("admin"), api.client("viewer")
    made = admin.post("/api/alerts/channels", json={
        "name": "ding", "kind": "dingtalk", "language": "zh-CN",
        "fields": {"url": robots.dingtalk_url(), "secret": DING_SECRET},
    })  # fmt: skip
    assert made.status_code == 201, made.text
    assert made.json()["fields"] == {"host": "127.0.0.1", "url": "******", "secret": "******"}
    feishu = admin.post("/api/alerts/channels", json={
        "name": "lark", "kind": "feishu",
        "fields": {"url": robots.feishu_url(), "secret": FEISHU_SECRET},
    })  # fmt: skip
    assert feishu.status_code == 201
    # a PATCH that sends the mask back keeps the secret; the test message still signs right
    patched = admin.patch("/api/alerts/channels/ding", json={
        "description": "on-call group", "fields": {"url": "******", "secret": "******"},
    })  # fmt: skip
    assert patched.status_code == 200, patched.text
    assert patched.json()["version"] == 2
    tested = admin.post("/api/alerts/channels/ding/test", json={})
    assert tested.status_code == 200
    assert tested.json()["ok"] is True, tested.json()
    assert admin.post("/api/alerts/channels/lark/test", json={"language": "zh-CN"}).json()["ok"]
    assert (
        "Tickwork 测试消息" in robots.of("feishu")[0].payload["card"]["header"]["title"]["content"]
    )

    api.tw.add_job("tests.alerts.tasks:ok", "interval", seconds=60, id="j1", group="etl")
    api.tw.sync_declared()
    rule = admin.post("/api/alerts/rules", json={
        "id": "etl-failed", "kind": "failed", "scope": "group", "scope_value": "etl",
        "severity": "critical", "dedupe_s": 600, "channels": ["ding"],
        "quiet": {"start": "22:00", "end": "07:00", "timezone": "Asia/Shanghai"},
    })  # fmt: skip
    assert rule.status_code == 201, rule.text
    web = {"id": "web-only", "kind": "failed", "scope": "group", "scope_value": "web"}
    other = admin.post("/api/alerts/rules", json=web)
    assert other.status_code == 201
    mine = viewer.get("/api/alerts/rules", params={"job_id": "j1"}).json()["items"]
    assert [r["id"] for r in mine] == ["etl-failed"]
    changed = admin.patch("/api/alerts/rules/etl-failed", json={"quiet": None, "dedupe_s": 60})
    assert changed.status_code == 200
    assert (changed.json()["quiet"], changed.json()["dedupe_s"]) == (None, 60)
    in_use = admin.delete("/api/alerts/channels/ding")
    assert in_use.status_code == 409
    assert in_use.json()["code"] == "alert_channel_in_use"

    history = viewer.get("/api/alerts/history", params={"channel": "ding"}).json()
    assert [i["kind"] for i in history["items"]] == ["test"]
    one = viewer.get(f"/api/alerts/history/{history['items'][0]['id']}").json()
    assert one["attempts"][0]["status_code"] == 200
    assert one["deliveries"][0]["status"] == "delivered"
    failed_only = viewer.get("/api/alerts/history", params={"status": "failed"}).json()
    assert failed_only["items"] == []
    page = viewer.get("/api/alerts/history", params={"limit": 1}).json()
    assert page["next_before"] == page["items"][0]["id"]
    # nothing the API answers carries a secret
    texts = [
        admin.get("/api/alerts/channels").text,
        admin.get("/api/alerts/channels/ding").text,
        viewer.get("/api/alerts/history").text,
        tested.text,
        made.text,
        patched.text,
    ]
    for canary in CANARIES:
        assert all(canary not in t for t in texts)
    # viewers read rules and history, never channels
    assert viewer.get("/api/alerts/channels").status_code == 403
    assert (
        api.client("operator")
        .post("/api/alerts/rules", json={"id": "x", "kind": "failed"})
        .status_code
        == 403
    )


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"id": "r", "kind": "failed", "channels": ["nope"]}, "channels", "unknown_alert_channel"),
        ({"id": "r", "kind": "error_rate", "params": {"rate": 5}}, "params.rate", "out_of_range"),
        ({"id": "r", "kind": "failed", "scope": "tag"}, "scope_value", "missing"),
        ({"id": "r", "kind": "bogus"}, "kind", "literal_error"),
        (
            {"id": "r", "kind": "failed", "quiet": {"start": "9", "end": "10:00"}},
            "quiet.start",
            "bad_time",
        ),
    ],
)
def test_bad_rules_are_refused_naming_the_field(
    api: Api, body: dict[str, object], field: str, code: str
) -> None:
    got = api.client("admin").post("/api/alerts/rules", json=body)
    assert got.status_code == 422, got.text
    problem = got.json()
    assert (problem["field"], problem["code"]) == (field, code)
    assert api.tw.alert_rules() == []


def test_bad_channels_are_refused_naming_the_field(api: Api) -> None:
    admin = api.client("admin")

    def ch(name: str, kind: str, **fields: object) -> dict[str, object]:
        return {"name": name, "kind": kind, "fields": fields}

    cases = [
        (ch("d", "dingtalk", url="https://evil.example/x"), "fields.url", "robot_host"),
        (
            ch("m", "email", connection="none", to=["a@b.co"]),
            "fields.connection",
            "unknown_connection",
        ),
        (ch("m", "email", connection="x", to=["not-mail"]), "fields.to", "bad_email"),
        (ch("w", "webhook", url="http://10.0.0.1/hook"), "fields.url", "ssrf_refused"),
        (ch("w", "webhook", url="ftp://x.example/"), "fields.url", "bad_url"),
        (
            ch("w", "webhook", url="https://x.example/", token=1),
            "fields.token",
            "unknown_alert_field",
        ),
    ]
    for body, field, code in cases:
        got = admin.post("/api/alerts/channels", json=body)
        assert got.status_code in (400, 422), got.text
        assert (got.json()["field"], got.json()["code"]) == (field, code), got.json()
    assert api.tw.alert_channels() == []


def test_metrics_count_alerts_and_speak_openmetrics(api: Api, robots: Receivers) -> None:
    from tests.alerts.receivers import HOOK_SECRET
    from tests.alerts.test_rules import Runs
    from tickwork.clock import FakeClock

    tw = api.tw
    tw.add_job("tests.alerts.tasks:ok", "interval", seconds=60, id="m1")
    tw.sync_declared()
    tw.add_alert_channel("mhook", "webhook", {"url": robots.hook_url(), "secret": HOOK_SECRET})
    tw.add_alert_channel("mbad", "webhook", {"url": robots.hook_url(), "secret": "wrong-one"})
    tw.add_alert_rule(
        {"id": "metrics-rule", "kind": "failed", "dedupe_s": 3600, "channels": ["mhook", "mbad"]}
    )
    runs = Runs(tw, FakeClock(tw.clock.now_us()))
    for _ in range(3):
        runs.end("m1", "failed")
    assert tw.deliver_alerts("n1") == 2
    viewer = api.client("viewer")
    text = viewer.get("/metrics")
    assert text.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert 'tickwork_alerts_sent_total{channel="mhook",rule="metrics-rule"} 1.0' in text.text
    assert 'tickwork_alerts_failed_total{channel="mbad",rule="metrics-rule"} 1.0' in text.text
    assert 'tickwork_alerts_deduplicated_total{rule="metrics-rule"} 2.0' in text.text
    om = viewer.get("/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"})
    assert om.headers["content-type"].startswith("application/openmetrics-text")
    assert om.text.endswith("# EOF\n")
    assert "# TYPE tickwork_runs counter" in om.text
    assert 'tickwork_alerts_sent_total{channel="mhook",rule="metrics-rule"} 1.0' in om.text
