"""Named connections through the facade: create, change, list, test, remove. The secret part
is sealed by the vault before it is written and never comes back out of a face: reads give
the public part with each secret field masked. Every change is audited (secrets masked)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from tickwork.connections import kinds as ck
from tickwork.connections.sealed import Opened, open_connection, open_secret, seal
from tickwork.errors import Conflict, InvalidInput, NotFound
from tickwork.executors.redact import MASK
from tickwork.service.base import FacadeBase
from tickwork.store.kinds_repo import ConnectionRecord


@dataclass(frozen=True, slots=True)
class ConnectionView:
    """A connection as faces show it: never a secret."""

    name: str
    kind: str
    description: str
    fields: dict[str, Any]  # public fields; secret ones "******" when set, else None
    version: int
    created_at: int
    created_by: str | None
    updated_at: int
    updated_by: str | None
    used_by: list[str]  # jobs that name it


def _description(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > 2000 or "\x00" in value:
        raise InvalidInput(
            "description", "must be text of at most 2000 characters", code="text_type"
        )
    return value


class ConnectionsMixin(FacadeBase):
    def connections(self) -> list[ConnectionView]:
        with self.store.db.read() as conn:
            records = self.store.connections.all(conn)
            users = self._kind_references(conn)
        return [self._view(r, users) for r in records]

    def connection(self, name: str) -> ConnectionView:
        with self.store.db.read() as conn:
            record = self.store.connections.get(conn, name)
            users = self._kind_references(conn) if record is not None else {}
        if record is None:
            raise NotFound("connection", name)
        return self._view(record, users)

    def add_connection(
        self,
        name: str,
        kind: str,
        fields: Mapping[str, Any],
        *,
        description: str | None = None,
        by: str | None = None,
    ) -> ConnectionView:
        """Create a connection from its kind's fields (``tickwork.connections.kinds``)."""
        ck.check_name(name)
        ck.check_kind(kind)
        public, secret = ck.split(kind, fields)
        now = self.clock.now_us()
        record = ConnectionRecord(
            name=name,
            kind=kind,
            description=_description(description),
            public=public,
            secret=seal(self.vault, name, secret),
            version=1,
            created_at=now,
            created_by=by or self.actor,
            updated_at=now,
            updated_by=by or self.actor,
        )
        with self.store.db.write() as conn:
            self.store.connections.insert(conn, record)
            self.audit.record(
                conn,
                at=now,
                actor=by or self.actor,
                action="connection.create",
                subject=name,
                after=self._audit_view(record, secret),
            )
        self._connections_changed()
        return self._view(record, {})

    def update_connection(
        self,
        name: str,
        fields: Mapping[str, Any] | None = None,
        *,
        description: str | None = None,
        expected_version: int | None = None,
        by: str | None = None,
    ) -> ConnectionView:
        """Change a connection: the fields given replace the stored ones; a secret field left
        out or sent back masked keeps its value, and ``""`` clears it."""
        now = self.clock.now_us()
        with self.store.db.write() as conn:
            old = self.store.connections.get(conn, name)
            if old is None:
                raise NotFound("connection", name)
            if expected_version is not None and expected_version != old.version:
                raise Conflict(
                    "version",
                    f"connection {name!r} is at version {old.version}, not {expected_version}",
                    code="stale_version",
                    params={"name": name},
                )
            given = dict(fields or {})
            secret_names = ck.FIELDS[old.kind][1]
            cleared = {k for k in secret_names if given.get(k) == ""}
            merged = {**old.public, **{k: v for k, v in given.items() if k not in secret_names}}
            for key in secret_names:
                if key in given and given[key] not in ("", MASK, None):
                    merged[key] = given[key]
            public, secret = ck.split(old.kind, merged)
            stored = open_secret(name, old.secret)
            kept = {k: v for k, v in stored.items() if k not in cleared}
            # A password given inside a URL replaces the stored one, as a new field would.
            secret = {**kept, **secret}
            record = replace(
                old,
                description=old.description if description is None else _description(description),
                public=public,
                secret=old.secret if secret == stored else seal(self.vault, name, secret),
                version=old.version + 1,
                updated_at=now,
                updated_by=by or self.actor,
            )
            if (record.description, record.public, record.secret) == (
                old.description,
                old.public,
                old.secret,
            ):
                return self._view(old, self._kind_references(conn))
            self.store.connections.update(conn, record, old.version)
            self.audit.record(
                conn,
                at=now,
                actor=by or self.actor,
                action="connection.update",
                subject=name,
                before=self._audit_view(old, stored),
                after=self._audit_view(record, secret),
            )
            users = self._kind_references(conn)
        self._connections_changed()
        return self._view(record, users)

    def remove_connection(self, name: str, *, by: str | None = None) -> None:
        """Remove a connection no job names (refused while one does)."""
        with self.store.db.write() as conn:
            old = self.store.connections.get(conn, name)
            if old is None:
                raise NotFound("connection", name)
            users = self._kind_references(conn).get(("connection", name), [])
            if users:
                raise Conflict(
                    "name",
                    f"connection {name!r} is used by job(s) {', '.join(users[:10])}; change "
                    "those first",
                    code="connection_in_use",
                    params={"name": name, "jobs": users[:10]},
                )
            self.store.connections.delete(conn, name)
            self.audit.record(
                conn,
                at=self.clock.now_us(),
                actor=by or self.actor,
                action="connection.remove",
                subject=name,
                before=self._audit_view(old, {}),
            )
        self._connections_changed()

    def open_connection(self, name: str) -> Opened:
        """The connection with its secrets opened (for a test, or a scheduler node's run)."""
        with self.store.db.read() as conn:
            record = self.store.connections.get(conn, name)
        if record is None:
            raise NotFound("connection", name)
        self._load_keys()
        return open_connection(name, record.kind, record.public, record.secret)

    def test_connection(self, name: str, *, by: str | None = None) -> dict[str, Any]:
        """Try the connection (database: connect and SELECT 1; Redis: PING; HTTP: a GET of
        its base URL; SMTP: EHLO, TLS and login), the HTTP and SMTP ones through the SSRF
        guard. ``{"ok", "message", "elapsed_ms"}``, secrets masked in the message."""
        from tickwork.connections.probe import probe
        from tickwork.executors.redact import redactor
        from tickwork.net.ssrf import Allowlist

        opened = self.open_connection(name)
        result = probe(opened, Allowlist.parse(",".join(self.settings.ssrf_allow)))
        mask = redactor(opened.masks)
        if mask is not None:
            result["message"] = mask(result["message"])
        with self.store.db.write() as conn:
            self.audit.record(
                conn,
                at=self.clock.now_us(),
                actor=by or self.actor,
                action="connection.test",
                subject=name,
                detail={"ok": result["ok"]},
            )
        return result

    # -- helpers -----------------------------------------------------------------------------
    def _view(
        self, record: ConnectionRecord, users: Mapping[tuple[str, str], list[str]]
    ) -> ConnectionView:
        has = self._secret_fields(record)
        return ConnectionView(
            name=record.name,
            kind=record.kind,
            description=record.description,
            fields=ck.masked(record.kind, record.public, has),
            version=record.version,
            created_at=record.created_at,
            created_by=record.created_by,
            updated_at=record.updated_at,
            updated_by=record.updated_by,
            used_by=list(users.get(("connection", record.name), [])),
        )

    def _secret_fields(self, record: ConnectionRecord) -> dict[str, bool]:
        """Which secret fields are set, without opening them when the keys are missing."""
        if not record.secret:
            return {}
        try:
            self._load_keys()
            return {k: bool(v) for k, v in open_secret(record.name, record.secret).items()}
        except Exception:  # no key on this node: it is set, whatever it holds
            return dict.fromkeys(ck.FIELDS[record.kind][1], True)

    @staticmethod
    def _audit_view(record: ConnectionRecord, secret: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "kind": record.kind,
            "description": record.description,
            "fields": ck.masked(
                record.kind, record.public, {k: bool(v) for k, v in secret.items()}
            ),
            "version": record.version,
        }

    def _connections_changed(self) -> None:
        node = self.node
        if node is not None:
            self.store.db.after_commit(node.dispatcher.preparer.forget)
