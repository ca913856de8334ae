"""Workflows in job files (issue 11): ``workflows:`` with ``steps:`` and ``after:`` beside
``jobs:``, a job's ``then:``; synced with the file, refused naming file, workflow and edge."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.engine import wf_tasks
from tests.engine.conftest import wait_for
from tickwork import InvalidInput, Tickwork
from tickwork.clock import FakeClock
from tickwork.errors import Conflict

Make = Callable[..., Tickwork]

FILE = """
jobs:
  - {id: extract, target: tests.engine.wf_tasks:step, kwargs: {tag: extract}, cron: "0 2 * * *",
     paused: true, then: [notify]}
  - {id: load, target: tests.engine.wf_tasks:fail, kwargs: {tag: load}, cron: "0 2 * * *",
     paused: true}
  - {id: notify, target: tests.engine.wf_tasks:step, kwargs: {tag: notify}, cron: "0 2 * * *",
     paused: true}
  - {id: report, target: tests.engine.wf_tasks:step, kwargs: {tag: report}, cron: "0 2 * * *",
     paused: true}
workflows:
  - id: nightly_etl
    name: 每晚 ETL
    cron: "30 1 * * *"
    timezone: Asia/Shanghai
    deadline_s: 3600
    steps:
      - id: extract
      - id: load
        after: [extract]
      - id: report
        after: [load]
      - id: alert
        job: notify
        after: [{step: load, on: failure}]
"""


def write(tmp_path: Path, text: str, name: str = "jobs.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_workflows_and_then_lists_from_a_job_file_run(
    make_tw: Make, tmp_path: Path, clock: FakeClock
) -> None:
    wf_tasks.reset()
    path = write(tmp_path, FILE)
    tw = make_tw(job_files=[str(path)])
    tw.start()
    wf = tw.get_workflow("nightly_etl")
    assert (wf.name, wf.owner, wf.owner_ref) == ("每晚 ETL", "config", str(path.resolve()))
    assert wf.trigger is not None
    assert (wf.trigger["expr"], wf.timezone, wf.deadline_s) == ("30 1 * * *", "Asia/Shanghai", 3600)
    assert [s["job"] for s in wf.steps] == ["extract", "load", "report", "notify"]
    assert tw.get_then("extract") == ["notify"]
    wr = tw.get_workflow_run(tw.run_workflow("nightly_etl"))

    def ended() -> bool:
        return tw.get_workflow_run(wr.id).status != "running"

    wait_for(ended, 30, "the workflow run")
    got = {s.step: (s.state, s.reason) for s in tw.get_workflow_run(wr.id).step_runs}
    assert got["report"] == ("skipped", "upstream failed: load")
    assert got["alert"] == ("succeeded", None)
    # extract's then list queued notify once more, after extract's success
    wait_for(lambda: wf_tasks.order.count("notify") == 2, 30, "the then run of notify")
    wf_tasks.reset()


def test_a_sync_follows_the_file(make_tw: Make, tmp_path: Path) -> None:
    path = write(tmp_path, FILE)
    tw = make_tw()
    counts = tw.sync_job_files([path])[str(path)]
    assert counts["workflows"] == 1
    assert [w.id for w in tw.get_workflows()] == ["nightly_etl"]
    with pytest.raises(Conflict, match="defined in"):
        tw.add_workflow("nightly_etl", ["extract"], replace_existing=True)
    with pytest.raises(Conflict, match="defined in"):
        tw.remove_workflow("nightly_etl")
    # pausing is operating state: a sync of the unchanged file keeps it
    tw.pause_workflow("nightly_etl")
    tw.sync_job_files([path])
    assert tw.get_workflow("nightly_etl").paused
    assert tw.get_workflow("nightly_etl").next_fire_at is None
    # the workflow leaves the file: it is removed; then lists follow too
    write(tmp_path, FILE.split("workflows:", maxsplit=1)[0].replace(", then: [notify]", ""))
    counts = tw.sync_job_files([path])[str(path)]
    assert (counts["workflows"], counts["workflows_removed"]) == (0, 1)
    assert tw.get_workflows() == []
    assert tw.get_then("extract") == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("after: [extract]\n      - id: report", "after: [report]\n      - id: report"),
            "jobs.yaml: workflow 'nightly_etl': steps.load.after: edge report -> load "
            "closes a cycle (load -> report -> load)",
        ),
        (
            ("after: [load]", "after: [lod]"),
            "jobs.yaml: workflow 'nightly_etl': steps.report.after: edge lod -> report: "
            "there is no step 'lod'",
        ),
        (
            ("job: notify", "job: nope"),
            "jobs.yaml: workflow 'nightly_etl': steps.alert.job: job 'nope' does not exist",
        ),
        (
            ("deadline_s: 3600", "deadline: 3600"),
            "jobs.yaml: workflow 'nightly_etl': deadline: unknown workflow option",
        ),
        (
            ("then: [notify]", "then: [extract]"),
            "jobs.yaml: job 'extract': then: edge extract -> extract is a self-edge",
        ),
    ],
)
def test_errors_name_the_file_the_workflow_and_the_edge(
    make_tw: Make, tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    path = write(tmp_path, FILE.replace(*change))
    tw = make_tw()
    with pytest.raises(InvalidInput) as err:
        tw.sync_job_files([path])
    assert message in str(err.value)
    assert tw.get_workflows() == []
