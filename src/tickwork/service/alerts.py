"""Alerts through the facade: channels (secrets sealed, never shown), rules, the history, a
channel's test message, and the worker that delivers (started with a node or an API-only
presence). Every change is audited, secrets masked."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert

from tickwork.alerts.channels.base import FIELDS, KINDS, check_fields
from tickwork.alerts.delivery import Sender, open_secret, seal_secret
from tickwork.alerts.model import LANGUAGES, Rule, build_rule, check_id, one_of, rule_to_body
from tickwork.alerts.outbox import SendResult
from tickwork.alerts.repo import ChannelRecord
from tickwork.errors import Conflict, InvalidInput, NotFound
from tickwork.executors.redact import MASK
from tickwork.service.connections import ConnectionsMixin
from tickwork.store.tables_alerts import alert, alert_attempt, alert_delivery

TEST_LEASE_US = 24 * 3600 * 1_000_000  # longer than any send; the call records the end

log = logging.getLogger("tickwork.alerts")

if TYPE_CHECKING:
    from tickwork.alerts.worker import AlertWorker


@dataclass(frozen=True, slots=True)
class ChannelView:
    name: str
    kind: str
    description: str
    language: str
    enabled: bool
    fields: dict[str, Any]  # public fields; secret ones "******" when set, else None
    version: int
    created_at: int
    created_by: str | None
    updated_at: int
    updated_by: str | None
    used_by: list[str]  # rules that send to it


def _text(value: Any, field: str, limit: int = 2000) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > limit or "\x00" in value:
        raise InvalidInput(field, f"must be text of at most {limit} characters", code="text_type")
    return value


def _flag(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(field, "must be true or false", code="wrong_type")
    return value


class AlertsMixin(ConnectionsMixin):
    # -- channels ------------------------------------------------------------------------------
    def alert_channels(self) -> list[ChannelView]:
        with self.store.db.read() as conn:
            records = self.alert_repo.channels(conn)
            rules = self.alert_repo.rules(conn)
        return [self._channel_view(r, rules) for r in records]

    def alert_channel(self, name: str) -> ChannelView:
        with self.store.db.read() as conn:
            record = self.alert_repo.channel(conn, name)
            rules = self.alert_repo.rules(conn)
        if record is None:
            raise NotFound("alert channel", name)
        return self._channel_view(record, rules)

    def add_alert_channel(
        self,
        name: str,
        kind: str,
        fields: Mapping[str, Any],
        *,
        language: str = "en",
        description: str | None = None,
        enabled: bool = True,
        by: str | None = None,
    ) -> ChannelView:
        """Create a channel (``tickwork.alerts.channels.base.FIELDS`` says each kind's
        fields); the webhook URL and signing secret are sealed and never shown again."""
        check_id(name, "name")
        one_of(kind, KINDS, "kind")
        one_of(language, LANGUAGES, "language")
        public, secret = check_fields(kind, fields, self._allowlist())
        now = self.clock.now_us()
        record = ChannelRecord(
            name=name,
            kind=kind,
            description=_text(description, "description"),
            language=language,
            public=public,
            secret=seal_secret(self.vault, name, secret),
            enabled=_flag(enabled, "enabled"),
            version=1,
            created_at=now,
            created_by=by or self.actor,
            updated_at=now,
            updated_by=by or self.actor,
        )
        with self.store.db.write() as conn:
            if kind == "email":
                self._check_smtp(conn, str(public["connection"]))
            self.alert_repo.insert_channel(conn, record)
            self.audit.record(
                conn, at=now, actor=by or self.actor, action="alert_channel.create",
                subject=name, after=self._channel_audit(record, secret),
            )  # fmt: skip
        return self._channel_view(record, [])

    def update_alert_channel(
        self,
        name: str,
        fields: Mapping[str, Any] | None = None,
        *,
        language: str | None = None,
        description: str | None = None,
        enabled: bool | None = None,
        expected_version: int | None = None,
        by: str | None = None,
    ) -> ChannelView:
        """Change a channel: fields given replace the stored ones; a secret field left out or
        sent back as "******" keeps its value."""
        now = self.clock.now_us()
        with self.store.db.write() as conn:
            old = self.alert_repo.channel(conn, name)
            if old is None:
                raise NotFound("alert channel", name)
            if expected_version is not None and expected_version != old.version:
                raise Conflict(
                    "version",
                    f"alert channel {name!r} is at version {old.version}, not {expected_version}",
                    code="stale_version",
                    params={"name": name},
                )
            self._load_keys()
            stored = open_secret(name, old.secret)
            given = {k: v for k, v in (fields or {}).items() if v != MASK}
            public_names = FIELDS[old.kind][0]
            merged = {
                **{k: v for k, v in old.public.items() if k in public_names},
                **stored,
                **given,
            }
            merged = {k: v for k, v in merged.items() if v not in (None, "")}
            public, secret = check_fields(old.kind, merged, self._allowlist())
            if old.kind == "email":
                self._check_smtp(conn, str(public["connection"]))
            record = replace(
                old,
                description=old.description if description is None
                else _text(description, "description"),
                language=old.language if language is None
                else one_of(language, LANGUAGES, "language"),
                enabled=old.enabled if enabled is None else _flag(enabled, "enabled"),
                public=public,
                secret=old.secret if secret == stored else seal_secret(self.vault, name, secret),
                version=old.version + 1,
                updated_at=now,
                updated_by=by or self.actor,
            )  # fmt: skip
            self.alert_repo.update_channel(conn, record, old.version)
            self.audit.record(
                conn, at=now, actor=by or self.actor, action="alert_channel.update",
                subject=name, before=self._channel_audit(old, stored),
                after=self._channel_audit(record, secret),
            )  # fmt: skip
            rules = self.alert_repo.rules(conn)
        return self._channel_view(record, rules)

    def remove_alert_channel(self, name: str, *, by: str | None = None) -> None:
        """Remove a channel no rule sends to (refused while one does)."""
        with self.store.db.write() as conn:
            old = self.alert_repo.channel(conn, name)
            if old is None:
                raise NotFound("alert channel", name)
            users = [r.id for r in self.alert_repo.rules(conn) if name in r.channels]
            if users:
                raise Conflict(
                    "name",
                    f"alert channel {name!r} is used by rule(s) {', '.join(users[:10])}",
                    code="alert_channel_in_use",
                    params={"name": name, "rules": users[:10]},
                )
            self.alert_repo.delete_channel(conn, name)
            self.audit.record(
                conn, at=self.clock.now_us(), actor=by or self.actor,
                action="alert_channel.remove", subject=name,
            )  # fmt: skip

    def test_alert_channel(
        self, name: str, *, by: str | None = None, language: str | None = None
    ) -> dict[str, Any]:
        """Send a test message now, from this process, through the SSRF guard; the attempt is
        recorded in the alert history. ``{"ok", "status_code", "response", "error",
        "alert_id"}``, secrets masked."""
        with self.store.db.read() as conn:
            channel = self.alert_repo.channel(conn, name)
        if channel is None:
            raise NotFound("alert channel", name)
        if language is not None:
            channel = replace(channel, language=one_of(language, LANGUAGES, "language"))
        self._load_keys()
        now = self.clock.now_us()
        actor = by or self.actor
        facts = {"channel": name, "requested_by": actor}
        with self.store.db.write() as conn:
            alert_id = int(
                conn.execute(
                    insert(alert).values(
                        rule_id=None, kind="test", job_id=None, run_id=None, severity="info",
                        status="queued", facts=facts, created_at=now,
                    )
                ).inserted_primary_key[0]  # type: ignore[index]
            )  # fmt: skip
            delivery_id = int(
                conn.execute(
                    # sent by this call, not by a worker: a lease no worker takes over
                    insert(alert_delivery).values(
                        alert_id=alert_id, channel=name, status="sending", attempts=1,
                        next_attempt_at=now, created_at=now, node_id="test-message",
                        lease_until=now + TEST_LEASE_US,
                    )
                ).inserted_primary_key[0]  # type: ignore[index]
            )  # fmt: skip
        row = {"id": alert_id, "kind": "test", "severity": "info", "rule_id": None,
               "facts": facts, "created_at": now}  # fmt: skip
        result = self.alert_sender().send(channel, row, now, delivery_id)
        done = self.clock.now_us()
        with self.store.db.write() as conn:
            conn.execute(
                insert(alert_attempt).values(
                    delivery_id=delivery_id, alert_id=alert_id, channel=name, node_id=None,
                    started_at=now, finished_at=done, ok=result.ok,
                    status_code=result.status_code, response=result.response, error=result.error,
                )
            )  # fmt: skip
            from sqlalchemy import update

            conn.execute(
                update(alert_delivery)
                .where(alert_delivery.c.id == delivery_id)
                .values(
                    status="delivered" if result.ok else "failed",
                    delivered_at=done if result.ok else None,
                    lease_until=None,
                    last_error=None if result.ok else (result.error or "")[:1000],
                )
            )
            self.audit.record(
                conn, at=done, actor=actor, action="alert_channel.test", subject=name,
                detail={"ok": result.ok},
            )  # fmt: skip
        return _result(result, alert_id)

    # -- rules ---------------------------------------------------------------------------------
    def alert_rules(self) -> list[Rule]:
        with self.store.db.read() as conn:
            return self.alert_repo.rules(conn)

    def alert_rules_for_job(self, job_id: str) -> list[Rule]:
        """The rules that cover ``job_id`` (its own, its group's, its tags', global ones)."""
        from tickwork.alerts.hook import job_infos

        with self.store.db.read() as conn:
            info = job_infos(conn, [job_id], True).get(job_id)
            rules = self.alert_repo.rules(conn)
        if info is None:
            raise NotFound("job", job_id)
        _, group, tags = info
        return [r for r in rules if r.covers(job_id, group, tags)]

    def alert_rule(self, rule_id: str) -> Rule:
        with self.store.db.read() as conn:
            rule = self.alert_repo.rule(conn, rule_id)
        if rule is None:
            raise NotFound("alert rule", rule_id)
        return rule

    def add_alert_rule(self, body: Mapping[str, Any], *, by: str | None = None) -> Rule:
        """Create a rule from its JSON form (``tickwork.alerts.model.build_rule``)."""
        now = self.clock.now_us()
        rule = build_rule(body, now=now, by=by or self.actor)
        with self.store.db.write() as conn:
            self._check_channels(conn, rule.channels)
            self.alert_repo.insert_rule(conn, rule)
            self.audit.record(
                conn, at=now, actor=by or self.actor, action="alert_rule.create",
                subject=rule.id, after=rule_to_body(rule),
            )  # fmt: skip
        self.store.db.after_commit(self.alert_hook.forget)
        return rule

    def update_alert_rule(
        self,
        rule_id: str,
        changes: Mapping[str, Any],
        *,
        expected_version: int | None = None,
        by: str | None = None,
    ) -> Rule:
        """Change a rule: the fields given replace the stored ones (the rest is kept)."""
        now = self.clock.now_us()
        if "id" in changes and changes["id"] != rule_id:
            raise InvalidInput("id", "a rule's id cannot change", code="immutable_field")
        with self.store.db.write() as conn:
            old = self.alert_repo.rule(conn, rule_id)
            if old is None:
                raise NotFound("alert rule", rule_id)
            if expected_version is not None and expected_version != old.version:
                raise Conflict(
                    "version",
                    f"alert rule {rule_id!r} is at version {old.version}, not {expected_version}",
                    code="stale_version",
                    params={"name": rule_id},
                )
            body = {**rule_to_body(old), **dict(changes), "id": rule_id}
            if "kind" in changes and "params" not in changes:
                body["params"] = {}
            new = build_rule(body, now=now, by=by or self.actor)
            new = replace(
                new, version=old.version + 1, created_at=old.created_at, created_by=old.created_by
            )
            self._check_channels(conn, new.channels)
            self.alert_repo.update_rule(conn, new, old.version)
            self.audit.record(
                conn, at=now, actor=by or self.actor, action="alert_rule.update",
                subject=rule_id, before=rule_to_body(old), after=rule_to_body(new),
            )  # fmt: skip
        self.store.db.after_commit(self.alert_hook.forget)
        return new

    def remove_alert_rule(self, rule_id: str, *, by: str | None = None) -> None:
        with self.store.db.write() as conn:
            old = self.alert_repo.rule(conn, rule_id)
            if old is None or not self.alert_repo.delete_rule(conn, rule_id):
                raise NotFound("alert rule", rule_id)
            self.audit.record(
                conn, at=self.clock.now_us(), actor=by or self.actor,
                action="alert_rule.remove", subject=rule_id, before=rule_to_body(old),
            )  # fmt: skip
        self.store.db.after_commit(self.alert_hook.forget)

    # -- history -------------------------------------------------------------------------------
    def alert_history(self, **filters: Any) -> list[dict[str, Any]]:
        """Alerts newest first with their deliveries (filters: rule_id, job_id, channel,
        status, severity, since, until, before_id, limit)."""
        with self.store.db.read() as conn:
            return self.alert_repo.history(conn, **filters)

    def alert(self, alert_id: int) -> dict[str, Any]:
        """One alert with its deliveries and every attempt."""
        with self.store.db.read() as conn:
            found = self.alert_repo.alert(conn, alert_id)
        if found is None:
            raise NotFound("alert", alert_id)
        return found

    # -- delivery ------------------------------------------------------------------------------
    def alert_sender(self) -> Sender:
        """What this process sends with (the SSRF allowlist, base URL, SMTP connections)."""

        def open_smtp(name: str) -> tuple[dict[str, Any], Sequence[str]]:
            opened = self.open_connection(name)
            if opened.kind != "smtp":
                raise InvalidInput(
                    "connection",
                    f"{name!r} is a {opened.kind} connection",
                    code="wrong_connection_kind",
                    params={"name": name, "kind": opened.kind, "wanted": "smtp"},
                )
            return opened.fields, opened.masks

        return Sender(allow=self._allowlist(), base_url=self.settings.base_url, open_smtp=open_smtp)

    def deliver_alerts(self, node_id: str = "embedded") -> int:
        """Claim and send the due deliveries once, in this thread (tests, ``tickwork alerts
        deliver``); nodes do it in their alert worker. Returns the sends tried."""
        self._load_keys()
        return self._worker(lambda: node_id).deliver_once()

    def sweep_alerts(self) -> int:
        """Run the periodic sweep once now (dead-man alerts, dedupe summaries)."""
        from tickwork.alerts.sweep import sweep

        return sweep(self.store.db, self.alert_repo, self.clock.now_us())

    def _start_alert_worker(self) -> None:
        if self._alert_worker is not None:
            return

        def node_id() -> str:
            node = self.node
            if node is not None:
                return node.node_id
            presence = self._presence
            return str(getattr(presence, "node_id", "api"))

        self._load_keys()
        self._alert_worker = self._worker(node_id)
        self._alert_worker.start()

    def _stop_alert_worker(self) -> None:
        worker, self._alert_worker = self._alert_worker, None
        if worker is not None:
            worker.stop()
            try:  # one last round: what is due now (the node's last outcomes) goes out
                worker.flush()
            except Exception:
                log.exception("the alert worker's last round failed")

    def _worker(self, node_id: Callable[[], str]) -> AlertWorker:
        from tickwork.alerts.worker import AlertWorker

        return AlertWorker(
            self.store.db, self.alert_repo, self.clock, node_id, self.alert_sender,
            poll_s=self.settings.alerts_poll_s,
        )  # fmt: skip

    # -- helpers -------------------------------------------------------------------------------
    def _allowlist(self) -> Any:
        from tickwork.net.ssrf import Allowlist

        return Allowlist.parse(",".join(self.settings.ssrf_allow))

    def _check_channels(self, conn: Any, names: Sequence[str]) -> None:
        known = {c.name for c in self.alert_repo.channels(conn)}
        for name in names:
            if name not in known:
                raise InvalidInput(
                    "channels",
                    f"alert channel {name!r} does not exist (create it first)",
                    code="unknown_alert_channel",
                    params={"name": name},
                )

    def _check_smtp(self, conn: Any, name: str) -> None:
        found = self.store.connections.get(conn, name)
        if found is None or found.kind != "smtp":
            raise InvalidInput(
                "fields.connection",
                f"{name!r} is not an SMTP connection (create one with kind smtp)",
                code="unknown_connection",
                params={"name": name},
            )

    def _channel_view(self, record: ChannelRecord, rules: Sequence[Rule]) -> ChannelView:
        secret_names = FIELDS[record.kind][1]
        has: dict[str, bool] = {}
        if record.secret:
            try:
                self._load_keys()
                has = {k: bool(v) for k, v in open_secret(record.name, record.secret).items()}
            except Exception:  # no key on this process: set, whatever it holds
                has = dict.fromkeys(secret_names, True)
        fields = dict(record.public)
        for key in secret_names:
            fields[key] = MASK if has.get(key) else None
        return ChannelView(
            name=record.name,
            kind=record.kind,
            description=record.description,
            language=record.language,
            enabled=record.enabled,
            fields=fields,
            version=record.version,
            created_at=record.created_at,
            created_by=record.created_by,
            updated_at=record.updated_at,
            updated_by=record.updated_by,
            used_by=[r.id for r in rules if record.name in r.channels],
        )

    @staticmethod
    def _channel_audit(record: ChannelRecord, secret: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "kind": record.kind,
            "language": record.language,
            "enabled": record.enabled,
            "fields": {**record.public, **{k: MASK for k, v in secret.items() if v}},
            "version": record.version,
        }


def _result(result: SendResult, alert_id: int) -> dict[str, Any]:
    return {
        "ok": result.ok,
        "status_code": result.status_code,
        "response": result.response,
        "error": result.error,
        "alert_id": alert_id,
    }
