"""Workflows in the console (issue 11), in Chromium against a live ``tickwork serve``: a
workflow with a fan-in step made in the editor (its graph drawn as it is typed), run from
its page; the fan-in step is skipped after an upstream failure while the other branch
succeeds, each step coloured by its state and linked to its run; once the failing job is
fixed, a rerun from the failed steps succeeds, keeping the steps that had succeeded. The
screenshots of docs/ in both languages."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import Console, Server, open_console
from tests.browser.test_console import make_job

pytestmark = pytest.mark.browser

STEPS = [  # step, job, after
    ("extract", "wf-extract", ""),
    ("left", "wf-left", "extract"),
    ("bad", "wf-bad", "extract"),
    ("join", "wf-join", "left, bad"),
    ("side", "wf-side", "left"),
    ("alert", "wf-alert", "bad:failure"),
]


def state_of(console: Console, step: str) -> str:
    row = console.page.locator(f"[data-testid=step-runs] tr[data-step={step}]")
    return str(row.get_attribute("data-state"))


def wait_state(console: Console, step: str, state: str) -> None:
    console.page.locator(
        f"[data-testid=step-runs] tr[data-step={step}][data-state={state}]"
    ).wait_for(timeout=30_000)


def test_make_run_and_rerun_a_workflow(console: Console, server: Server, browser: Any) -> None:
    for _, job, _ in STEPS:
        target = "tests.browser.tasks:fail" if job == "wf-bad" else "tests.browser.tasks:noop"
        make_job(server, job, target={"ref": target})
    page = console.page
    console.login()
    console.goto("/workflows")
    page.get_by_role("link", name="New workflow").click()
    page.fill("input[name=id]", "nightly-etl")
    page.fill("input[name=name]", "Nightly ETL")
    for i, (step, job, after) in enumerate(STEPS):
        if i:
            page.click("[data-action=add-step]")
        page.fill(f"input[name=step-{i}]", step)
        page.select_option(f"select[name=job-{i}]", job)
        page.fill(f"input[name=after-{i}]", after)
    # the preview draws the graph as it is typed: six steps, the fan-in's two edges
    preview = page.locator("[data-testid=workflow-editor] svg.dag")
    assert preview.locator("g[data-step]").count() == len(STEPS)
    assert preview.locator("g[data-edge='left->join']").count() == 1
    assert preview.locator("g[data-edge='bad->alert'].on-failure").count() == 1
    console.screenshot("workflow-editor")
    # a cycle is refused naming the edge, and nothing is saved
    page.fill("input[name=after-0]", "join")
    page.click("[data-action=save-workflow]")
    page.get_by_text("closes a cycle").first.wait_for()
    assert "join -> extract" in page.locator("[data-testid=workflow-editor]").inner_text()
    page.fill("input[name=after-0]", "")
    page.click("[data-action=save-workflow]")
    page.wait_for_url("**/workflows/nightly-etl")
    page.locator("svg.dag g[data-step=join]").wait_for()

    page.click("[data-action=run-workflow]")
    page.wait_for_url("**/workflows/nightly-etl/runs/*")
    first_url = page.url
    wait_state(console, "join", "skipped")
    wait_state(console, "side", "succeeded")
    wait_state(console, "alert", "succeeded")
    assert state_of(console, "bad") == "failed"
    join_row = page.locator("[data-testid=step-runs] tr[data-step=join]")
    assert "upstream failed: bad" in join_row.inner_text()
    page.locator("h1 .badge.st-failed").wait_for()
    # the graph: coloured by state, a step with a run links to it
    graph = page.locator(".card svg.dag").first
    assert graph.locator("g.dag-node.st-skipped[data-step=join]").count() == 1
    assert graph.locator("g.dag-node.st-succeeded[data-step=side]").count() == 1
    assert graph.locator("g.dag-node.st-failed[data-step=bad]").count() == 1
    link = graph.locator("a:has(g[data-step=bad])")
    assert (link.get_attribute("href") or "").startswith("/runs/")
    console.screenshot("workflow-run")

    # the failing job is fixed; the rerun runs the failed step and what follows it
    with server.api() as client:
        fixed = client.patch(
            "/api/jobs/wf-bad", json={"target": {"ref": "tests.browser.tasks:noop"}}
        )
        assert fixed.status_code == 200, fixed.text
    page.click("[data-action=rerun]")
    page.wait_for_url(lambda url: url != first_url and "/runs/" in url)
    wait_state(console, "join", "succeeded")
    wait_state(console, "alert", "skipped")  # nothing failed this time
    assert state_of(console, "bad") == "succeeded"
    for kept in ("extract", "left", "side"):
        row = page.locator(f"[data-testid=step-runs] tr[data-step={kept}]")
        assert "kept" in row.inner_text()
    page.locator("h1 .badge.st-succeeded").wait_for()
    rerun_path = page.url.removeprefix(server.url)

    with open_console(browser, server, "zh-CN") as zh:
        zh.login()
        zh.goto(first_url.removeprefix(server.url))
        zh.page.get_by_role("button", name="从失败步骤重跑").wait_for()
        zh_join = zh.page.locator("[data-testid=step-runs] tr[data-step=join]")
        zh_join.get_by_text("已跳过").wait_for()
        zh_join.get_by_text("上游失败：bad").wait_for()  # the server's reason, in Chinese
        zh.page.get_by_text("失败的步骤：bad").wait_for()
        zh.screenshot("workflow-run-zh-CN")
        zh.goto(rerun_path)
        kept = zh.page.locator("[data-testid=step-runs] tr[data-step=extract]")
        kept.get_by_text("沿用工作流运行").wait_for()
