"""``tickwork workflows list|show|run|rerun|cancel``: workflows (DAGs of jobs) and their runs.
A workflow run's steps run on the scheduler nodes (``tickwork serve``); ``run --wait`` follows
it until it ends."""

from __future__ import annotations

import argparse
import time
from typing import Any

from tickwork.cli.common import dump_json, open_client, store_options, table, when
from tickwork.store.workflows_repo import WorkflowRecord, WorkflowRunRecord


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    common = store_options()
    group = sub.add_parser("workflows", help="workflows (DAGs of jobs) and their runs")
    cmds = group.add_subparsers(dest="workflows_command", metavar="SUBCOMMAND", required=True)

    ls = cmds.add_parser("list", parents=[common], help="list workflows")
    ls.add_argument("--json", action="store_true", help="print JSON")
    ls.set_defaults(handler=_list)

    show = cmds.add_parser("show", parents=[common], help="a workflow's steps and its latest runs")
    show.add_argument("workflow_id", metavar="ID")
    show.add_argument("--runs", type=int, default=5, metavar="N", help="latest N runs (5)")
    show.add_argument("--run", type=int, metavar="RUN_ID", help="one workflow run, step by step")
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(handler=_show)

    run = cmds.add_parser("run", parents=[common], help="start a workflow run now")
    run.add_argument("workflow_id", metavar="ID")
    run.add_argument("--wait", action="store_true", help="wait until it ends (a node runs it)")
    run.add_argument("--timeout", type=float, default=3600.0, metavar="S")
    run.set_defaults(handler=_run)

    rerun = cmds.add_parser(
        "rerun", parents=[common], help="run a failed workflow run again from its failed steps"
    )
    rerun.add_argument("run_id", metavar="RUN_ID", type=int)
    rerun.add_argument("--wait", action="store_true", help="wait until it ends")
    rerun.add_argument("--timeout", type=float, default=3600.0, metavar="S")
    rerun.set_defaults(handler=_rerun)

    cancel = cmds.add_parser("cancel", parents=[common], help="cancel a running workflow run")
    cancel.add_argument("run_id", metavar="RUN_ID", type=int)
    cancel.set_defaults(handler=_cancel)


def _edges(step: dict[str, Any]) -> str:
    parts = [
        e["step"] if e.get("on", "success") == "success" else f"{e['step']} ({e['on']})"
        for e in step["after"]
    ]
    return ", ".join(parts) or "-"


def _trigger(record: WorkflowRecord) -> str:
    if record.trigger is None:
        return "by hand"
    spec = record.trigger
    if spec.get("kind") == "cron":
        return f"cron {spec.get('expr')} {spec.get('tz', '')}".rstrip()
    return str(spec.get("kind"))


def _list(args: argparse.Namespace) -> int:
    with open_client(args) as tw:
        records = tw.get_workflows()
        latest = {r.id: tw.get_workflow_runs(r.id, limit=1) for r in records}
    if args.json:
        dump_json([_definition(r) for r in records])
        return 0
    rows = [
        [
            r.id,
            str(len(r.steps)),
            _trigger(r) + (" (paused)" if r.paused else ""),
            when(r.next_fire_at),
            latest[r.id][0].status if latest[r.id] else "-",
        ]
        for r in records
    ]
    table(rows, ["ID", "STEPS", "TRIGGER", "NEXT FIRE", "LAST RUN"])
    return 0


def _definition(r: WorkflowRecord) -> dict[str, Any]:
    out = r.row()
    out["next_fire_at"] = when(r.next_fire_at)
    return out


def _run_json(wr: WorkflowRunRecord) -> dict[str, Any]:
    return {
        "id": wr.id,
        "workflow_id": wr.workflow_id,
        "status": wr.status,
        "reason": wr.reason,
        "scheduled_for": when(wr.scheduled_for),
        "finished_at": when(wr.finished_at),
        "rerun_of": wr.rerun_of,
        "error": wr.error,
        "steps": [s.to_json() for s in wr.step_runs],
    }


def _print_run(wr: WorkflowRunRecord) -> None:
    print(
        f"workflow run {wr.id} of {wr.workflow_id}: {wr.status} ({wr.reason}, "
        f"started {when(wr.created_at)}, ended {when(wr.finished_at)})"
    )
    if wr.rerun_of:
        print(f"  rerun of workflow run {wr.rerun_of}")
    if wr.error:
        print(f"  {wr.error}")
    order = {s["id"]: i for i, s in enumerate(wr.steps)}
    rows = [
        [
            s.step,
            s.job_id,
            s.state + (" (kept)" if s.carried else ""),
            "-" if s.run_id is None else str(s.run_id),
            s.reason or "",
        ]
        for s in sorted(wr.step_runs, key=lambda s: order.get(s.step, 0))
    ]
    table(rows, ["STEP", "JOB", "STATE", "RUN", "REASON"])


def _show(args: argparse.Namespace) -> int:
    with open_client(args) as tw:
        if args.run is not None:
            wr = tw.get_workflow_run(args.run)
            if args.json:
                dump_json(_run_json(wr))
            else:
                _print_run(wr)
            return 0
        record = tw.get_workflow(args.workflow_id)
        runs = tw.get_workflow_runs(args.workflow_id, limit=max(0, args.runs))
    if args.json:
        dump_json({**_definition(record), "runs": [_run_json(r) for r in runs]})
        return 0
    print(f"{record.id}: {record.name}")
    if record.description:
        print(f"  {record.description}")
    print(f"  trigger: {_trigger(record)}{' (paused)' if record.paused else ''}")
    print(f"  next fire: {when(record.next_fire_at)}")
    if record.deadline_s is not None:
        print(f"  deadline: {record.deadline_s:g} s")
    owner = record.owner + (f" {record.owner_ref}" if record.owner_ref else "")
    print(f"  defined by: {owner}, version {record.version}")
    print()
    table([[s["id"], s["job"], _edges(s)] for s in record.steps], ["STEP", "JOB", "AFTER"])
    if runs:
        print()
        table(
            [
                [str(r.id), r.status, r.reason, when(r.created_at), when(r.finished_at)]
                for r in runs
            ],
            ["RUN", "STATUS", "REASON", "STARTED", "ENDED"],
        )
    return 0


def _follow(tw: Any, wr_id: int, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while True:
        wr: WorkflowRunRecord = tw.get_workflow_run(wr_id)
        if wr.status != "running" and all(
            s.state not in ("waiting", "running") for s in wr.step_runs
        ):
            _print_run(wr)
            return 0 if wr.status == "succeeded" else 1
        if time.monotonic() > deadline:
            _print_run(wr)
            print(f"still running after {timeout:g} s")
            return 3
        time.sleep(0.5)


def _run(args: argparse.Namespace) -> int:
    with open_client(args) as tw:
        wr_id = tw.run_workflow(args.workflow_id)
        print(f"workflow run {wr_id} of {args.workflow_id} started")
        return _follow(tw, wr_id, args.timeout) if args.wait else 0


def _rerun(args: argparse.Namespace) -> int:
    with open_client(args) as tw:
        wr_id = tw.rerun_workflow_run(args.run_id)
        print(f"workflow run {wr_id} reruns workflow run {args.run_id} from its failed steps")
        return _follow(tw, wr_id, args.timeout) if args.wait else 0


def _cancel(args: argparse.Namespace) -> int:
    with open_client(args) as tw:
        status = tw.cancel_workflow_run(args.run_id)
    print(f"workflow run {args.run_id}: {status}")
    return 0
