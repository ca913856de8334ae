"""A built-in maintenance job's run page shows its report as tables (findings with their
severity, metrics, detail tables), in English and Chinese (issue 13)."""

from __future__ import annotations

import re
import sqlite3
import time
from pathlib import Path
from typing import Any

from tests.browser.conftest import Console, Server


def test_run_page_renders_the_report_as_tables(
    console: Console, server: Server, tmp_path: Path
) -> None:
    app_db = tmp_path / "app.db"
    with sqlite3.connect(app_db) as db:  # a file with free pages: a fragmentation finding
        db.execute("CREATE TABLE mnt_pad (id INTEGER PRIMARY KEY, pad BLOB)")
        db.executemany("INSERT INTO mnt_pad (pad) VALUES (?)", [(b"x" * 2000,)] * 500)
        db.commit()
        db.execute("DELETE FROM mnt_pad WHERE id > 50")
        db.commit()
    with server.api() as client:
        made = client.post(
            "/api/connections",
            json={"name": "mnt-app", "kind": "database", "fields": {"url": f"sqlite:///{app_db}"}},
        )
        assert made.status_code == 201, made.text
        job = client.post("/api/jobs", json={
            "id": "mnt-frag", "name": "Fragmentation",
            "target": {"kind": "builtin", "name": "check_table_fragmentation",
                       "connection": "mnt-app", "min_bytes": 0},
            "trigger": {"kind": "cron", "expr": "0 5 * * 1"}, "timezone": "UTC"})  # fmt: skip
        assert job.status_code == 201, job.text
        sizes = client.post("/api/jobs", json={
            "id": "mnt-sizes", "name": "Sizes",
            "target": {"kind": "builtin", "name": "collect_database_sizes",
                       "connection": "mnt-app"},
            "trigger": {"kind": "cron", "expr": "0 3 * * *"}, "timezone": "UTC"})  # fmt: skip
        assert sizes.status_code == 201, sizes.text
        run_id = run_and_wait(client, "mnt-frag")
        for _ in range(2):
            run_and_wait(client, "mnt-sizes")
    page = console.page
    console.login()
    console.goto(f"/runs/{run_id}")
    findings = page.locator(".report-findings")
    findings.wait_for()
    row = findings.locator("tr[data-severity=warning]")
    assert row.locator(".badge").inner_text() == "warning"
    assert "VACUUM" in row.inner_text()
    page.locator(".report-metrics").get_by_text("free_pages").wait_for()
    page.get_by_role("columnheader", name="free_pct").wait_for()
    console.screenshot("run-report")
    console.set_lang("zh-CN")
    page.get_by_role("columnheader", name="建议操作").wait_for()
    assert row.locator(".badge").inner_text() == "警告"
    page.get_by_text(re.compile("原始结果")).wait_for()
    # the sizes job's page charts the sizes it recorded
    console.goto("/jobs/mnt-sizes")
    page.get_by_test_id("size-growth").get_by_text(re.compile("当前")).wait_for()
    page.wait_for_selector(".chart canvas")
    console.set_lang("en")
    page.get_by_test_id("size-growth").get_by_text(re.compile("Now .* per week")).wait_for()


def run_and_wait(client: Any, job_id: str) -> int:
    queued = client.post(f"/api/jobs/{job_id}/run", json={})
    assert queued.status_code == 202, queued.text
    run_id: int = queued.json()["run_id"]
    for _ in range(300):
        if client.get(f"/api/runs/{run_id}").json()["status"] == "succeeded":
            return run_id
        time.sleep(0.1)
    raise AssertionError(f"run {run_id} of {job_id} did not succeed")
