"""The alerts pages in a real browser against a live ``tickwork serve`` whose SSRF allowlist
lets channels reach an imitation DingTalk robot on 127.0.0.1: an admin creates a signed
channel and a rule in the console, sends a test message (delivered, signature verified),
a failing job's alert shows in the history and on the job page with its delivery, a job
named like markup stays text, and the pages read in Chinese. Screenshots for the docs."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.alerts.receivers import CANARIES, DING_SECRET, Receivers, receivers
from tests.browser.conftest import Server, open_console, serving

pytestmark = pytest.mark.browser
XSS = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def robots() -> Iterator[Receivers]:
    with receivers() as state:
        yield state


@pytest.fixture(scope="module")
def alert_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    saved = {k: os.environ.get(k) for k in ("TICKWORK_SSRF_ALLOW", "TICKWORK_ALERTS_POLL_S")}
    os.environ["TICKWORK_SSRF_ALLOW"] = "127.0.0.1"
    os.environ["TICKWORK_ALERTS_POLL_S"] = "0.2"
    try:
        with serving(tmp_path_factory.mktemp("alerts-console")) as srv:
            yield srv
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


def wait(predicate: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_channels_rules_history_and_job_page(
    browser: Any, alert_server: Server, robots: Receivers
) -> None:
    with open_console(browser, alert_server) as console:
        page = console.page
        console.login()
        console.goto("/alerts?tab=channels")
        form = page.locator("[data-testid=new-channel]")
        form.locator("[data-field=name] input").fill("ops-ding")
        form.locator("[data-field=url] input").fill(robots.dingtalk_url())
        form.locator("[data-field=secret] input").fill(DING_SECRET)
        form.locator("button[type=submit]").click()
        row = page.locator("tr[data-channel=ops-ding]")
        row.wait_for()
        assert "127.0.0.1" in row.inner_text()
        row.locator("[data-testid=send-test]").click()
        row.locator("[data-testid=test-result]").wait_for()
        assert row.locator("[data-testid=test-result]").inner_text() == "delivered"
        assert len(robots.of("dingtalk")) == 1
        console.screenshot("alerts-channels")

        console.goto("/alerts?tab=rules")
        rule = page.locator("[data-testid=new-rule]")
        rule.locator("[data-field=id] input").fill("browser-failed")
        rule.locator("[data-field=kind] select").select_option("failed")
        rule.locator("[data-field=scope] select").select_option("group")
        rule.locator("[data-field=scope_value] input").fill("alerting")
        rule.locator("[data-field=severity] select").select_option("critical")
        rule.locator("[data-field=channels] input[type=checkbox]").check()
        rule.locator("button[type=submit]").click()
        page.locator("tr[data-rule=browser-failed]").wait_for()
        console.screenshot("alerts-rules")

        with alert_server.api() as client:
            job = {
                "id": "browser-alerting",
                "name": XSS,
                "target": {"ref": "tests.browser.tasks:fail"},
                "trigger": {"kind": "cron", "expr": "0 3 * * *"},
                "group": "alerting",
            }
            made = client.post("/api/jobs", json=job)
            assert made.status_code == 201, made.text
            client.post("/api/jobs/browser-alerting/run").raise_for_status()
        wait(lambda: len(robots.of("dingtalk")) == 2)
        text = robots.of("dingtalk")[1].payload["markdown"]["text"]
        assert "<img" not in text
        assert "&lt;img src=x onerror=alert\\(1\\)&gt;" in text

        console.goto("/alerts")
        table = page.locator("[data-testid=alerts-table]")
        table.wait_for()
        page.locator("[data-testid=delivery]", has_text="delivered").first.wait_for()
        assert "Run failed" in table.inner_text()
        console.screenshot("alerts")
        console.goto("/jobs/browser-alerting")
        job_alerts = page.locator(".job-alerts")
        job_alerts.locator("tr[data-rule=browser-failed]").wait_for()
        job_alerts.locator("[data-testid=delivery]").first.wait_for()
        assert page.locator("main img").count() == 0
        assert all(c not in page.content() for c in CANARIES)

    with open_console(browser, alert_server, "zh-CN") as console:
        console.login()
        console.goto("/alerts")
        console.page.get_by_role("heading", name="告警").wait_for()
        console.page.get_by_text("运行失败").first.wait_for()
        console.screenshot("alerts-zh-CN")
        console.goto("/alerts?tab=channels")
        zh_row = console.page.locator("tr[data-channel=ops-ding]")
        zh_row.wait_for()
        assert "钉钉机器人" in zh_row.inner_text()
        console.screenshot("alerts-channels-zh-CN")
    assert Path(alert_server.log).read_text().count(DING_SECRET) == 0
