"""The maintenance built-ins in the template gallery, in Chinese: their gallery cards and
each built-in's form show no English outside identifiers; a job made through one form."""

from __future__ import annotations

import pytest

from tests.browser.conftest import Console, Server
from tests.browser.test_day_one import english_on
from tickwork.builtins.catalog import BUILTINS

pytestmark = pytest.mark.browser


def test_builtin_templates_in_chinese(console: Console, server: Server) -> None:
    with server.api() as client:
        url = f"sqlite:///{server.data_dir / 'bitemplates.db'}"
        body = {"name": "bitemplates_db", "kind": "database", "fields": {"url": url}}
        made = client.post("/api/connections", json=body)
        assert made.status_code == 201, made.text
    page = console.page
    console.login()
    console.set_lang("zh-CN")
    console.goto("/templates")
    page.get_by_role("heading", name="慢查询检查").wait_for()
    # only the built-ins' cards (the shipped db-backup's description names its commands)
    page.evaluate(
        """names => document.querySelectorAll('.template-card').forEach(card => {
             if (!names.includes(card.querySelector('.mono')?.textContent)) card.remove();
           })""",
        list(BUILTINS),
    )
    assert page.locator(".template-card").count() == len(BUILTINS)
    found = english_on(console, "/templates")
    for name in BUILTINS:
        console.goto(f"/templates/{name}")
        page.locator("[data-testid=template-form] input[name=schedule]").wait_for()
        found += english_on(console, f"/templates/{name}")
    assert not found, "English on zh-CN pages:\n" + "\n".join(found)

    console.goto("/templates/check_slow_queries")
    form = page.locator("[data-testid=template-form]")
    form.locator("input[name=id]").fill("bitemplates-slow")
    form.locator("select[name=connection]").select_option("bitemplates_db")
    form.locator("input[name=threshold_s]").fill("2")
    form.locator("button[type=submit]").click()
    page.locator("[data-testid=template-created]").get_by_text("bitemplates-slow").wait_for()
    with server.api() as client:
        job = client.get("/api/jobs/bitemplates-slow").json()
    assert job["target"]["name"] == "check_slow_queries"
    assert job["target"]["connection"] == "bitemplates_db"
    assert job["target"]["threshold_s"] == 2
