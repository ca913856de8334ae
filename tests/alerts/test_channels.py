"""Each channel against its imitation on 127.0.0.1: signed where the service signs, delivered
only when the service accepted (an HTTP 200 carrying an error code is a failure), untrusted
text escaped for each format, secrets masked and never in messages or logs."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Callable
from typing import Any

import pytest

from tests.alerts.conftest import SMTP_PASSWORD, Mailbox
from tests.alerts.receivers import (
    CANARIES,
    DING_SECRET,
    FEISHU_SECRET,
    HOOK_SECRET,
    Receivers,
)
from tickwork import Tickwork
from tickwork.alerts.channels.base import SendContext
from tickwork.alerts.channels.robots import send_robot
from tickwork.alerts.messages import (
    compose,
    escape_lark,
    escape_markdown,
    escape_slack,
    render_html,
)
from tickwork.errors import InvalidInput
from tickwork.net.ssrf import NOTHING, Allowlist

Make = Callable[..., Tickwork]
EVIL_NAMES = ("<img src=x onerror=alert(1)>", "**[click](http://evil)**")


def channels(tw: Tickwork, robots: Receivers, mailbox: Mailbox | None = None) -> None:
    tw.add_alert_channel("ding", "dingtalk", {"url": robots.dingtalk_url(), "secret": DING_SECRET})
    tw.add_alert_channel("wecom", "wecom", {"url": robots.wecom_url()}, language="zh-CN")
    tw.add_alert_channel("feishu", "feishu", {"url": robots.feishu_url(), "secret": FEISHU_SECRET})
    tw.add_alert_channel("slack", "slack", {"url": robots.slack_url()})
    tw.add_alert_channel("hook", "webhook", {"url": robots.hook_url(), "secret": HOOK_SECRET})
    if mailbox is not None:
        tw.add_connection(
            "mail", "smtp",
            {"host": "127.0.0.1", "port": mailbox.port, "security": "none", "username": "ops",
             "password": SMTP_PASSWORD, "from_addr": "tickwork@example.com"},
        )  # fmt: skip
        tw.add_alert_channel("mail", "email", {"connection": "mail", "to": ["a@example.com"]})


def test_every_channel_sends_its_test_message_signed_and_accepted(
    make_tw: Make, robots: Receivers, mailbox: Mailbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    tw = make_tw()
    channels(tw, robots, mailbox)
    results = {name: tw.test_alert_channel(name) for name in
               ("ding", "wecom", "feishu", "slack", "hook", "mail")}  # fmt: skip
    assert {n: r["ok"] for n, r in results.items()} == dict.fromkeys(results, True), results
    assert robots.refused == []
    assert [r.service for r in robots.accepted] == [
        "dingtalk",
        "wecom",
        "feishu",
        "slack",
        "webhook",
    ]
    wecom = robots.of("wecom")[0].payload["markdown"]["content"]
    assert "Tickwork 测试消息" in wecom
    assert "Test message from Tickwork" in robots.of("slack")[0].payload["text"]
    card = robots.of("feishu")[0].payload["card"]
    assert card["header"]["title"]["content"].startswith("Test message")
    hook = robots.of("webhook")[0]
    assert hook.payload["kind"] == "test"
    assert hook.headers["x-tickwork-delivery"]
    assert (
        mailbox.messages[0]["Subject"]
        == "[Tickwork] Test message from Tickwork: channel mail works"
    )
    # every test is in the history, with its attempt
    history = tw.alert_history(limit=10)
    assert len(history) == 6
    assert all(h["deliveries"][0]["status"] == "delivered" for h in history)
    views = tw.alert_channels()
    ding = next(v for v in views if v.name == "ding")
    assert ding.fields == {"host": "127.0.0.1", "url": "******", "secret": "******"}
    shown = repr(results) + repr(history) + repr(views) + caplog.text
    for canary in (*CANARIES, SMTP_PASSWORD):
        assert canary not in shown


def test_refusals_with_http_200_are_failures_with_the_services_code(
    make_tw: Make, robots: Receivers, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    tw = make_tw()
    tw.add_alert_channel(
        "ding", "dingtalk", {"url": robots.dingtalk_url(), "secret": "wrong-secret-1"}
    )
    tw.add_alert_channel("ding-token", "dingtalk", {"url": robots.dingtalk_url("bad-token-123")})
    tw.add_alert_channel("wecom", "wecom", {"url": robots.wecom_url("not-the-key")})
    tw.add_alert_channel(
        "feishu", "feishu", {"url": robots.feishu_url(), "secret": "wrong-secret-2"}
    )
    tw.add_alert_channel("slack", "slack", {"url": robots.slack_url("/slack/services/T/B/nope")})
    tw.add_alert_channel("hook", "webhook", {"url": robots.hook_url(), "secret": "wrong-secret-3"})
    results = {n: tw.test_alert_channel(n) for n in
               ("ding", "ding-token", "wecom", "feishu", "slack", "hook")}  # fmt: skip
    assert not any(r["ok"] for r in results.values()), results
    codes = {n: (r["status_code"], r["error"]) for n, r in results.items()}
    assert codes["ding"] == (200, "dingtalk refused the message: error code 310000 sign not match")
    assert "300001" in results["ding-token"]["error"]
    assert codes["wecom"][0] == 200
    assert "93000" in codes["wecom"][1]
    assert codes["feishu"][0] == 200
    assert "19021" in codes["feishu"][1]
    assert codes["slack"] == (404, "HTTP 404")
    assert results["slack"]["response"] == "no_service"
    assert results["hook"]["status_code"] == 401
    assert robots.accepted == []
    history = tw.alert_history(limit=10)
    assert {h["deliveries"][0]["status"] for h in history} == {"failed"}
    for secret in ("wrong-secret-1", "bad-token-123", "not-the-key", "wrong-secret-2", "nope"):
        assert secret not in repr(results) + repr(history) + caplog.text


def test_the_webhook_signature_is_what_the_docs_tell_receivers(
    make_tw: Make, robots: Receivers
) -> None:
    tw = make_tw()
    tw.add_alert_channel("hook", "webhook", {"url": robots.hook_url(), "secret": HOOK_SECRET})
    assert tw.test_alert_channel("hook")["ok"]
    got = robots.of("webhook")[0]
    # docs/alerts.md: HMAC-SHA256 over "<X-Tickwork-Timestamp>." + the raw body, hex, "sha256="
    expected = hmac.new(
        HOOK_SECRET.encode(), got.headers["x-tickwork-timestamp"].encode() + b"." + got.raw,
        hashlib.sha256,
    ).hexdigest()  # fmt: skip
    assert got.headers["x-tickwork-signature"] == f"sha256={expected}"
    assert json.loads(got.raw)["title"].startswith("Test message")


@pytest.mark.parametrize("name", EVIL_NAMES)
def test_untrusted_names_arrive_as_text_in_every_format(name: str) -> None:
    alert: dict[str, Any] = {
        "kind": "failed", "severity": "critical", "rule_id": "r",
        "facts": {"job_id": "evil", "job_name": name, "run_id": 7, "status": "failed",
                  "error": name},
    }  # fmt: skip
    message = compose(alert, "en", "https://tw.example.com")
    page = render_html(message)
    assert "<img" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page or "**[click](http://evil)**" in page
    for escaped in (escape_markdown(name), escape_lark(name), escape_slack(name)):
        assert "<img" not in escaped
        assert "](http://" not in escaped  # no link, nor a bare address Slack would link
        assert "**" not in escaped
    assert escape_markdown("**[click](http://evil)**") == r"\*\*\[click\]\(http\://evil\)\*\*"
    assert (
        escape_markdown("<img src=x onerror=alert(1)>") == "&lt;img src=x onerror=alert\\(1\\)&gt;"
    )


def test_evil_job_names_reach_each_robot_escaped(make_tw: Make, robots: Receivers) -> None:
    from tickwork.alerts.delivery import Sender

    tw = make_tw()
    channels(tw, robots)
    sender = tw.alert_sender()
    assert isinstance(sender, Sender)
    with tw.store.db.read() as conn:
        records = {c.name: c for c in tw.alert_repo.channels(conn)}
    for name in EVIL_NAMES:
        alert = {"id": 1, "kind": "failed", "severity": "warning", "rule_id": "r",
                 "facts": {"job_id": "evil", "job_name": name, "run_id": 3}}  # fmt: skip
        for channel in ("ding", "wecom", "feishu", "slack"):
            assert sender.send(records[channel], alert, tw.clock.now_us()).ok
    # what each service renders as markup (titles are plain-text fields, shown as typed)
    rendered = {
        "dingtalk": lambda p: p["markdown"]["text"],
        "wecom": lambda p: p["markdown"]["content"],
        "feishu": lambda p: (
            p["card"]["elements"][0]["text"]["content"]
            + p["card"]["elements"][1]["actions"][0]["url"]
        ),
        "slack": lambda p: p["text"],
    }
    texts = [rendered[r.service](r.payload) for r in robots.accepted]
    assert len(texts) == 8
    for text in texts:
        assert "<img" not in text
        assert "](http://evil)" not in text
    ding = robots.of("dingtalk")[1].payload["markdown"]["text"]
    assert r"\*\*\[click\]\(http\://evil\)\*\*" in ding
    lark = robots.of("feishu")[0].payload["card"]
    assert lark["header"]["title"]["tag"] == "plain_text"  # shown as typed, never parsed


def test_robot_channels_post_only_to_their_services_hosts(make_tw: Make) -> None:
    tw = make_tw()
    with pytest.raises(InvalidInput) as caught:
        tw.add_alert_channel("d", "dingtalk", {"url": "https://evil.example.com/robot/send?x=1"})
    assert caught.value.field == "fields.url"
    assert caught.value.code == "robot_host"
    with pytest.raises(InvalidInput) as plain:
        tw.add_alert_channel("d", "dingtalk", {"url": "http://oapi.dingtalk.com/robot/send"})
    assert plain.value.code == "robot_host"  # https only
    view = tw.add_alert_channel(
        "d", "dingtalk", {"url": "https://oapi.dingtalk.com/robot/send?access_token=x1y2z3"}
    )
    assert view.fields["host"] == "oapi.dingtalk.com"
    with pytest.raises(InvalidInput) as meta:  # a webhook to the metadata address
        tw.add_alert_channel("h", "webhook", {"url": "http://169.254.169.254/latest"})
    assert meta.value.code == "ssrf_refused" or meta.value.field == "fields.url"


def test_without_the_allowlist_a_robot_send_to_loopback_is_refused(robots: Receivers) -> None:
    message = compose({"kind": "test", "severity": "info", "facts": {}}, "en", None, "c")
    ctx = SendContext(allow=NOTHING, now_us=0)
    with pytest.raises(InvalidInput):
        send_robot("wecom", {"url": robots.wecom_url()}, message, ctx)
    allowed_host_only = SendContext(allow=Allowlist.parse("127.0.0.1"), now_us=0)
    assert send_robot("wecom", {"url": robots.wecom_url()}, message, allowed_host_only).ok
    assert len(robots.accepted) == 1


def test_a_test_message_is_never_sent_again_by_a_worker(
    make_tw: Make, robots: Receivers, clock: Any
) -> None:
    """The test message's delivery row is the caller's: a node's worker claiming due
    deliveries meanwhile (or later) leaves it alone."""
    tw = make_tw()
    tw.add_alert_channel("wecom", "wecom", {"url": robots.wecom_url()})
    assert tw.test_alert_channel("wecom")["ok"]
    clock.advance(3600)
    assert tw.deliver_alerts("node-x") == 0
    assert len(robots.of("wecom")) == 1
