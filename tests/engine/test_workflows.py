"""Workflows (DAGs of jobs) end to end through a scheduler node with a FakeClock, on SQLite,
PostgreSQL and MariaDB (issue 11): fan-out, fan-in per round, the failure branch, ``always``,
skipped steps with their reason while independent branches go on, a rerun from the failed
steps, the overall deadline, the workflow's own trigger, a job's ``then`` list."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.engine import wf_tasks
from tests.engine.conftest import SEC, wait_for
from tickwork import Tickwork
from tickwork.clock import FakeClock
from tickwork.errors import Conflict, InvalidInput
from tickwork.store.workflows_repo import WorkflowRunRecord

pytestmark = pytest.mark.usefixtures("backend")
Make = Callable[..., Tickwork]


@pytest.fixture(autouse=True)
def _reset() -> Iterator[None]:
    wf_tasks.reset()
    yield
    wf_tasks.reset()


def add_jobs(tw: Tickwork, **kinds: str) -> None:
    """Jobs that exist only to be steps: paused (no fire of their own); two workflow runs
    at once may run one job twice at once."""
    for job_id, func in kinds.items():
        tw.add_job(
            f"tests.engine.wf_tasks:{func}", id=job_id, kwargs={"tag": job_id},
            next_run_time=None, max_instances=2,
        )  # fmt: skip
    tw.sync_declared()  # stored now, not at start()


def ended(tw: Tickwork, wr_id: int, timeout: float = 30) -> WorkflowRunRecord:
    def done() -> bool:
        wr = tw.get_workflow_run(wr_id)
        return wr.status != "running" and all(
            s.state not in ("waiting", "running") for s in wr.step_runs
        )

    wait_for(done, timeout, f"workflow run {wr_id} to end")
    return tw.get_workflow_run(wr_id)


def states(wr: WorkflowRunRecord) -> dict[str, tuple[str, str | None]]:
    return {s.step: (s.state, s.reason) for s in wr.step_runs}


def test_fan_out_and_fan_in(make_tw: Make) -> None:
    tw = make_tw()
    add_jobs(tw, extract="step", a="step", b="step", c="step", load="step", report="step")
    tw.add_workflow(
        "etl",
        [
            {"id": "extract"},
            {"id": "a", "after": ["extract"]},
            {"id": "b", "after": ["extract"]},
            {"id": "c", "after": ["extract"]},
            {"id": "load", "after": ["a", "b", "c"]},
            {"id": "report", "after": ["load"]},
        ],
    )
    tw.start()
    wr = ended(tw, tw.run_workflow("etl", by="test"))
    assert wr.status == "succeeded", states(wr)
    assert {s: st for s, (st, _) in states(wr).items()} == dict.fromkeys(
        ["extract", "a", "b", "c", "load", "report"], "succeeded"
    )
    order = wf_tasks.order
    assert sorted(order) == sorted(["extract", "a", "b", "c", "load", "report"])  # once each
    assert order[0] == "extract"
    assert order[-2:] == ["load", "report"]
    # every step's run record links to the workflow run, and says why it ran
    for s in wr.step_runs:
        assert s.run_id is not None
        run = tw.get_run(s.run_id)
        assert (run.job_id, run.status, run.reason) == (s.job_id, "succeeded", "dependency")
        assert run.triggered_by == f"workflow etl run {wr.id}"
        link = tw.workflow_step_of_run(s.run_id)
        assert link is not None
        assert (link.workflow_run_id, link.step) == (wr.id, s.step)


def test_fan_in_is_per_round(make_tw: Make) -> None:
    """Two workflow runs at once: each one's fan-in step waits for its own upstream steps."""
    tw = make_tw()
    add_jobs(tw, a="step", slow="block", join="step")
    tw.add_workflow("w", [{"id": "a"}, {"id": "slow"}, {"id": "join", "after": ["a", "slow"]}])
    tw.start()
    first = tw.run_workflow("w")
    second = tw.run_workflow("w")
    wait_for(
        lambda: wf_tasks.order.count("slow") == 2 and wf_tasks.order.count("a") == 2,
        what=f"both rounds' first steps: {wf_tasks.order} {tw.get_runs()}",
    )
    for wr_id in (first, second):
        wait_for(lambda wr_id=wr_id: states(tw.get_workflow_run(wr_id))["a"][0] == "succeeded")
    assert "join" not in wf_tasks.order  # a finished in both rounds; slow in neither
    wf_tasks.gates["slow"].set()
    assert ended(tw, first).status == "succeeded"
    assert ended(tw, second).status == "succeeded"
    assert wf_tasks.order.count("join") == 2
    for wr_id in (first, second):
        wr = tw.get_workflow_run(wr_id)
        by = {s.step: s for s in wr.step_runs}
        assert by["join"].run_id is not None
        assert by["join"].run_id > max(by["a"].run_id or 0, by["slow"].run_id or 0)


def test_a_failure_skips_what_needs_it_while_other_branches_go_on(make_tw: Make) -> None:
    tw = make_tw()
    add_jobs(
        tw, extract="step", load="fail", report="step", alert="step", cleanup="step",
        archive="step", publish="step",
    )  # fmt: skip
    tw.add_workflow(
        "etl",
        [
            {"id": "extract"},
            {"id": "load", "after": ["extract"]},
            {"id": "report", "after": ["load"]},
            {"id": "publish", "after": ["report"]},
            {"id": "alert", "after": [{"step": "load", "on": "failure"}]},
            {"id": "cleanup", "after": [{"step": "load", "on": "always"}]},
            {"id": "archive", "after": ["extract"]},
        ],
    )
    tw.start()
    wr = ended(tw, tw.run_workflow("etl"))
    got = states(wr)
    assert got["load"][0] == "failed"
    assert "load failed on purpose" in (got["load"][1] or "")
    assert got["report"] == ("skipped", "upstream failed: load")
    assert got["publish"] == ("skipped", "upstream skipped: report")
    assert got["alert"] == ("succeeded", None)
    assert got["cleanup"] == ("succeeded", None)
    assert got["archive"] == ("succeeded", None)
    assert (wr.status, wr.error) == ("failed", "failed steps: load")
    assert "report" not in wf_tasks.order
    assert "publish" not in wf_tasks.order
    # the skipped steps have no run record
    by = {s.step: s for s in wr.step_runs}
    assert by["report"].run_id is None
    assert by["publish"].run_id is None


def test_a_failure_branch_is_skipped_when_nothing_failed(make_tw: Make) -> None:
    tw = make_tw()
    add_jobs(tw, load="step", alert="step", cleanup="step")
    tw.add_workflow(
        "w",
        [
            {"id": "load"},
            {"id": "alert", "after": [{"step": "load", "on": "failure"}]},
            {"id": "cleanup", "after": [{"step": "alert", "on": "always"}]},
        ],
    )
    tw.start()
    wr = ended(tw, tw.run_workflow("w"))
    assert states(wr) == {
        "load": ("succeeded", None),
        "alert": ("skipped", "upstream succeeded: load"),
        "cleanup": ("succeeded", None),  # always: a skipped upstream step has finished too
    }
    assert wr.status == "succeeded"


def test_rerun_from_the_failed_steps(make_tw: Make) -> None:
    tw = make_tw()
    add_jobs(tw, extract="step", side="step", load="flaky", report="step")
    wf_tasks.failures_left["load"] = 1
    tw.add_workflow(
        "etl",
        [
            {"id": "extract"},
            {"id": "side", "after": ["extract"]},
            {"id": "load", "after": ["extract"]},
            {"id": "report", "after": ["load"]},
        ],
    )
    tw.start()
    first = ended(tw, tw.run_workflow("etl"))
    assert first.status == "failed"
    assert states(first)["report"] == ("skipped", "upstream failed: load")
    again = ended(tw, tw.rerun_workflow_run(first.id, by="test"))
    assert (again.status, again.rerun_of, again.reason) == ("succeeded", first.id, "rerun")
    by = {s.step: s for s in again.step_runs}
    assert by["extract"].carried
    assert by["side"].carried
    assert by["extract"].run_id == {s.step: s for s in first.step_runs}["extract"].run_id
    assert not by["load"].carried
    assert not by["report"].carried
    assert wf_tasks.order.count("extract") == 1
    assert wf_tasks.order.count("side") == 1
    assert wf_tasks.order.count("load") == 2
    assert wf_tasks.order.count("report") == 1
    with pytest.raises(Conflict, match="is succeeded"):
        tw.rerun_workflow_run(again.id)


def test_the_deadline_ends_a_workflow_run(make_tw: Make, clock: FakeClock) -> None:
    tw = make_tw()
    add_jobs(tw, slow="block", after_slow="step", quick="step")
    tw.add_workflow(
        "w",
        [{"id": "slow"}, {"id": "after_slow", "after": ["slow"]}, {"id": "quick"}],
        deadline_s=30,
    )
    tw.start()
    wr_id = tw.run_workflow("w")
    wait_for(lambda: "slow" in wf_tasks.order and "quick" in wf_tasks.order, what="steps")
    wait_for(lambda: states(tw.get_workflow_run(wr_id))["quick"][0] == "succeeded")
    clock.advance(29)
    assert tw.get_workflow_run(wr_id).status == "running"
    clock.advance(2)
    wait_for(lambda: tw.get_workflow_run(wr_id).status == "timed_out", what="the deadline")
    wf_tasks.gates["slow"].set()
    wr = ended(tw, wr_id)
    got = states(wr)
    assert wr.error == "deadline passed (30 s)"
    assert got["after_slow"] == ("skipped", "deadline passed (30 s)")
    assert got["quick"] == ("succeeded", None)
    assert got["slow"][0] in ("cancelled", "succeeded")  # the cancel reached it, or it finished
    assert "after_slow" not in wf_tasks.order


def test_the_workflow_trigger_fires_a_workflow_run_per_fire(
    make_tw: Make, clock: FakeClock
) -> None:
    tw = make_tw()
    add_jobs(tw, a="step", b="step")
    wf = tw.add_workflow(
        "every_min", [{"id": "a"}, {"id": "b", "after": ["a"]}], trigger="* * * * *"
    )
    assert wf.next_fire_at is not None
    tw.start()
    for n in (1, 2):
        clock.set(wf.next_fire_at + (n - 1) * 60 * SEC)
        wait_for(lambda n=n: len(tw.get_workflow_runs("every_min")) == n, what=f"fire {n}")
        ended(tw, tw.get_workflow_runs("every_min")[0].id)
    runs = tw.get_workflow_runs("every_min")
    assert {(r.status, r.reason) for r in runs} == {("succeeded", "schedule")}
    assert sorted(r.scheduled_for for r in runs) == [wf.next_fire_at, wf.next_fire_at + 60 * SEC]
    assert wf_tasks.order == ["a", "b", "a", "b"]


def test_cancelling_a_queued_step_run_ends_its_step(make_tw: Make) -> None:
    """Without a node, the first step's run stays queued; cancelling it ends the step and
    skips what follows (the run hooks run where the run ends, here in the facade)."""
    tw = make_tw()
    add_jobs(tw, a="step", b="step")
    tw.add_workflow("w", [{"id": "a"}, {"id": "b", "after": ["a"]}])
    wr_id = tw.run_workflow("w")
    first = tw.get_workflow_run(wr_id).step_runs
    run_id = next(s.run_id for s in first if s.step == "a")
    assert run_id is not None
    tw.cancel_run(run_id, by="ops")
    wr = tw.get_workflow_run(wr_id)
    assert states(wr) == {
        "a": ("cancelled", "cancelled by ops"),
        "b": ("skipped", "upstream failed: a"),
    }
    assert wr.status == "failed"


def test_cancel_a_workflow_run(make_tw: Make) -> None:
    tw = make_tw()
    add_jobs(tw, a="step", b="step")
    tw.add_workflow("w", [{"id": "a"}, {"id": "b", "after": ["a"]}])
    wr_id = tw.run_workflow("w")
    assert tw.cancel_workflow_run(wr_id, by="ops") == "cancelled"
    wr = tw.get_workflow_run(wr_id)
    assert (wr.status, wr.error) == ("cancelled", "cancelled by ops")
    assert states(wr) == {
        "a": ("cancelled", "cancelled: cancelled by ops"),
        "b": ("skipped", "cancelled by ops"),
    }
    assert tw.get_run(next(s.run_id for s in wr.step_runs if s.step == "a") or 0).status == (
        "cancelled"
    )


def test_then_runs_the_next_jobs_after_a_success(make_tw: Make) -> None:
    tw = make_tw()
    add_jobs(tw, parent="step", child1="step", child2="step", bad="fail", never="step")
    tw.set_then("parent", ["child1", "child2"])
    tw.set_then("bad", ["never"])
    assert tw.get_then("parent") == ["child1", "child2"]
    tw.start()
    tw.run_job("parent")
    wait_for(lambda: {"child1", "child2"} <= set(wf_tasks.order), what="the then jobs")
    children = list(tw.get_runs("child1") + tw.get_runs("child2"))
    assert all(r.reason == "dependency" for r in children)
    assert all((r.triggered_by or "").startswith("then of run ") for r in children)
    tw.run_job("bad")
    wait_for(lambda: tw.get_runs("bad") and tw.get_runs("bad")[0].status == "failed")
    tw.node.writer.flush()  # type: ignore[union-attr]
    assert tw.get_runs("never") == []


def test_then_refuses_cycles_self_edges_and_unknown_jobs(make_tw: Make) -> None:
    tw = make_tw()
    add_jobs(tw, j2="step", j3="step", j4="step")
    tw.set_then("j2", ["j3"])
    tw.set_then("j3", ["j4"])
    with pytest.raises(InvalidInput, match=r"edge j4 -> j2 closes a cycle \(") as err:
        tw.set_then("j4", ["j2"])
    assert err.value.code == "workflow_cycle"
    assert err.value.params["edge"] == "j4 -> j2"
    with pytest.raises(InvalidInput, match="edge j2 -> j2 is a self-edge"):
        tw.set_then("j2", ["j2"])
    with pytest.raises(InvalidInput, match="edge j2 -> nope: job 'nope' does not exist"):
        tw.set_then("j2", ["nope"])
    assert tw.get_then("j4") == []
    assert tw.get_then("j2") == ["j3"]


def test_bad_definitions_are_refused_naming_the_edge(make_tw: Make) -> None:
    tw = make_tw()
    add_jobs(tw, a="step", b="step", c="step")
    cases: list[tuple[list[Any], str, str]] = [
        (
            [{"id": "a", "after": ["c"]}, {"id": "b", "after": ["a"]}, {"id": "c", "after": ["b"]}],
            "workflow_cycle",
            "steps.a.after: edge c -> a closes a cycle (a -> b -> c -> a)",
        ),
        ([{"id": "a", "after": ["a"]}], "workflow_self_edge", "edge a -> a is a self-edge"),
        ([{"id": "a"}, {"id": "b", "after": ["x"]}], "workflow_unknown_step",
         "steps.b.after: edge x -> b: there is no step 'x'"),
        ([{"id": "a"}, {"id": "a"}], "duplicate_step", "step 'a' is defined twice"),
        ([{"id": "a", "job": "missing"}], "unknown_step_job", "job 'missing' does not exist"),
        ([{"id": "a"}, {"id": "b", "after": [{"step": "a", "on": "sometimes"}]}], "not_one_of",
         "steps.b.after.on: 'sometimes' is not one of success, failure, always"),
        ([], "empty_steps", "steps: must be a non-empty list"),
    ]  # fmt: skip
    for steps, code, text in cases:
        with pytest.raises(InvalidInput) as err:
            tw.add_workflow("w", steps)
        assert err.value.code == code, steps
        assert text in str(err.value), str(err.value)
    assert tw.get_workflows() == []  # nothing half-written
    with pytest.raises(InvalidInput, match="deadline_s"):
        tw.add_workflow("w", ["a"], deadline_s=-1)
