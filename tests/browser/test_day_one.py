"""A new user's day one in the console (issue 10), in Chromium against a live ``tickwork
serve``: every page in zh-CN without a word of English outside identifiers, times and code;
every instant with its zone; the runs found by date range and by text in their log; "run with
parameters"; a job a file defines shown as such, read-only; the concurrency policy in words;
sub-millisecond durations; a duration chart whose time labels do not collide; a 120-character
job id that does not widen the page; the screenshots of docs/ in both languages."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import Console, Server, open_console, serving
from tests.browser.test_console import make_job

pytestmark = pytest.mark.browser

# Latin words a Chinese page may show: the product's name and technical names that are not
# translated in Chinese software (as in "API 令牌", "Cron 表达式", "Python 函数").
ALLOWED = {"Tickwork", "tickwork", "Cron", "cron", "Python", "asyncio", "Bearer", "Cookie", "Unix"}
# ... and the job kinds' (issue 17): "Shell 命令", "PostgreSQL 数据库"
ALLOWED |= {"Shell", "Redis", "PostgreSQL", "MySQL", "MariaDB", "SQLite", "Celery"}

# Collects every run of Latin letters in the page's text (text nodes, placeholders, titles,
# labels) outside what is data or code: elements marked translate="no" (ids, names, zones),
# <code>, <pre>, and chunks that look like identifiers (digits, paths, dotted or colon names).
ENGLISH_ON_PAGE = r"""
(allowed) => {
  const allow = new Set(allowed);
  const skip = 'code, pre, script, style, svg, canvas, [translate="no"]';
  const found = [];
  const check = (text, where) => {
    const chunks = text.split(/[\s\u3000-\u303f\uff00-\uffef\u4e00-\u9fff\u2010-\u206f]+/);
    for (const chunk of chunks) {
      if (!chunk || /[0-9_./:@#=\\<>{}\[\]$%*?&+|~^]/.test(chunk)) continue;
      for (const word of chunk.match(/[A-Za-z]+(?:['-][A-Za-z]+)*/g) ?? []) {
        if (word.length < 2 || allow.has(word) || /^[A-Z]{2,}$/.test(word)) continue;
        found.push(`${word}: "${text.trim().slice(0, 90)}" (${where})`);
      }
    }
  };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!el || el.closest(skip)) continue;
    check(n.textContent ?? '', el.tagName.toLowerCase());
  }
  for (const el of document.querySelectorAll('[placeholder], [title], [aria-label], [alt]')) {
    if (el.closest(skip)) continue;
    for (const name of ['placeholder', 'title', 'aria-label', 'alt']) {
      const value = el.getAttribute(name);
      if (value) check(value, `${el.tagName.toLowerCase()}[${name}]`);
    }
  }
  return found;
}
"""


def english_on(console: Console, what: str) -> list[str]:
    console.page.wait_for_timeout(250)  # let the page's own requests settle
    found: list[str] = console.page.evaluate(ENGLISH_ON_PAGE, sorted(ALLOWED))
    return [f"{what}: {item}" for item in found]


def wait_run(
    server: Server, run_id: int, done: tuple[str, ...] = ("succeeded", "failed")
) -> dict[str, Any]:
    with server.api() as client:
        for _ in range(300):
            run: dict[str, Any] = client.get(f"/api/runs/{run_id}").json()
            if run["status"] in done:
                return run
            time.sleep(0.1)
    raise AssertionError(f"run {run_id} did not end: {run}")


def run_now(server: Server, job_id: str, **body: Any) -> int:
    with server.api() as client:
        response = client.post(f"/api/jobs/{job_id}/run", json=body or None)
        assert response.status_code == 202, response.text
        return int(response.json()["run_id"])


def file_owned_job(server: Server, tmp_path: Path) -> Path:
    """A job defined in a job file, synced into the server's database by a client (as
    `tickwork serve --jobs` would at its start)."""
    from tickwork import Tickwork
    from tickwork.settings import Settings

    path = tmp_path / "jobs.yaml"
    path.write_text(
        "jobs:\n  - id: from-file\n    name: 来自文件的任务\n    target: tests.browser.tasks:noop\n"
        "    cron: '0 4 * * *'\n    timezone: Asia/Shanghai\n"
    )
    tw = Tickwork(settings=Settings(data_dir=server.data_dir), check_targets=False)
    try:
        tw.sync_job_files([path])
    finally:
        tw.close()
    return path


SEC = 1_000_000
# A counted missed record as a node writes one after downtime: 155 fires of a 5-second job,
# 10:00:05 to 10:12:55 in Asia/Shanghai (the browser's zone).
MISSED_FIRST = datetime(2026, 11, 24, 2, 0, 5, tzinfo=UTC)


def counted_missed_record(server: Server) -> int:
    from tickwork import Tickwork
    from tickwork.engine.planning import missed_reason
    from tickwork.settings import Settings
    from tickwork.store.runs import NewRun
    from tickwork.triggers.base import to_us

    make_job(
        server, "zh-missed", name="每五秒", paused=True,
        trigger={"kind": "interval", "args": {"seconds": 5}}, policies={"misfire_policy": "skip"},
    )  # fmt: skip
    first = to_us(MISSED_FIRST)
    last = first + 154 * 5 * SEC
    finished = last + 3 * SEC
    tw = Tickwork(settings=Settings(data_dir=server.data_dir), check_targets=False)
    try:
        job = tw.get_job("zh-missed")
        assert job is not None
        record = NewRun(
            job_id="zh-missed", scheduled_for=first, due_at=first, reason="schedule",
            status="missed", finished_at=finished,
            error=missed_reason(job.record, 155, 0, first, finished),
            fires=155, last_scheduled_for=last,
        )  # fmt: skip
        with tw.store.db.write() as conn:
            return tw.store.runs.insert_one(conn, record, finished)
    finally:
        tw.close()


@pytest.fixture(scope="module")
def day_one(server: Server, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Jobs of every kind, runs of every reason the engine gives without waiting for a
    catch-up, and a job owned by a job file."""
    make_job(server, "zh-cron", name="每日报表", description="每天凌晨生成报表")
    make_job(
        server, "zh-interval", name="心跳", trigger={"kind": "interval", "args": {"minutes": 30}}
    )
    make_job(
        server, "zh-date", name="年终结算",
        trigger={"kind": "date", "args": {"run_date": "2030-12-31T23:59:00"}},
    )  # fmt: skip
    make_job(
        server, "zh-fail", name="不稳定的上游", target={"ref": "tests.browser.tasks:fail"},
        policies={"retries": 1, "retry_backoff_s": 0.5, "retry_backoff_max_s": 0.5},
    )  # fmt: skip
    make_job(
        server, "zh-tick", name="每两秒", trigger={"kind": "cron", "expr": "*/2 * * * * *"},
        policies={"concurrency_policy": "replace", "max_instances": 2},
    )  # fmt: skip
    make_job(
        server, "zh-say", name="说一个词", target={"ref": "tests.browser.tasks:say",
        "kwargs": {"word": "needle-alpha"}}, parameters=[{"name": "word", "type": "string"}],
    )  # fmt: skip
    failed = run_now(server, "zh-fail")
    wait_run(server, failed, ("failed",))
    said = run_now(server, "zh-say")
    wait_run(server, said)
    with server.api() as client:
        retry = None
        for _ in range(300):
            runs = client.get("/api/runs", params={"job_id": "zh-fail"}).json()["items"]
            retry = next(
                (r for r in runs if r["reason"] == "retry" and r["status"] == "failed"), None
            )
            ticks = client.get("/api/runs", params={"job_id": "zh-tick"}).json()["items"]
            if retry and any(r["status"] == "succeeded" for r in ticks):
                break
            time.sleep(0.1)
        assert retry is not None, "no retry run"
        client.post("/api/jobs/zh-tick/pause").raise_for_status()
        scheduled = next(r for r in ticks if r["reason"] == "schedule")
    file_owned_job(server, tmp_path_factory.mktemp("job-file"))
    missed = counted_missed_record(server)
    return {
        "failed": failed,
        "retry": retry["id"],
        "said": said,
        "scheduled": scheduled["id"],
        "missed": missed,
    }


@pytest.mark.parametrize("console", ["zh-CN"], indirect=True)
def test_no_english_on_any_zh_cn_page(
    console: Console, server: Server, day_one: dict[str, Any]
) -> None:
    page = console.page
    found: list[str] = []
    console.goto("/login")
    page.get_by_role("heading", name="登录").wait_for()
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", "wrong password")
    page.click("button[type=submit]")
    page.get_by_text("用户名或密码错误").first.wait_for()
    found += english_on(console, "/login")
    console.login(("admin", "admin password 42"))
    assert page.evaluate("document.documentElement.lang") == "zh-CN"

    page.get_by_text("调度节点").wait_for()
    page.wait_for_selector(".chart canvas")
    found += english_on(console, "/")
    page.get_by_role("button", name="暂停调度器").click()
    page.get_by_role("dialog").wait_for()
    found += english_on(console, "/ (pause dialog)")
    page.get_by_role("dialog").get_by_role("button", name="取消").click()

    console.goto("/jobs")
    page.locator("tr[data-job=zh-cron]").wait_for()
    found += english_on(console, "/jobs")
    page.locator("tr[data-job=zh-say] [data-action=delete]").click()
    page.get_by_role("dialog").wait_for()
    found += english_on(console, "/jobs (delete dialog)")
    page.get_by_role("dialog").get_by_role("button", name="取消").click()

    for job_id in (
        "zh-cron", "zh-interval", "zh-date", "zh-fail", "zh-tick", "from-file", "zh-missed",
    ):  # fmt: skip
        console.goto(f"/jobs/{job_id}")
        page.locator(".job-title").wait_for()
        page.get_by_text("变更历史").wait_for()
        page.locator(".card .table, .card .empty").first.wait_for()
        found += english_on(console, f"/jobs/{job_id}")
    for path in ("/jobs/zh-cron/edit", "/jobs/from-file/edit"):
        console.goto(path)
        page.locator("input[name=name]").wait_for()
        page.get_by_test_id("cron-description").locator("text=/\\d/").first.wait_for()
        found += english_on(console, path)

    # the editor's refusals, from the API (by code) and its own (bad JSON)
    console.goto("/jobs/new")
    page.fill("input[name=id]", "-bad id")
    page.fill("input[name=name]", "名" * 201)
    page.fill("input[name=target]", "tests.browser.tasks:noop")
    page.fill("input[name=expr]", "0 0 30 2 *")
    page.get_by_text("永远不会触发（2 月没有 30 日）").wait_for()
    page.click("[data-action=save]")
    page.locator("[data-field=name] .field-error", has_text="最多 200 个字符").wait_for()
    page.fill("input[name=name]", "名字")
    page.fill("input[name=expr]", "0 2 * * *")
    page.click("[data-action=save]")
    page.locator("[data-field=id] .field-error", has_text="不是有效的任务 ID").wait_for()
    page.fill("textarea[name=args]", "[1, ")
    page.locator("[data-field=args] .field-error", has_text="不是有效的 JSON").wait_for()
    found += english_on(console, "/jobs/new (errors)")

    console.goto("/runs")
    page.get_by_test_id("runs-table").wait_for()
    found += english_on(console, "/runs")
    console.goto("/runs?q=needle-alpha&since=2020-01-01T00%3A00%3A00.000Z")
    page.locator("[data-testid=runs-table] tbody tr").first.wait_for()
    found += english_on(console, "/runs (search, range)")
    page.fill("input[name=until]", "2020-13-")
    page.get_by_text("请按“年-月-日 时:分”输入时间").wait_for()
    found += english_on(console, "/runs (a time that is not one)")
    console.goto("/runs?job=zh-missed")
    page.get_by_test_id("missed-fires").wait_for()
    found += english_on(console, "/runs (a counted missed record)")
    for key in ("failed", "retry", "said", "scheduled", "missed"):
        console.goto(f"/runs/{day_one[key]}")
        page.get_by_test_id("run-reason").wait_for()
        page.get_by_test_id("live-state").locator("text=已完整").wait_for()
        found += english_on(console, f"/runs/{day_one[key]} ({key})")

    console.goto("/audit")
    page.locator("tbody tr").first.wait_for()
    page.locator("tbody tr button.link").first.click()
    page.locator(".audit-json").wait_for()
    found += english_on(console, "/audit")
    console.goto("/users")
    page.get_by_role("cell", name="oscar").wait_for()
    found += english_on(console, "/users")
    console.goto("/tokens")
    page.fill("[data-field=token-name] input", "zh-ci")
    page.get_by_role("button", name="创建", exact=True).click()
    page.get_by_test_id("new-token").wait_for()
    found += english_on(console, "/tokens")
    console.goto("/account")
    page.get_by_test_id("display-zone").wait_for()
    found += english_on(console, "/account")
    console.goto("/jobs/a/b/c")
    page.get_by_text("页面不存在").wait_for()
    found += english_on(console, "/jobs/a/b/c")
    console.goto("/jobs/ghost-job-1")
    page.get_by_text("不存在").first.wait_for()
    found += english_on(console, "/jobs/ghost-job-1")
    from tests.browser.test_kinds_console import kind_pages_in_chinese  # (it imports this one)

    found += kind_pages_in_chinese(console, server)
    assert not found, "English on zh-CN pages:\n" + "\n".join(found)


def test_a_counted_missed_record_shows_its_fires(
    console: Console, server: Server, day_one: dict[str, Any]
) -> None:
    page = console.page
    console.login()
    english = "missed 155 fires, 10:00:05 – 10:12:55 UTC+8"
    chinese = "错过 155 次（10:00:05 – 10:12:55 UTC+8）"
    row = page.locator(f"[data-testid=runs-table] tr:has(a[href='/runs/{day_one['missed']}'])")
    for path in ("/runs?job=zh-missed", "/jobs/zh-missed"):  # the runs list, the job's runs
        console.goto(path)
        row.get_by_test_id("missed-fires").wait_for()
        assert row.get_by_test_id("missed-fires").inner_text() == english
        assert "2026-11-24 10:00:05 UTC+8" in row.inner_text()  # the first fire, with its date
        console.set_lang("zh-CN")
        assert row.get_by_test_id("missed-fires").inner_text() == chinese
        console.set_lang("en")
    console.goto(f"/runs/{day_one['missed']}")
    fires = page.get_by_test_id("missed-fires")
    fires.wait_for()
    assert fires.inner_text() == english
    assert fires.get_attribute("title") == "2026-11-24 02:00:05 – 2026-11-24 02:12:55 UTC"
    console.set_lang("zh-CN")
    assert fires.inner_text() == chinese
    page.get_by_text("触发次数").wait_for()
    console.set_lang("en")
    # a record of one fire says nothing more
    console.goto(f"/runs/{day_one['said']}")
    page.get_by_test_id("run-reason").wait_for()
    assert page.get_by_test_id("missed-fires").count() == 0


def test_every_time_names_its_zone(
    console: Console, server: Server, day_one: dict[str, Any]
) -> None:
    make_job(server, "ny-report", name="NY report", timezone="America/New_York")
    page = console.page
    console.login()
    # the browser is in Asia/Shanghai (UTC+8): runs show that offset, a job's next run its zone
    console.goto("/jobs?q=ny-report")
    cell = page.locator("tr[data-job=ny-report] time")
    cell.wait_for()
    assert re.fullmatch(r"\d{4}-\d\d-\d\d 03:00:00 America/New_York", cell.inner_text().strip())
    title = cell.get_attribute("title") or ""
    assert "Asia/Shanghai: " in title
    assert "UTC: " in title
    assert (
        "At 03:00 (America/New_York)"
        in page.locator("tr[data-job=ny-report] .schedule").inner_text()
    )
    console.goto(f"/runs/{day_one['said']}")
    started = page.locator("dd time").nth(2)
    started.wait_for()
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\+8", started.inner_text().strip())
    # a per-user display zone: times follow it, and say so
    console.goto("/account")
    page.get_by_test_id("display-zone").select_option("UTC")
    console.goto(f"/runs/{day_one['said']}")
    page.locator("dd time").nth(2).wait_for()
    assert page.locator("dd time").nth(2).inner_text().strip().endswith(" UTC")
    assert page.evaluate("localStorage.getItem('tickwork.zone')") == "UTC"
    # an interval's description has no microseconds
    console.goto("/jobs/zh-interval")
    text = page.locator(".kv").first.inner_text()
    assert "Every 30 minutes" in text
    assert not re.search(r"\d\d:\d\d:\d\d\.\d", text), text


def test_runs_found_by_text_and_by_date(
    console: Console, server: Server, day_one: dict[str, Any]
) -> None:
    other = run_now(server, "zh-say", params={"kwargs": {"word": "needle-beta"}})
    wait_run(server, other)
    page = console.page
    console.login()
    console.goto("/runs")
    rows = page.locator("[data-testid=runs-table] tbody tr")
    rows.first.wait_for()
    page.fill("input[name=q]", "NEEDLE-ALPHA")  # case-insensitive, in the log
    page.wait_for_url(re.compile(r"q=NEEDLE-ALPHA"))
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=runs-table] tbody tr').length === 1"
    )
    assert rows.first.locator("a").first.inner_text() == f"#{day_one['said']}"
    page.fill("input[name=q]", "upstream refused")  # in the error
    page.wait_for_url(re.compile(r"q=upstream\+refused"))
    page.wait_for_function(f"() => {ROWS} === 2")
    page.fill("input[name=q]", "needle")
    page.wait_for_url(re.compile(r"q=needle$"))
    page.wait_for_function(f"() => {ROWS} === 2")
    # a range that ends before the runs: none; one that holds them: both
    page.fill("input[name=until]", "2020-01-")  # not a time yet: said so, nothing applied
    page.get_by_text("Enter a time as YYYY-MM-DD HH:MM").wait_for()
    page.fill("input[name=until]", "2020-01-01 00:00")
    page.wait_for_url(re.compile(r"until=2019-12-31T16%3A00%3A00.000Z"))  # 00:00 in Shanghai
    page.get_by_text("No runs.").wait_for()
    page.fill("input[name=until]", "")
    page.fill("input[name=since]", "2020-01-01")  # a day: from its midnight
    page.wait_for_url(re.compile(r"since=2019-12-31T16%3A00%3A00.000Z$"))
    page.wait_for_function(f"() => {ROWS} === 2")
    page.get_by_role("button", name="Clear filters").click()
    page.wait_for_function(f"() => {ROWS} > 2")


ROWS = "document.querySelectorAll('[data-testid=runs-table] tbody tr').length"
PARAMETERS = [
    {
        "name": "days",
        "type": "integer",
        "default": 7,
        "minimum": 1,
        "maximum": 30,
        "help": "keep so many days",
    },
    {"name": "mode", "type": "string", "choices": ["fast", "full"], "required": True},
    {"name": "dry_run", "type": "boolean", "default": False},
    {"name": "note", "type": "string", "max_length": 20},
]


def test_run_with_parameters_dialog(console: Console, server: Server) -> None:
    """The dialog from a job's declared ``parameters`` (through the real job API), the body
    it sends, and the run that gets them."""
    make_job(server, "with-params", name="With parameters",
             target={"ref": "tests.browser.tasks:keep"}, parameters=PARAMETERS)  # fmt: skip
    page = console.page
    sent: list[dict[str, Any]] = []
    page.on(
        "request",
        lambda r: (
            sent.append(r.post_data_json) if r.url.endswith("/api/jobs/with-params/run") else None
        ),
    )
    console.login()
    console.goto("/jobs/with-params")
    page.get_by_role("button", name="Run with parameters").click()
    dialog = page.get_by_test_id("run-dialog")
    dialog.wait_for()
    assert dialog.locator("input[name=days]").input_value() == "7"
    dialog.get_by_text("keep so many days").wait_for()
    dialog.get_by_text("from 1 to 30").wait_for()
    dialog.locator("[data-action=run-submit]").click()
    dialog.locator("[data-field=mode] .field-error", has_text="required").wait_for()
    assert sent == []  # nothing sent while a required parameter is missing
    dialog.locator("select[name=mode]").select_option("full")
    dialog.locator("input[name=days]").fill("3")
    dialog.locator("select[name=dry_run]").select_option("true")
    dialog.locator("[data-action=run-submit]").click()
    page.wait_for_url(re.compile(r"/runs/\d+$"))
    assert sent == [{"params": {"kwargs": {"days": 3, "mode": "full", "dry_run": True}}}]
    run_id = int(page.url.rsplit("/", 1)[1])
    run = wait_run(server, run_id)
    assert run["params"] == {"kwargs": {"days": 3, "mode": "full", "dry_run": True}}
    assert json.loads(run["result"]) == "days=3 mode=full dry_run=True note="
    # a value beyond a declared bound is the API's refusal, shown in the dialog
    console.goto("/jobs/with-params")
    page.get_by_role("button", name="Run with parameters").click()
    dialog.wait_for()
    dialog.locator("select[name=mode]").select_option("fast")
    dialog.locator("input[name=days]").fill("31")
    dialog.locator("[data-action=run-submit]").click()  # the form does not check bounds
    refused = dialog.locator("[data-field=days] .field-error")
    refused.filter(has_text="31 is above the maximum 30").wait_for()
    assert page.url.endswith("/jobs/with-params")


def test_run_with_parameters_declared_through_the_api(console: Console, server: Server) -> None:
    with server.api() as client:
        body = {
            "id": "declared-params",
            "name": "Declared parameters",
            "target": {"ref": "tests.browser.tasks:say", "kwargs": {"word": "x"}},
            "trigger": {"kind": "cron", "expr": "0 3 * * *"},
            "parameters": [
                {"name": "word", "type": "string", "default": "hello", "max_length": 20}
            ],
        }
        created = client.post("/api/jobs", json=body)
        assert created.status_code == 201, created.text
        (declared,) = created.json()["parameters"]
        assert {k: v for k, v in declared.items() if v is not None} == {
            "name": "word", "type": "string", "default": "hello", "max_length": 20,
            "required": False,
        }  # fmt: skip
    page = console.page
    console.login()
    console.goto("/jobs/declared-params")
    page.get_by_role("button", name="Run with parameters").click()
    dialog = page.get_by_test_id("run-dialog")
    assert dialog.locator("input[name=word]").input_value() == "hello"
    dialog.locator("input[name=word]").fill("from-the-dialog")
    page.locator("[data-action=run-submit]").click()
    page.wait_for_url(re.compile(r"/runs/\d+$"))
    run = wait_run(server, int(page.url.rsplit("/", 1)[1]))
    assert run["status"] == "succeeded", run
    assert json.loads(run["result"]) == "from-the-dialog"
    assert run["params"] == {"kwargs": {"word": "from-the-dialog"}}


def test_a_job_from_a_file_is_read_only(
    console: Console, server: Server, day_one: dict[str, Any]
) -> None:
    page = console.page
    console.login()
    console.goto("/jobs?q=from-file")
    row = page.locator("tr[data-job=from-file]")
    badge = row.get_by_test_id("owner-badge")
    badge.wait_for()
    assert badge.inner_text() == "defined in jobs.yaml"
    assert (badge.get_attribute("title") or "").endswith("/jobs.yaml")
    assert row.locator("[data-action=delete]").count() == 0
    assert row.locator("[data-action=edit]").inner_text() == "Definition"
    row.locator("[data-action=pause]").click()  # pausing is still the operator's call
    row.locator(".badge", has_text="Paused").wait_for()
    row.locator("[data-action=resume]").click()
    row.locator(".badge", has_text="Scheduled").wait_for()
    console.goto("/jobs/from-file")
    page.get_by_test_id("owner").get_by_text(
        re.compile(r"Defined in the job file /\S+jobs\.yaml")
    ).wait_for()
    console.goto("/jobs/from-file/edit")
    page.get_by_test_id("read-only").wait_for()
    assert "change it there" in page.get_by_test_id("read-only").inner_text()
    assert page.locator("input[name=name]").is_disabled()
    assert page.locator("[data-action=save]").count() == 0
    console.set_lang("zh-CN")
    assert page.get_by_test_id("owner-badge").inner_text() == "由文件 jobs.yaml 定义"
    console.set_lang("en")


def test_concurrency_in_words_durations_and_the_chart(console: Console, server: Server) -> None:
    make_job(
        server, "quick", name="Quick", policies={"concurrency_policy": "allow", "max_instances": 1}
    )
    for _ in range(3):
        wait_run(server, run_now(server, "quick"))
    page = console.page
    console.login()
    console.goto("/jobs/quick")
    concurrency = page.get_by_test_id("concurrency")
    concurrency.wait_for()
    assert (
        concurrency.inner_text() == "One at a time: a fire while a run is still running is skipped"
    )
    assert "overlap" not in page.content().lower()
    # a noop takes well under a millisecond: shown as such, not "0 ms"
    cells = page.locator("[data-testid=runs-table] tbody td.right")
    cells.first.wait_for()
    durations = cells.all_inner_texts()
    assert all(re.fullmatch(r"(0\.\d+|\d+) ms", d) for d in durations), durations
    assert "0 ms" not in durations
    chart = page.locator(".chart[data-x-labels]")
    chart.wait_for()
    labels = json.loads(chart.get_attribute("data-x-labels") or "[]")
    space = int(chart.get_attribute("data-x-space") or "0")
    widest = page.evaluate(
        "(labels) => { const c = document.createElement('canvas').getContext('2d');"
        " c.font = '12px system-ui, sans-serif';"
        " return Math.max(...labels.map((l) => c.measureText(l).width)); }",
        labels,
    )
    assert len(labels) >= 2, labels
    assert len(set(labels)) == len(labels), labels  # no two ticks with the same label
    assert space >= widest + 12, (space, widest, labels)  # room between neighbouring labels


def test_a_long_job_id_does_not_widen_the_page(console: Console, server: Server) -> None:
    long_id = "very-long-job-id-" + "x" * 103
    assert len(long_id) == 120
    make_job(server, long_id, name="Long id")
    page = console.page
    console.login()
    console.goto("/jobs?q=very-long-job-id")
    page.locator(f"tr[data-job={long_id}]").wait_for()
    # nothing spills out of its cell (over the next columns) or widens the page
    widths = page.evaluate(
        "() => { const c = document.querySelector('tr[data-job^=very-long] .name-cell');"
        " const t = document.querySelector('[data-testid=jobs-table]');"
        " return [c.scrollWidth, c.clientWidth, t.scrollWidth, document.querySelector('main')"
        ".clientWidth, document.documentElement.scrollWidth, window.innerWidth]; }"
    )
    cell_content, cell, table, main, page_width, viewport = widths
    assert cell_content <= cell + 1, widths
    assert table <= main, widths
    assert page_width <= viewport, widths
    console.goto(f"/jobs/{long_id}")
    page.locator(".job-title").wait_for()
    shown = page.evaluate(
        "() => { const id = document.querySelector('.job-id');"
        " return [id.scrollWidth, id.clientWidth, document.documentElement.scrollWidth]; }"
    )
    assert shown[0] <= shown[1] + 1, shown
    assert shown[2] <= viewport, shown


def test_audit_filter_by_action(console: Console, server: Server) -> None:
    make_job(server, "audited", name="Audited")
    with server.api() as client:
        client.post("/api/jobs/audited/pause").raise_for_status()
    page = console.page
    console.login()
    console.goto("/audit")
    page.locator("tbody tr").first.wait_for()
    page.locator("select[name=action]").select_option(label="paused the job")
    page.wait_for_function(
        "() => [...document.querySelectorAll('tbody tr td:nth-child(3)')]"
        ".every(td => td.textContent === 'paused the job')"
    )
    assert page.locator("tbody tr").count() >= 1


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`tickwork serve --demo` (its job file's jobs, runs that succeed, fail, retry and time
    out), for the screenshots of docs/: what a new user sees after `make run`."""
    with serving(tmp_path_factory.mktemp("demo-data"), "--demo") as srv:
        with srv.api() as client:
            deadline = time.monotonic() + 90  # the demo's flaky job fails about every 2nd run
            while time.monotonic() < deadline:
                runs = client.get("/api/runs", params={"limit": 200}).json()["items"]
                beats = [r for r in runs if r["job_id"] == "demo-heartbeat" and r["duration_s"]]
                failed = [
                    r for r in runs if r["job_id"] == "demo-flaky" and r["status"] == "failed"
                ]
                if len(beats) >= 3 and failed:
                    break
                time.sleep(1)
        yield srv


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_screenshots(browser: Any, demo: Server, lang: str) -> None:
    """docs/screenshots/*.png in both languages (TICKWORK_SCREENSHOTS=1 saves them there)."""
    suffix = "" if lang == "en" else "-zh-CN"
    with open_console(browser, demo, "en-US" if lang == "en" else "zh-CN") as console:
        page = console.page
        console.login()
        console.goto("/")
        page.wait_for_selector(".chart canvas")
        page.locator(".tile-n").first.wait_for()
        console.screenshot(f"dashboard{suffix}")
        console.goto("/jobs")
        page.locator("tr[data-job=demo-heartbeat]").wait_for()
        console.screenshot(f"jobs{suffix}")
        console.goto("/jobs/demo-heartbeat")
        page.wait_for_selector(".chart canvas")
        console.screenshot(f"job-detail{suffix}")
        console.goto("/jobs/new")
        page.fill("input[name=id]", "nightly-report")
        page.fill("input[name=name]", "Nightly report" if lang == "en" else "每日报表")
        page.fill("input[name=target]", "app.tasks:nightly_report")
        page.fill("input[name=expr]", "30 2 * * 1-5")
        page.get_by_test_id("next-fires").wait_for()
        console.screenshot(f"job-editor{suffix}")
        console.goto("/jobs/demo-report/edit")
        page.get_by_test_id("read-only").wait_for()
        console.screenshot(f"job-from-file{suffix}")
        with demo.api() as client:
            runs = client.get("/api/runs", params={"job_id": "demo-flaky", "limit": 50}).json()
        failed = [r for r in runs["items"] if r["status"] == "failed"] or runs["items"]
        console.goto(f"/runs/{failed[0]['id']}")
        page.get_by_test_id("run-reason").wait_for()
        console.screenshot(f"run-detail{suffix}")
        console.goto("/runs?q=upstream")
        page.get_by_test_id("runs-table").wait_for()
        console.screenshot(f"runs{suffix}")
