"""The built-in retention job through the facade: synced (owner ``builtin``) when a node
starts, with the settings' limits; ``prune_history()`` runs one pass now."""

from __future__ import annotations

from typing import Any

from tickwork.jobspec import JobSpec
from tickwork.service.sync import SyncMixin
from tickwork.store.records import JobRecord


class RetentionMixin(SyncMixin):
    def _sync_builtin_jobs(self) -> None:
        self.sync_owned("builtin", "tickwork", self._builtin_records())

    def _builtin_records(self) -> list[JobRecord]:
        """Tickwork's own jobs as this node's settings want them (others extend the list)."""
        from tickwork import retention

        url = self.settings.effective_database_url
        key = retention.store_key(url)
        retention.register(key, self.store.db, self.clock)
        records = []
        if self.settings.retention:
            spec = JobSpec(
                target=retention.TARGET,
                trigger="cron",
                trigger_args={"minute": 7},
                id=retention.JOB_ID,
                name="Run-history retention",
                description=(
                    "Deletes runs older than the retention age or beyond the newest ones kept "
                    "per job, old alert history and audit events, in small batches "
                    "(docs/alerts.md)."
                ),
                group="tickwork",
                tags=("builtin",),
                kwargs=self._retention_kwargs(key),
                timezone="UTC",
                executor="thread",
                misfire_policy="run_once",
                concurrency_policy="forbid",
                owner="builtin",
                owner_ref="tickwork",
            )
            records.append(self._build(spec, by="builtin"))
        return records

    def _retention_kwargs(self, key: str) -> dict[str, Any]:
        s = self.settings
        return {
            "store": key,
            "runs_keep_days": s.runs_keep_days,
            "runs_keep_per_job": s.runs_keep_per_job,
            "alerts_keep_days": s.alerts_keep_days,
            "audit_keep_days": s.audit_keep_days,
        }

    def prune_history(self, **overrides: Any) -> dict[str, Any]:
        """One retention pass now, in this thread (``overrides``: prune_history's limits)."""
        from tickwork import retention

        key = retention.store_key(self.settings.effective_database_url)
        retention.register(key, self.store.db, self.clock)
        return retention.prune_history(**{**self._retention_kwargs(key), **overrides})
