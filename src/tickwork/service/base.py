"""What every part of the facade shares: settings, the store, the clock, the event bus, the
audit log and the node this process may run. The concerns (jobs, runs, control, sync, queries)
are mixins over this base; ``tickwork.service.facade.Tickwork`` puts them together."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import tzinfo
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from tickwork.audit import AuditLog, local_actor
from tickwork.clock import Clock, SystemClock
from tickwork.connections.job_secrets import seal_kwargs
from tickwork.connections.vault import Vault, VaultError
from tickwork.engine.events import EventBus, JobEvent, SchedulerEvent
from tickwork.engine.hooks import RunHooks
from tickwork.engine.node import NodeOptions, SchedulerNode
from tickwork.errors import InvalidInput
from tickwork.job import Job
from tickwork.jobspec import JobSpec, build_record
from tickwork.service.apscheduler_options import translate
from tickwork.settings import Settings
from tickwork.store import Store
from tickwork.store.kinds_repo import kind_targets
from tickwork.store.records import JobRecord
from tickwork.targets import kinds
from tickwork.targets.policy import BUILTIN_PREFIXES, check_target, denied_reason, module_of
from tickwork.triggers.zones import tz_name

log = logging.getLogger("tickwork.service")

# Owners whose jobs the deployment declares itself (code, job files, built-ins): their
# targets are trusted and make the default allowlist. Jobs of the others (api, cli) are
# checked against it.
TRUSTED_OWNERS = ("code", "python", "config", "builtin")
RESTRICTED_OWNERS = ("api", "cli")


class FacadeBase:
    """Scheduler facade. Without ``start()`` it is a client of the shared database (what the
    CLI and the REST API use); ``start()`` also runs a scheduler node in background threads."""

    def __init__(
        self,
        database_url: str | None = None,
        *,
        settings: Settings | None = None,
        timezone: str | tzinfo | None = None,
        clock: Clock | None = None,
        node_options: NodeOptions | None = None,
        job_defaults: Mapping[str, Any] | None = None,
        app: str = "default",
        job_files: Iterable[str] = (),
        check_targets: bool = True,
        jobstores: Mapping[str, Any] | None = None,
        executors: Mapping[str, Any] | None = None,
        daemon: bool | None = None,
        **apscheduler_options: Any,
    ) -> None:
        # APScheduler's constructor options that map (one SQL job store, pool sizes, job
        # defaults); the rest is refused with what to do instead.
        aps = translate(
            jobstores=jobstores,
            executors=executors,
            job_defaults=job_defaults,
            daemon=daemon,
            options=apscheduler_options,
        )
        if aps.database_url and database_url and aps.database_url != database_url:
            raise InvalidInput(
                "jobstores",
                "names another database than database_url; give one of them",
                code="unsupported_option",
            )
        base = settings or Settings.from_env()
        zone = timezone if timezone is None or isinstance(timezone, str) else tz_name(timezone)
        self.settings = base.with_overrides(
            database_url=database_url or aps.database_url,
            timezone=zone,
            threads=aps.workers.get("thread"),
            processes=aps.workers.get("process"),
        )
        if job_files:
            self.settings = replace(
                self.settings, job_files=(*self.settings.job_files, *map(Path, job_files))
            )
        self.clock: Clock = clock or SystemClock()
        self.node_options = node_options or NodeOptions(
            workers=self.settings.workers,
            switch_interval_s=self.settings.switch_interval_s,
            gc_freeze=self.settings.gc_freeze,
        )
        self.job_defaults = aps.job_defaults
        self.executor_aliases = aps.executor_aliases  # APScheduler executor alias -> kind
        self.app = app
        self.check_targets = check_targets
        self.bus = EventBus()
        self.store = Store(self.settings.effective_database_url)
        self.store.upgrade()
        self.audit = AuditLog(self.store.db)
        self.actor = local_actor()  # who the audit names when a call gives no ``by``
        self._accounts: Any = None
        self._vault: Vault | None = None
        self.node: SchedulerNode | None = None
        # Called in the transactions that record runs' ends (alerts, workflows subscribe).
        self.run_hooks = RunHooks()
        # Alerts (tickwork.alerts): rules evaluated in those transactions, the outbox's worker.
        from tickwork.alerts.hook import AlertHook
        from tickwork.alerts.repo import AlertRepo

        self.alert_repo = AlertRepo()
        self.alert_hook = AlertHook(self.store.db, self.clock, self.alert_repo)
        self.run_hooks.add(self.alert_hook)
        self._alert_worker: Any = None
        self._presence: Any = None  # an API-only node's heartbeat (Presence)
        self._declared: dict[str, JobRecord] = {}  # code jobs declared before start()
        self._lock = threading.RLock()
        self._stopped = threading.Event()

    def _start_alert_worker(self) -> None:
        """Start delivering alerts from this process (``AlertsMixin``)."""

    def _stop_alert_worker(self) -> None:
        """Stop delivering alerts (``AlertsMixin``)."""

    def _sync_builtin_jobs(self) -> None:
        """Write Tickwork's own jobs (``RetentionMixin``)."""

    def _build(self, spec: JobSpec, *, by: str | None) -> JobRecord:
        return build_record(
            spec, now_us=self.clock.now_us(), default_tz=self.settings.timezone, by=by
        )

    def _executor_name(self, executor: str | None) -> str | None:
        """An APScheduler executor alias given to the constructor (``"processpool"``) as
        Tickwork's executor; without one, the kind of the ``"default"`` alias if not threads."""
        if executor is None:
            default = self.executor_aliases.get("default")
            return default if default not in (None, "thread") else None
        return self.executor_aliases.get(executor, executor)

    # -- secrets at rest (tickwork.connections) ------------------------------------------------
    @property
    def vault(self) -> Vault:
        """The keyring that seals job secrets (loaded on first use; see
        ``tickwork.connections.vault``)."""
        if self._vault is None:
            self._vault = Vault.load(self.settings.data_dir)
        return self._vault

    def _load_keys(self) -> None:
        """Load the keys that open stored secrets, if there are any (never creates one: a
        node or a reader with no key has nothing sealed to open)."""
        if self._vault is not None:
            return
        try:
            self._vault = Vault.load(self.settings.data_dir, create=False)
        except VaultError as exc:
            log.debug("no vault keys: %s", exc)
        except InvalidInput as exc:  # a key is configured but unusable: runs will say so too
            log.warning("the vault keys could not be loaded: %s", exc)

    def _seal(self, record: JobRecord, old: JobRecord | None = None) -> JobRecord:
        """``record`` with its secret kwargs sealed (stored seals kept when unchanged)."""
        if not record.secret_keys:
            return record
        kwargs = record.target.get("kwargs") or {}
        if not any(kwargs.get(k) not in (None, "") for k in record.secret_keys):
            return record
        old_kwargs = old.target.get("kwargs") if old is not None and old.id == record.id else None
        sealed = seal_kwargs(self.vault, record.id, record.secret_keys, kwargs, old_kwargs)
        return replace(record, target={**record.target, "kwargs": sealed})

    # -- which targets the API, console and CLI may name (tickwork.targets.policy) -----------
    def allowed_targets(self) -> tuple[str, ...]:
        """The module prefixes jobs created through the API, console or CLI may target:
        the ``allowed_targets`` setting, else the modules of the jobs declared in code and
        job files (stored or pending in this process) plus Tickwork's built-ins."""
        if self.settings.allowed_targets is not None:
            return self.settings.allowed_targets
        with self.store.db.read() as conn:
            refs = self.store.jobs.refs_by_owner(conn, TRUSTED_OWNERS)
        with self._lock:
            refs.extend(str(r.target.get("ref")) for r in self._declared.values())
        modules = {m for m in map(module_of, refs) if m is not None}
        return (*BUILTIN_PREFIXES, *sorted(modules))

    def _check_restricted(self, record: JobRecord, old: JobRecord | None) -> None:
        """A job written through the API, console or CLI: its target must not be denied and,
        when it is new or changed, must be allowed. Refused with InvalidInput("target").
        (Other kinds than python are checked by ``_check_kind``, for every owner.)"""
        if record.target_kind == "celery":  # its app's module is imported like a target's
            ref = str(record.target.get("app"))
            if old is not None and str(old.target.get("app")) == ref:
                return
            check_target(ref, self.allowed_targets())
            return
        if record.target_kind != "python":
            return
        ref = str(record.target.get("ref"))
        reason = denied_reason(ref)
        if reason is not None:
            raise InvalidInput("target", reason, code="target_denied", params={"ref": ref})
        if old is not None and str(old.target.get("ref")) == ref:
            return  # unchanged: a later, narrower allowlist does not block other edits
        check_target(ref, self.allowed_targets())

    # -- other kinds than python (tickwork.targets) --------------------------------------------
    def _check_kind(self, conn: Connection, record: JobRecord, old: JobRecord | None) -> None:
        """A non-Python job whose target is new or changed: its kind is switched on, the
        connections and the script it names exist (and fit), an HTTP URL's literal address
        passes the SSRF guard. InvalidInput naming the field."""
        if record.target_kind == "python":
            return
        if old is not None and (old.target_kind, old.target) == (record.target_kind, record.target):
            return
        kind = kinds.get(record.target_kind)
        if kind.name in self.settings.kinds_off:
            raise InvalidInput(
                "target.kind",
                kinds.off_reason(kind),
                code="kind_switched_off",
                params={"kind": kind.name, "setting": kind.switch or ""},
            )
        refs = kind.references(record.target)
        field = "target.connection" if "connection" in record.target else "target.connections"
        wanted = {"sql": "database", "http": "http"}.get(kind.name)
        for name in refs.connections:
            found = self.store.connections.get(conn, name)
            if found is None:
                raise InvalidInput(
                    field,
                    f"connection {name!r} does not exist (create it first)",
                    code="unknown_connection",
                    params={"name": name},
                )
            if wanted is not None and found.kind != wanted:
                raise InvalidInput(
                    field,
                    f"connection {name!r} is a {found.kind} connection; a {kind.name} job needs "
                    f"a {wanted} connection",
                    code="wrong_connection_kind",
                    params={"name": name, "kind": found.kind, "wanted": wanted},
                )
        if refs.script is not None:
            self._check_script_reference(conn, record.target, refs.script, refs.script_version)
        url = record.target.get("url")
        if kind.name == "http" and isinstance(url, str) and "://" in url:
            from tickwork.net.ssrf import Allowlist, check_literal_host

            check_literal_host(
                url, Allowlist.parse(",".join(self.settings.ssrf_allow)), "target.url"
            )

    def _check_script_reference(
        self, conn: Connection, target: Mapping[str, Any], name: str, version: int | None
    ) -> None:
        script = self.store.scripts.get(conn, name)
        if script is None:
            raise InvalidInput(
                "target.script",
                f"script {name!r} does not exist (push it first)",
                code="unknown_script",
                params={"name": name},
            )
        if target.get("language") != script.language:
            raise InvalidInput(
                "target.language",
                f"script {name!r} is a {script.language} script",
                code="script_language_mismatch",
                params={"name": name, "language": script.language},
            )
        if version is not None and self.store.scripts.version(conn, name, version) is None:
            raise InvalidInput(
                "target.version",
                f"script {name!r} has no version {version} (latest: {script.latest_version})",
                code="unknown_script_version",
                params={"name": name, "version": version, "latest": script.latest_version},
            )

    def _kind_references(self, conn: Connection) -> dict[tuple[str, str], list[str]]:
        """("connection" | "script", name) -> the jobs that name it."""
        out: dict[tuple[str, str], list[str]] = {}
        for job_id, kind_name, target in kind_targets(conn):
            try:
                refs = kinds.get(kind_name).references(target)
            except Exception:  # a kind this version does not know: it names nothing we know
                continue
            for name in refs.connections:
                out.setdefault(("connection", name), []).append(job_id)
            if refs.script is not None:
                out.setdefault(("script", refs.script), []).append(job_id)
        return out

    def _job(self, record: JobRecord, *, pending: bool = False) -> Job:
        if record.secret_keys:
            self._load_keys()  # the keys that open Job.kwargs
        return Job(self, record, pending=pending)  # type: ignore[arg-type]  # a mixin of it

    def _publish(self, event: JobEvent | SchedulerEvent) -> None:
        # inside a unit of work (an API write), only once the change is committed
        self.store.db.after_commit(lambda: self.bus.publish(event))

    def _changed(self) -> None:
        """Something the loop should look at changed: wake this process's node."""
        node = self.node
        if node is not None:
            self.store.db.after_commit(node.wake)
