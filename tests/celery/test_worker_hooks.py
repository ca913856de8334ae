"""Runs ended on a ``tickwork worker`` call the run hooks in the outcome's transaction, as on
a scheduler node: a failed run on a queue raises its alert, and a workflow whose first step
runs on a queue goes on to its next step."""

from __future__ import annotations

from pathlib import Path

from tests.celery.conftest import Broker, Workers, scheduler, wait_for
from tickwork import Tickwork

TERMINAL = {"succeeded", "failed", "timed_out", "cancelled", "lost", "skipped", "missed"}


def test_a_run_ended_on_a_worker_raises_alerts_and_moves_workflows_on(
    database_url: str, rabbitmq_broker: Broker, tmp_path: Path, queue: str
) -> None:
    workers = Workers(database_url, rabbitmq_broker, tmp_path)
    workers.start(queue)
    tw: Tickwork = scheduler(database_url, rabbitmq_broker)
    tw.start()
    try:
        tw.add_alert_channel("hook", "webhook", {"url": "https://hooks.example.com/x"},
                             enabled=False)  # fmt: skip
        tw.add_alert_rule({"id": "on-fail", "kind": "failed", "scope": "job",
                           "scope_value": "bad", "channels": ["hook"]})  # fmt: skip
        tw.add_job({"kind": "shell", "command": ["sh", "-c", "exit 3"]}, "date",
                   run_date="2099-01-01 00:00:00", id="bad", queue=queue)  # fmt: skip
        tw.add_job({"kind": "shell", "command": ["true"]}, "date",
                   run_date="2099-01-01 00:00:00", id="first", queue=queue)  # fmt: skip
        tw.add_job({"kind": "shell", "command": ["true"]}, "date",
                   run_date="2099-01-01 00:00:00", id="second")  # fmt: skip
        tw.add_workflow("flow", [{"id": "first"}, {"id": "second", "after": ["first"]}])

        bad = tw.run_job("bad")
        wait_for(lambda: tw.get_run(bad).status in TERMINAL, 30, "the failed run")
        assert tw.get_run(bad).status == "failed"
        assert tw.get_run(bad).queue == queue
        (alert,) = tw.alert_history(rule_id="on-fail")
        assert alert["run_id"] == bad

        tw.run_workflow("flow")
        wait_for(lambda: any(r.status == "succeeded" for r in tw.get_runs("second")), 30,
                 "the second step after the first one ended on the worker")  # fmt: skip
        (first,) = tw.get_runs("first")
        assert (first.queue, first.status) == (queue, "succeeded")
    finally:
        tw.shutdown()
        tw.close()
        workers.stop()
