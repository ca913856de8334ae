"""The template gallery, a job made through the form generated from a template's schema (a
field error from the API shown under its field), and the load forecast with its hot spots and
the H preview; in English and Chinese, with screenshots."""

from __future__ import annotations

import pytest

from tests.browser.conftest import Console, Server
from tests.browser.test_console import make_job

pytestmark = pytest.mark.browser


def test_template_gallery_and_form(console: Console, server: Server) -> None:
    with server.api() as client:
        url = f"sqlite:///{server.data_dir / 'templates-ui.db'}"
        body = {"name": "templates-ui", "kind": "database", "fields": {"url": url}}
        made = client.post("/api/connections", json=body)
        assert made.status_code == 201, made.text
    page = console.page
    console.login()
    console.goto("/templates")
    gallery = page.locator("[data-testid=templates-page] .template-card")
    gallery.first.wait_for()
    assert gallery.count() >= 3
    page.get_by_role("heading", name="Database backup").wait_for()
    console.screenshot("templates-gallery")
    console.goto("/templates/db-backup")
    form = page.locator("[data-testid=template-form]")
    form.wait_for()
    form.locator("input[name=id]").fill("templates-ui-backup")
    form.locator("select[name=connection]").select_option("templates-ui")
    form.locator("input[name=directory]").fill("/var/backups/tickwork")
    form.locator("input[name=keep]").fill("0")
    # the browser's own min check would stop the form: let the API judge, as any client
    page.evaluate("document.querySelector('input[name=keep]').removeAttribute('min')")
    form.locator("button[type=submit]").click()
    error = page.locator("[data-field=keep] .field-error")
    error.wait_for()
    assert "0" in error.inner_text()
    console.screenshot("template-form")
    form.locator("input[name=keep]").fill("5")
    form.locator("button[type=submit]").click()
    page.locator("[data-testid=template-created]").get_by_text("templates-ui-backup").wait_for()
    with server.api() as client:
        link = client.get("/api/jobs/templates-ui-backup/template").json()
    assert (link["template"], link["version"], link["params"]["keep"]) == ("db-backup", 1, 5)
    console.set_lang("zh-CN")
    console.goto("/templates/db-backup")
    page.get_by_text("用此模板新建任务").wait_for()
    page.get_by_text("数据库连接").first.wait_for()
    console.screenshot("template-form-zh-CN")


def test_forecast_heat_map_hot_spots_and_h_preview(console: Console, server: Server) -> None:
    # 05:00: the browser tests' other jobs default to 03:00 on the same server
    for i in range(25):
        make_job(server, f"forecast-ui-{i:02d}", trigger={"kind": "cron", "expr": "0 5 * * *"})
    page = console.page
    console.login()
    console.goto("/forecast")
    page.locator("[data-testid=forecast-summary]").wait_for()
    ours = page.locator("[data-testid=hot-spots] tbody tr", has_text="05:00:00")
    ours.first.wait_for()
    assert "forecast-ui-" in ours.first.inner_text()
    page.locator("[data-testid=forecast-preview]").click()
    page.locator("[data-testid=heat-preview] canvas").wait_for()
    console.screenshot("forecast")
    page.select_option("[data-testid=forecast-window]", "7d")
    # a week per hour: the 05:00 hot spot on each of 7 days
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=hot-spots] tbody tr')]"
        ".filter((tr) => tr.textContent.includes('05:00:00')).length === 7"
    )
    console.set_lang("zh-CN")
    page.get_by_text("负载预测").first.wait_for()
    page.select_option("[data-testid=forecast-window]", "24h")
    page.locator("[data-testid=hot-spots]").wait_for()
    console.screenshot("forecast-zh-CN")


def test_rollout_preview_and_apply(console: Console, server: Server) -> None:
    template = {
        "title": {"en": "Browser noop", "zh-CN": "浏览器空任务"},
        "parameters": [{"name": "hour", "type": "integer", "default": 3}],
        "job": {"trigger": "0 ${hour} * * *", "timeout_s": 30,
                "target": {"kind": "python", "ref": "tests.browser.tasks:noop"}},
    }  # fmt: skip
    with server.api() as client:
        assert client.put("/api/templates/browser-noop", json=template).status_code == 200
        made = client.post("/api/templates/browser-noop/jobs", json={"id": "rolled-ui"})
        assert made.status_code == 201, made.text
        template["job"] = {**template["job"], "timeout_s": 90}
        assert client.put("/api/templates/browser-noop", json=template).json()["version"] == 2
    page = console.page
    console.login()
    console.goto("/templates/browser-noop")
    page.get_by_text("older version").wait_for()
    page.locator("[data-testid=rollout-preview]").click()
    diff = page.locator("[data-testid=rollout] table.diff tr")
    diff.first.wait_for()
    assert "timeout_s" in diff.first.inner_text()
    assert "30" in diff.first.inner_text()
    assert "90" in diff.first.inner_text()
    console.screenshot("template-rollout")
    page.locator("[data-testid=rollout-apply]").click()
    page.get_by_text("1 jobs are at version 2.").wait_for()
    with server.api() as client:
        assert client.get("/api/jobs/rolled-ui").json()["policies"]["timeout_s"] == 90
        assert client.get("/api/jobs/rolled-ui/template").json()["version"] == 2


def test_admin_adds_a_template_in_the_console(console: Console, server: Server) -> None:
    page = console.page
    console.login()
    console.goto("/templates")
    page.locator("[data-testid=template-new]").click()
    source = page.locator("[data-testid=template-source]")
    text = source.input_value().replace("my-template", "browser-added")
    source.fill(text.replace("${hour}", "${hours}"))  # names no parameter
    page.locator("[data-testid=template-save]").click()
    page.locator(".alert.error").get_by_text("hours").wait_for()
    source.fill(text.replace("app.tasks:report", "tests.browser.tasks:noop"))
    page.locator("[data-testid=template-save]").click()
    page.locator(".template-card").get_by_text("browser-added").wait_for()
    with server.api() as client:
        found = client.get("/api/templates/browser-added").json()
    assert (found["version"], found["builtin"]) == (1, False)
