"""The built-in store backup job through the facade: synced (owner ``builtin``) beside the
retention job when a node starts, if a backup directory is configured;
``backup_store_now()`` makes one backup now, in this thread."""

from __future__ import annotations

from typing import Any

from tickwork.jobspec import JobSpec
from tickwork.service.retention import RetentionMixin
from tickwork.store.records import JobRecord


class StoreBackupMixin(RetentionMixin):
    def _builtin_records(self) -> list[JobRecord]:
        from tickwork import retention, store_backup

        records = super()._builtin_records()
        key = retention.store_key(self.settings.effective_database_url)
        store_backup.register(key, self.store, self.clock)
        if self.settings.store_backup_dir is not None:
            spec = JobSpec(
                target=store_backup.TARGET,
                trigger="H 3 * * *",
                id=store_backup.JOB_ID,
                name="Store backup",
                description=(
                    "Backs up Tickwork's own store into the backup directory, checks the file "
                    "and removes backups older than the days kept, always keeping the newest "
                    "(docs/integrations.md)."
                ),
                group="tickwork",
                tags=("builtin",),
                kwargs=self._store_backup_kwargs(key),
                timezone="UTC",
                executor="thread",
                misfire_policy="run_once",
                concurrency_policy="forbid",
                owner="builtin",
                owner_ref="tickwork",
            )
            records.append(self._build(spec, by="builtin"))
        return records

    def _store_backup_kwargs(self, key: str) -> dict[str, Any]:
        return {
            "store": key,
            "directory": str(self.settings.store_backup_dir),
            "keep_days": self.settings.store_backup_keep_days,
        }

    def backup_store_now(self, **overrides: Any) -> dict[str, Any]:
        """One scheduled-style backup now (``overrides``: backup_store's arguments)."""
        from tickwork import retention, store_backup

        key = retention.store_key(self.settings.effective_database_url)
        store_backup.register(key, self.store, self.clock)
        return store_backup.backup_store(**{**self._store_backup_kwargs(key), **overrides})
