"""The console in a real browser against a live ``tickwork serve``: login, the cron editor's
live description and next fire times (in both languages), run now with the log streaming,
pause and resume, a hostile job name rendered as text, the language switch, what an operator
may not do, and the Content-Security-Policy (any violation fails the test)."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from tests.browser.conftest import ADMIN, OPERATOR, Console, Server

pytestmark = pytest.mark.browser
XSS = "<img src=x onerror=alert(1)>"
LOG_HAS = "(t) => document.querySelector('[data-testid=run-log]')?.textContent?.includes(t)"


def make_job(server: Server, job_id: str, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": job_id,
        "name": job_id,
        "target": {"ref": "tests.browser.tasks:noop"},
        "trigger": {"kind": "cron", "expr": "0 3 * * *"},
        "timezone": "Asia/Shanghai",
        "group": "browser",
        "tags": ["ui"],
    }
    body.update(changes)
    with server.api() as client:
        response = client.post("/api/jobs", json=body)
        assert response.status_code == 201, response.text
        job: dict[str, Any] = response.json()
    return job


def test_headers_and_deep_links(server: Server) -> None:
    import httpx2 as httpx

    for path in ("/", "/jobs", "/jobs/some-job", "/runs/12", "/login"):
        response = httpx.get(server.url + path)
        assert response.status_code == 200, path
        assert response.headers["content-type"].startswith("text/html")
        csp = response.headers["content-security-policy"]
        assert "script-src 'self'" in csp
        assert "unsafe-inline" not in csp
        html = response.text
        # The built page complies: no inline script or style.
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), html
        assert "<style" not in html
        assert " style=" not in html


def test_login_then_dashboard(console: Console) -> None:
    page = console.page
    console.goto("/jobs")
    page.wait_for_url(re.compile(r"/login\?next="))
    page.fill("input[name=username]", ADMIN[0])
    page.fill("input[name=password]", "wrong password")
    page.click("button[type=submit]")
    page.get_by_text("Wrong user name or password.").wait_for()
    page.fill("input[name=password]", ADMIN[1])
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/jobs$"))  # back where the user wanted to go
    page.get_by_role("link", name="Dashboard").click()
    page.get_by_role("heading", name="Dashboard").wait_for()
    page.get_by_text("Scheduler nodes").wait_for()
    page.get_by_text("(this server)").wait_for()
    page.get_by_text("Runs per hour, last 24 hours").wait_for()
    page.wait_for_selector(".chart canvas")
    assert page.evaluate("location.pathname") == "/"


def test_cron_editor_describes_and_previews_as_you_type(console: Console) -> None:
    page = console.page
    console.login()
    page.get_by_role("link", name="Jobs", exact=True).click()
    page.get_by_role("link", name="New job").click()
    page.wait_for_url(re.compile(r"/jobs/new$"))
    page.fill("input[name=id]", "browser-countdown")
    page.fill("input[name=name]", "Countdown")
    page.fill("input[name=target]", "tests.browser.tasks:countdown")
    page.fill("input[name=timezone]", "Asia/Shanghai")
    description = page.get_by_test_id("cron-description")
    fires = page.locator("[data-testid=next-fires] li")

    expr = page.locator("input[name=expr]")
    expr.fill("")
    expr.press_sequentially("30 6 * * 1-5", delay=20)
    page.wait_for_function(
        "() => document.querySelector('[data-testid=cron-description]')"
        "?.textContent?.includes('At 06:30, Monday through Friday')"
    )
    assert fires.count() == 5
    first = fires.all_inner_texts()
    assert all("06:30:00" in f and "Asia/Shanghai" in f for f in first), first

    expr.fill("")
    expr.press_sequentially("*/15 * * * *", delay=20)
    page.wait_for_function(
        "() => document.querySelector('[data-testid=cron-description]')"
        "?.textContent?.includes('Every 15 minutes')"
    )
    second = fires.all_inner_texts()
    assert len(second) == 5
    assert second != first
    minutes = [re.search(r"\d\d:(\d\d):00", f) for f in second]
    assert all(m and m.group(1) in {"00", "15", "30", "45"} for m in minutes), second

    # A preset, then the field builder (one field changes the expression).
    page.click("[data-preset='0 2 * * *']")
    assert expr.input_value() == "0 2 * * *"
    page.wait_for_function(
        "() => document.querySelector('[data-testid=cron-description]')"
        "?.textContent?.includes('At 02:00')"
    )
    page.get_by_label("Hour", exact=True).fill("4")
    assert expr.input_value() == "0 4 * * *"
    page.wait_for_function(
        "() => document.querySelector('[data-testid=cron-description]')"
        "?.textContent?.includes('At 04:00')"
    )

    # A mistake is explained next to the field, by the API.
    expr.fill("61 2 * * *")
    page.get_by_text("61 is out of range 0-59").wait_for()

    # The same editor in Chinese: the description and labels follow the language.
    expr.fill("30 6 * * 1-5")
    console.set_lang("zh-CN")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=cron-description]')"
        "?.textContent?.includes('周一至周五 06:30')"
    )
    page.get_by_text("Cron 表达式").wait_for()
    assert description.inner_text().strip() == "周一至周五 06:30（Asia/Shanghai）"
    expr.fill("*/15 * * * *")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=cron-description]')"
        "?.textContent?.includes('每 15 分钟')"
    )
    console.screenshot("job-editor-zh-CN")
    # The API's reason, in Chinese, with the field named in Chinese.
    expr.fill("61 2 * * *")
    page.get_by_text("分钟: 61 超出范围 0-59").wait_for()
    expr.fill("*/15 * * * *")
    console.set_lang("en")

    # Bad JSON is caught before anything is sent.
    page.fill("textarea[name=kwargs]", "{nope")
    page.get_by_text("not valid JSON", exact=False).wait_for()
    page.fill("textarea[name=kwargs]", '{"steps": 4}')
    expr.fill("0 2 * * *")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=cron-description]')"
        "?.textContent?.includes('At 02:00')"
    )
    console.screenshot("job-editor")
    page.click("[data-action=save]")
    page.wait_for_url(re.compile(r"/jobs/browser-countdown$"))
    page.get_by_role("heading", name=re.compile("Countdown")).wait_for()
    page.get_by_text("At 02:00 (Asia/Shanghai)").first.wait_for()


def test_editor_shows_api_field_errors(console: Console) -> None:
    page = console.page
    console.login()
    console.goto("/jobs/new")
    page.fill("input[name=id]", "bad id!")
    page.fill("input[name=target]", "tests.browser.tasks:noop")
    page.click("[data-action=save]")
    error = page.locator("[data-field=id] .field-error")
    error.wait_for()
    assert "is not a valid job id" in error.inner_text()
    page.fill("input[name=id]", "fine-id")
    page.fill("input[name=target]", "no-colon")
    page.click("[data-action=save]")
    target_error = page.locator("[data-field=target] .field-error")
    target_error.wait_for()
    assert "package.module:function" in target_error.inner_text()


def test_run_now_follows_the_run_and_streams_its_log(console: Console, server: Server) -> None:
    make_job(
        server,
        "browser-live",
        name="Live log",
        target={"ref": "tests.browser.tasks:countdown", "kwargs": {"steps": 6, "pause": 1.0}},
        # what a run may change (issue 9): so "Run now" asks, its fields empty by default
        parameters=[{"name": "steps", "type": "integer", "minimum": 1, "maximum": 10},
                    {"name": "pause", "type": "number", "minimum": 0, "maximum": 5}],
    )  # fmt: skip
    page = console.page
    console.login()
    console.goto("/jobs/browser-live")
    page.get_by_role("heading", name=re.compile("Live log")).wait_for()
    page.click("[data-action=run]")
    page.click("[data-action=run-submit]")  # empty fields: the job's own kwargs
    page.wait_for_url(re.compile(r"/runs/\d+$"))
    log = page.get_by_test_id("run-log")
    # The first lines arrive while the run still runs (streamed, not loaded at the end).
    page.wait_for_function(LOG_HAS, arg="step 2 of 6")
    assert "step 6 of 6" not in log.inner_text()
    assert page.locator(".page-head .badge").inner_text() in ("running", "queued")
    console.screenshot("run-detail-live")
    page.wait_for_function(LOG_HAS, arg="step 6 of 6")
    page.locator(".page-head .badge", has_text="succeeded").wait_for()
    assert page.get_by_test_id("live-state").inner_text() == "complete"
    page.get_by_text("counted 6 steps").wait_for()
    console.screenshot("run-detail")
    # A second, shorter run (declared parameters set), so the duration chart has a line.
    with server.api() as client:
        response = client.post(
            "/api/jobs/browser-live/run", json={"params": {"kwargs": {"steps": 1, "pause": 0.1}}}
        )
        assert response.status_code == 202, response.text
        queued = response.json()
        for _ in range(100):
            if client.get(f"/api/runs/{queued['run_id']}").json()["status"] == "succeeded":
                break
            time.sleep(0.1)
    # The job page now lists the runs, their duration chart and the job's history.
    page.get_by_role("link", name="browser-live").first.click()
    page.wait_for_url(re.compile(r"/jobs/browser-live$"))
    page.locator("[data-testid=runs-table] .badge", has_text="succeeded").first.wait_for()
    page.wait_for_selector(".chart canvas")
    page.get_by_text("created the job").first.wait_for()
    console.screenshot("job-detail")


def test_pause_and_resume_from_the_list(console: Console, server: Server) -> None:
    make_job(server, "browser-pausable", name="Pausable")
    page = console.page
    console.login()
    console.goto("/jobs?q=browser-pausable")
    row = page.locator("tr[data-job=browser-pausable]")
    row.wait_for()
    assert row.locator(".badge").first.inner_text() == "Scheduled"
    row.locator("[data-action=pause]").click()
    row.locator(".badge", has_text="Paused").wait_for()
    with server.api() as client:
        assert client.get("/api/jobs/browser-pausable").json()["paused"] is True
        row.locator("[data-action=resume]").click()
        row.locator(".badge", has_text="Scheduled").wait_for()
        assert client.get("/api/jobs/browser-pausable").json()["paused"] is False
    # The group's bulk actions, confirmed in the page's own dialog.
    console.goto("/jobs?group=browser")
    page.click("[data-action=pause-group]")
    page.get_by_role("dialog").get_by_role("button", name="Pause group").click()
    page.get_by_text(re.compile(r"Paused \d+ jobs of the group “browser”")).wait_for()
    row.locator(".badge", has_text="Paused").wait_for()
    page.click("[data-action=resume-group]")
    page.get_by_role("dialog").get_by_role("button", name="Resume group").click()
    row.locator(".badge", has_text="Scheduled").wait_for()
    console.screenshot("jobs")


def test_sorting_is_done_by_the_api_across_pages(console: Console, server: Server) -> None:
    # 60 jobs (more than a page of 50) whose names sort opposite to their ids.
    for i in range(60):
        make_job(server, f"sort-{i:02d}", name=f"Sorted {59 - i:02d}", group="sorting")
    page = console.page
    console.login()
    console.goto("/jobs?q=sort-")
    rows = page.locator("tr[data-job^=sort-]")
    page.wait_for_function("() => document.querySelectorAll('tr[data-job^=sort-]').length === 50")
    assert rows.first.get_attribute("data-job") == "sort-00"  # by id at first
    page.locator("th.sortable button", has_text="Job").click()
    page.wait_for_url(re.compile(r"sort=name"))
    page.wait_for_function(
        "() => document.querySelector('tr[data-job^=sort-]')?.dataset.job === 'sort-59'"
    )
    page.get_by_role("button", name=re.compile("Load more|more", re.I)).click()
    page.wait_for_function("() => document.querySelectorAll('tr[data-job^=sort-]').length === 60")
    names = rows.locator(".job-name").all_inner_texts()
    assert names == sorted(names)  # one order across both pages: the API's
    assert names[-1] == "Sorted 59"
    with server.api() as client:  # the dashboard's "next executions" of later tests stay short
        for i in range(60):
            assert client.delete(f"/api/jobs/sort-{i:02d}").status_code == 204


def test_delete_asks_first(console: Console, server: Server) -> None:
    make_job(server, "browser-doomed", name="Doomed")
    page = console.page
    console.login()
    console.goto("/jobs?q=browser-doomed")
    row = page.locator("tr[data-job=browser-doomed]")
    row.locator("[data-action=delete]").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text("Doomed", exact=True).wait_for()
    dialog.get_by_role("button", name="Cancel").click()
    assert row.count() == 1
    row.locator("[data-action=delete]").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    row.wait_for(state="detached")
    with server.api() as client:
        assert client.get("/api/jobs/browser-doomed").status_code == 404


def test_hostile_job_name_is_text(console: Console, server: Server) -> None:
    make_job(
        server,
        "browser-xss",
        name=XSS,
        description=f"<script>alert(2)</script>{XSS}",
        group="xss<b>group</b>",
        tags=["<svg onload=alert(3)>"],
    )
    page = console.page
    console.login()
    console.goto("/jobs?q=browser-xss")
    name = page.locator("tr[data-job=browser-xss] .job-name")
    name.wait_for()
    assert name.inner_text() == XSS
    assert page.locator("tr[data-job=browser-xss] img").count() == 0
    assert page.get_by_text("<svg onload=alert(3)>").count() == 1
    console.goto("/jobs/browser-xss")
    page.get_by_role("heading", name=re.compile(re.escape(XSS))).wait_for()
    assert page.locator("main img, main svg, main script").count() == 0
    page.get_by_text(f"<script>alert(2)</script>{XSS}").wait_for()
    console.goto("/")
    page.get_by_text(XSS).first.wait_for()
    page.wait_for_timeout(500)
    assert console.watch.dialogs == []


@pytest.mark.parametrize("console", ["zh-CN"], indirect=True)
def test_language_from_the_browser_then_switched_and_remembered(console: Console) -> None:
    page = console.page
    console.goto("/login")
    page.get_by_role("heading", name="登录").wait_for()  # Accept-Language zh-CN
    page.fill("input[name=username]", ADMIN[0])
    page.fill("input[name=password]", ADMIN[1])
    page.click("button[type=submit]")
    page.get_by_role("heading", name="概览").wait_for()
    page.get_by_text("调度节点").wait_for()
    page.get_by_text("最近 24 小时每小时执行次数").wait_for()
    console.screenshot("dashboard-zh-CN")
    page.get_by_role("link", name="任务", exact=True).click()
    page.get_by_role("heading", name="任务").wait_for()
    page.get_by_role("columnheader", name=re.compile("下次执行")).wait_for()
    console.screenshot("jobs-zh-CN")
    console.set_lang("en")
    page.get_by_role("heading", name="Jobs").wait_for()
    page.get_by_role("columnheader", name=re.compile("Next run")).wait_for()
    page.reload()
    page.get_by_role("heading", name="Jobs").wait_for()  # the choice is remembered
    assert page.evaluate("localStorage.getItem('tickwork.lang')") == "en"
    console.set_lang("zh-CN")
    page.get_by_role("heading", name="任务").wait_for()


def test_operator_sees_no_admin_actions_and_is_refused(console: Console, server: Server) -> None:
    make_job(server, "browser-operated", name="Operated")
    page = console.page
    console.login(OPERATOR)
    nav = page.locator("nav.nav")
    nav.get_by_role("link", name="Jobs").wait_for()
    assert nav.get_by_role("link", name="Audit log").count() == 0
    assert nav.get_by_role("link", name="Users").count() == 0
    console.goto("/jobs?q=browser-operated")
    row = page.locator("tr[data-job=browser-operated]")
    row.wait_for()
    assert row.locator("[data-action=run]").count() == 1
    assert row.locator("[data-action=pause]").count() == 1
    assert row.locator("[data-action=edit]").count() == 0
    assert row.locator("[data-action=delete]").count() == 0
    assert page.get_by_role("link", name="New job").count() == 0
    for path in ("/users", "/audit", "/jobs/new"):
        console.goto(path)
        page.get_by_text("This page is for admins.").wait_for()
    # And the API refuses what the console hides, even from this page's session.
    status = page.evaluate(
        """async () => {
            const me = await (await fetch('/api/me')).json();
            const r = await fetch('/api/jobs/browser-operated', {
                method: 'DELETE', headers: {'X-CSRF-Token': me.csrf_token}});
            return r.status;
        }"""
    )
    assert status == 403
    # Without the CSRF token a cookie session cannot write at all.
    status = page.evaluate(
        "async () => (await fetch('/api/jobs/browser-operated/pause', {method: 'POST'})).status"
    )
    assert status == 403


def test_admin_pages_audit_users_tokens(console: Console) -> None:
    page = console.page
    console.login()
    page.get_by_role("link", name="Audit log").click()
    page.get_by_role("heading", name="Audit log").wait_for()
    page.locator("tbody tr").first.wait_for()
    page.get_by_role("link", name="Users").click()
    page.get_by_role("cell", name=re.compile(OPERATOR[0])).wait_for()
    page.get_by_role("link", name="API tokens").click()
    page.fill("[data-field=token-name] input", "ci")
    page.get_by_role("button", name="Create token").click()
    token = page.get_by_test_id("new-token")
    token.wait_for()
    value = token.inner_text()
    assert value.startswith("tw_")
    page.get_by_role("cell", name="ci", exact=True).wait_for()
    page.get_by_role("button", name="Done").click()
    assert page.get_by_test_id("new-token").count() == 0
    assert value not in page.content()  # shown once, then gone


def test_dashboard_screenshot(console: Console, server: Server) -> None:
    page = console.page
    console.login()
    page.get_by_text("Scheduler nodes").wait_for()
    page.wait_for_selector(".chart canvas")
    page.locator(".tile-n").first.wait_for()
    console.screenshot("dashboard")
    console.goto("/runs")
    page.get_by_test_id("runs-table").wait_for()
    console.screenshot("runs")
