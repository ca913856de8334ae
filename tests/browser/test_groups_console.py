"""Groups in the console (issue 11, item 3), in a real browser against a live ``tickwork
serve``: an admin declares a group and gives a viewer the operator role in it (and hides
another group from her) on the users page; she then sees her role per group, pauses the
whole group after a confirmation that counts the jobs it touches, cannot act on a group
where she is a viewer and does not see the hidden one; the pages in Chinese."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.conftest import Server, open_console
from tests.browser.test_day_one import english_on

pytestmark = pytest.mark.browser
GINA = ("gina", "gina password 4242")


def make_job(server: Server, job_id: str, group: str, **changes: Any) -> None:
    body: dict[str, Any] = {
        "id": job_id,
        "name": job_id,
        "target": {"ref": "tests.browser.tasks:noop"},
        "trigger": {"kind": "cron", "expr": "0 3 * * *"},
        "timezone": "Asia/Shanghai",
        "group": group,
        **changes,
    }
    with server.api() as client:
        response = client.post("/api/jobs", json=body)
        assert response.status_code == 201, response.text


def test_group_roles_and_counted_group_actions(browser: Any, server: Server) -> None:
    with server.api() as client:
        made = client.post(
            "/api/users", json={"username": GINA[0], "password": GINA[1], "role": "viewer"}
        )
        assert made.status_code == 201, made.text
    for job_id, group in (
        ("nightly-1", "nightly"),
        ("nightly-2", "nightly"),
        ("report-1", "reports"),
    ):
        make_job(server, job_id, group)
    make_job(server, "payroll-1", "payroll")
    make_job(server, "baobiao-1", "报表")

    with open_console(browser, server) as admin:
        page = admin.page
        admin.login()
        admin.goto("/groups")
        page.fill("[data-field=group-name] input", "nightly")
        page.fill("[data-field=group-description] input", "Nightly batch jobs")
        page.get_by_role("button", name="Declare group").click()
        row = page.locator("tr[data-group=nightly]")
        row.get_by_text("Nightly batch jobs").wait_for()
        assert row.locator("td").nth(2).inner_text() == "2"
        assert "only named by jobs" in page.locator("tr[data-group=payroll]").inner_text()
        admin.screenshot("groups")
        # her grants, on the users page
        admin.goto("/users")
        page.locator("tr", has_text="gina").locator("[data-action=grants]").click()
        dialog = page.get_by_role("dialog")
        for group, role in (("nightly", "operator"), ("payroll", "none")):
            dialog.locator("[data-field=grant-group] input").fill(group)
            dialog.locator("[data-field=grant-role] select").select_option(role)
            dialog.get_by_role("button", name="Give role").click()
            dialog.locator(f"tr[data-grant={group}]").wait_for()
        admin.screenshot("user-grants")
    with server.api() as client:
        users = {u["username"]: u["id"] for u in client.get("/api/users").json()}
        grants = client.get(f"/api/users/{users['gina']}/grants").json()["grants"]
        assert grants == {"nightly": "operator", "payroll": "none"}

    with open_console(browser, server) as gina:
        page = gina.page
        gina.login(GINA)
        gina.goto("/groups")
        page.locator("tr[data-group=nightly]").wait_for()
        roles = {
            name: page.locator(f"tr[data-group={name}] .badge").inner_text()
            for name in ("nightly", "reports")
        }
        assert roles == {"nightly": "operator", "reports": "viewer"}
        assert page.locator("tr[data-group=payroll]").count() == 0
        # a viewer in "reports": its page offers no group action
        gina.goto("/groups/reports")
        page.locator("tr[data-job=report-1]").wait_for()
        assert page.locator("[data-action=pause-group]").count() == 0
        # operator of "nightly": pausing the group says how many jobs it touches first
        gina.goto("/groups/nightly")
        page.locator("tr[data-job=nightly-2]").wait_for()
        page.click("[data-action=pause-group]")
        touches = page.get_by_test_id("group-touches")
        touches.get_by_text(
            "This touches 2 jobs of the group “nightly” (2 change state)."
        ).wait_for()
        gina.screenshot("group-pause-confirm")
        page.get_by_role("dialog").get_by_role("button", name="Pause group").click()
        page.get_by_text(re.compile(r"Paused 2 jobs of the group “nightly”")).wait_for()
        page.locator("tr[data-job=nightly-1] .badge", has_text="Paused").wait_for()
        gina.screenshot("group-detail")
        # the hidden group's job is not found, in the list or by its address
        gina.goto("/jobs")
        page.locator("tr[data-job=nightly-1]").wait_for()
        assert page.locator("tr[data-job=payroll-1]").count() == 0
    with server.api() as client:
        ours = {"nightly-1", "nightly-2", "report-1", "payroll-1", "baobiao-1"}
        # the server is shared with the other browser tests: compare this test's jobs only
        states = {
            j["id"]: j["paused"]
            for j in client.get("/api/jobs", params={"limit": 500}).json()["items"]
            if j["id"] in ours
        }
        assert states == {
            "nightly-1": True,
            "nightly-2": True,
            "report-1": False,
            "payroll-1": False,
            "baobiao-1": False,
        }

    with open_console(browser, server, "zh-CN") as admin:
        page = admin.page
        admin.login()
        admin.set_lang("zh-CN")
        admin.goto("/groups")
        page.locator("tr[data-group=nightly]").wait_for()
        page.get_by_role("heading", name="分组", exact=True).wait_for()
        found = english_on(admin, "/groups")
        admin.screenshot("groups-zh-CN")
        admin.goto("/groups/报表")
        page.locator("tr[data-job=baobiao-1]").wait_for()
        page.click("[data-action=run-group]")
        page.get_by_test_id("group-touches").get_by_text("其中 1 个状态会改变").wait_for()
        found += english_on(admin, "/groups/报表 (run all, confirming)")
        page.get_by_role("dialog").get_by_role("button", name="取消").click()
        page.click("[data-action=edit-group]")
        page.get_by_role("dialog").wait_for()
        found += english_on(admin, "/groups/报表 (editing)")
        page.get_by_role("dialog").get_by_role("button", name="取消").click()
        assert not found, "\n".join(found)
        admin.goto("/groups/nightly")
        page.locator("tr[data-job=nightly-1]").wait_for()
        page.click("[data-action=resume-group]")
        page.get_by_test_id("group-touches").get_by_text(
            "此操作涉及分组“nightly”中的 2 个任务（其中 2 个状态会改变）。"
        ).wait_for()
        admin.screenshot("group-detail-zh-CN")
        page.get_by_role("dialog").get_by_role("button", name="恢复整个分组").click()
        page.get_by_text("已恢复分组“nightly”中的 2 个任务。").wait_for()
