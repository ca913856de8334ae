"""``flask tickwork ...``: the jobs of the app's scheduler from the Flask command line."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import click
from flask.cli import AppGroup

from tickwork.cli.common import when

if TYPE_CHECKING:
    from tickwork.integrations.flask import APScheduler


def command_group(scheduler: APScheduler) -> AppGroup:
    group = AppGroup("tickwork", help="Tickwork: the app's scheduled jobs.")

    @group.command("jobs")
    def jobs() -> None:
        """List the jobs with their next run."""
        for job in scheduler.get_jobs():
            state = "paused" if job.paused else "active"
            nxt = job.next_run_time
            click.echo(f"{job.id}\t{state}\t{nxt.isoformat() if nxt else '-'}\t{job.func_ref}")

    @group.command("pause")
    @click.argument("job_id")
    def pause(job_id: str) -> None:
        """Pause a job."""
        scheduler.pause_job(job_id)
        click.echo(f"paused {job_id}")

    @group.command("resume")
    @click.argument("job_id")
    def resume(job_id: str) -> None:
        """Resume a job."""
        scheduler.resume_job(job_id)
        click.echo(f"resumed {job_id}")

    @group.command("run-job")
    @click.argument("job_id")
    def run_job(job_id: str) -> None:
        """Queue a run of a job now (a scheduler node runs it)."""
        click.echo(f"queued run {scheduler.run_job(job_id)} of {job_id}")

    @group.command("runs")
    @click.argument("job_id")
    @click.option("--limit", default=20, show_default=True)
    def runs(job_id: str, limit: int) -> None:
        """The latest runs of a job."""
        for run in scheduler.tickwork.get_runs(job_id, limit=limit):
            click.echo(f"{run.id}\t{run.status}\t{when(run.scheduled_for)}\t{run.error or ''}")

    @group.command("run")
    def run() -> None:
        """Run a scheduler node in the foreground (instead of inside the web workers)."""
        from tickwork.targets.python import set_call_context

        os.environ["TICKWORK_ELECTION"] = "off"  # this process is the node, by choice
        if scheduler.app is not None:
            set_call_context(scheduler.app.app_context)  # jobs run inside the app context
        click.echo("scheduler node running; Ctrl-C stops it")
        scheduler.tickwork.run_forever()

    return group
