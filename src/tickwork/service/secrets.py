"""Secrets at rest through the facade: which vault keys hold the stored secrets, and
re-encryption of every stored secret under the current key (after ``tickwork secrets
rotate`` added one). See ``tickwork.connections.vault``."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace

from tickwork.connections.job_secrets import context, open_value
from tickwork.connections.vault import Vault, is_sealed
from tickwork.errors import Conflict
from tickwork.service.base import FacadeBase


class SecretsMixin(FacadeBase):
    def reload_vault(self) -> Vault:
        """Load the keyring again (after a rotation changed it)."""
        self._vault = Vault.load(self.settings.data_dir)
        return self._vault

    def secret_counts(self) -> dict[str, int]:
        """Stored job secrets by the id of the key that seals them ("clear": stored before
        secrets were sealed, sealed at the next re-encryption)."""
        counts: Counter[str] = Counter()
        with self.store.db.read() as conn:
            for job_id in self.store.jobs.ids_with_secrets(conn):
                record = self.store.jobs.get(conn, job_id)
                if record is None:
                    continue
                kwargs = record.target.get("kwargs") or {}
                for name in record.secret_keys:
                    value = kwargs.get(name)
                    if value in (None, ""):
                        continue
                    kid = Vault.key_of(value) if isinstance(value, str) else None
                    counts[kid or "clear"] += 1
            for connection in self.store.connections.all(conn):
                if connection.secret:
                    counts[Vault.key_of(connection.secret) or "clear"] += 1
        return dict(counts)

    def reencrypt_secrets(self, *, by: str | None = None) -> dict[str, int]:
        """Seal every stored job secret under the current key (cleartext ones of older
        versions too). Each job changes in its own transaction, with a new version so every
        node's cached copy is refreshed; one audit record tells the counts."""
        vault = self.reload_vault()
        with self.store.db.read() as conn:
            job_ids = self.store.jobs.ids_with_secrets(conn)
        done = {"jobs": 0, "values": 0}
        for job_id in job_ids:
            for _ in range(10):  # a scheduler node may move the job meanwhile: try again
                try:
                    changed = self._reencrypt_one(vault, job_id)
                    break
                except Conflict:
                    continue
            else:
                raise Conflict(
                    "version",
                    f"job {job_id!r} kept changing; run this again",
                    code="kept_changing",
                    params={"id": job_id},
                )
            if changed:
                done["jobs"] += 1
                done["values"] += changed
        done["connections"] = self._reencrypt_connections(vault)
        now = self.clock.now_us()
        with self.store.db.write() as conn:
            self.audit.record(
                conn,
                at=now,
                actor=by or self.actor,
                action="secrets.reencrypt",
                detail={**done, "key": vault.current},
            )
        return done

    def _reencrypt_connections(self, vault: Vault) -> int:
        """Seal every connection's secret part under the current key."""
        from tickwork.connections.sealed import open_secret, seal

        changed = 0
        with self.store.db.read() as conn:
            names = [c.name for c in self.store.connections.all(conn)]
        for name in names:
            with self.store.db.write() as conn:
                record = self.store.connections.get(conn, name)
                if record is None or not record.secret:
                    continue
                if Vault.key_of(record.secret) == vault.current:
                    continue
                resealed = seal(vault, name, open_secret(name, record.secret))
                self.store.connections.update(
                    conn,
                    replace(record, secret=resealed, version=record.version + 1),
                    record.version,
                )
                changed += 1
        return changed

    def _reencrypt_one(self, vault: Vault, job_id: str) -> int:
        with self.store.db.write() as conn:
            old = self.store.jobs.get(conn, job_id, for_update=True)
            if old is None:
                return 0
            kwargs = dict(old.target.get("kwargs") or {})
            changed = 0
            for name in old.secret_keys:
                value = kwargs.get(name)
                if value in (None, "") or (
                    is_sealed(value) and Vault.key_of(value) == vault.current
                ):
                    continue
                plain = open_value(job_id, name, value)
                kwargs[name] = vault.seal(
                    json.dumps(plain, ensure_ascii=False).encode(),
                    context(job_id, name),
                )
                changed += 1
            if changed:
                record = replace(old, target={**old.target, "kwargs": kwargs})
                self.store.jobs.update(conn, record, old.version)
        if changed:
            self._changed()
        return changed
