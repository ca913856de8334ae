"""``python manage.py tickwork run|jobs|sync``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError  # type: ignore[import-untyped]

from tickwork.errors import TickworkError


class Command(BaseCommand):  # type: ignore[misc]
    help = "Tickwork: run a scheduler node, list the jobs, or sync the declared jobs."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("action", choices=["run", "jobs", "sync"])

    def handle(self, *args: Any, **options: Any) -> None:
        from tickwork.integrations.django.conf import get_tickwork, orm_ready
        from tickwork.targets.python import set_call_context

        try:
            tw = get_tickwork()
            if options["action"] == "run":
                set_call_context(orm_ready)  # jobs run with Django's connections handled
                self.stdout.write(f"Tickwork scheduler node on {tw.store.db.display_url}")
                tw.run_forever()
            elif options["action"] == "sync":
                tw.sync_declared()
                if tw.settings.job_files:
                    tw.sync_job_files(tw.settings.job_files)
                self.stdout.write("synced")
            else:
                for job in tw.get_jobs():
                    nxt = job.next_run_time
                    state = "paused" if job.paused else "active"
                    when = nxt.isoformat() if nxt else "-"
                    self.stdout.write(f"{job.id}\t{state}\t{when}\t{job.func_ref}")
        except TickworkError as exc:
            raise CommandError(str(exc)) from exc
