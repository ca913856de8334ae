"""Runtime settings, from ``TICKWORK_*`` environment variables, overridable in code and CLI."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from tickwork.errors import InvalidInput


def local_zone_name() -> str:
    """The machine's IANA zone name (APScheduler's default zone), or UTC if unknown."""
    tz = os.environ.get("TZ", "").lstrip(":")
    if tz and "/" in tz and not tz.startswith("/"):
        return tz
    try:
        target = os.path.realpath("/etc/localtime")
    except OSError:
        return "UTC"
    marker = "/zoneinfo/"
    if marker in target:
        return target.split(marker, 1)[1]
    return "UTC"


LOCAL_DATA_DIR = ".tickwork"  # a project's own data directory (what `make run` uses)


def default_data_dir() -> Path:
    """``./.tickwork`` when the working directory has one (a checkout after ``make run``, a
    project that keeps its scheduler data beside it), else the user's data directory
    (``$XDG_DATA_HOME/tickwork``, ``~/.local/share/tickwork``): the CLI, ``tickwork serve``
    and ``Tickwork()`` started in the same place use the same database."""
    local = Path.cwd() / LOCAL_DATA_DIR
    if local.is_dir():
        return local
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "tickwork"


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path = field(default_factory=default_data_dir)
    database_url: str | None = None  # None: SQLite file in data_dir
    timezone: str = field(default_factory=local_zone_name)
    job_files: tuple[Path, ...] = ()
    threads: int = 20
    processes: int = 4
    async_tasks: int = 100
    log_level: str = "INFO"
    switch_interval_s: float | None = None  # see NodeOptions.switch_interval_s
    gc_freeze: bool = False  # see NodeOptions.gc_freeze
    # Module prefixes that jobs created through the API, console or CLI may target (env
    # TICKWORK_ALLOWED_TARGETS, comma-separated; "*" allows any). None: the modules of jobs
    # declared in code and job files, plus Tickwork's built-ins (tickwork.targets.policy).
    allowed_targets: tuple[str, ...] | None = None
    # Job kinds the deployment switched off (TICKWORK_SHELL=off, TICKWORK_SCRIPTS=off): such
    # jobs are refused when created or changed, and their runs fail saying so.
    kinds_off: frozenset[str] = frozenset()
    # Hosts and networks the SSRF guard lets HTTP jobs, connection tests and alert channels
    # reach besides public addresses (TICKWORK_SSRF_ALLOW, comma-separated).
    ssrf_allow: tuple[str, ...] = ()
    # How scripts are confined (TICKWORK_SCRIPTS_SANDBOX): "auto" (Landlock where the kernel
    # has it, an unprivileged user when the node runs as root; refused with neither) or "none".
    scripts_sandbox: str = "auto"
    scripts_user: str = "nobody"  # TICKWORK_SCRIPTS_USER: whom scripts run as under root
    script_python: str | None = None  # TICKWORK_SCRIPT_PYTHON: the interpreter of scripts
    # Alerts (docs/alerts.md): the console's address for links in messages
    # (TICKWORK_BASE_URL, e.g. https://tickwork.example.com) and how often a node's alert
    # worker looks for due deliveries (TICKWORK_ALERTS_POLL_S).
    base_url: str | None = None
    alerts_poll_s: float = 1.0
    # Run-history retention, a built-in job (TICKWORK_RETENTION=on/off; None: on under
    # `tickwork serve`, off when embedded): runs older than TICKWORK_RUNS_KEEP_DAYS or beyond
    # TICKWORK_RUNS_KEEP_PER_JOB of a job, alert history older than TICKWORK_ALERTS_KEEP_DAYS,
    # audit events older than TICKWORK_AUDIT_KEEP_DAYS.
    retention: bool | None = None
    runs_keep_days: float | None = 30
    runs_keep_per_job: int | None = 10_000
    alerts_keep_days: float | None = 90
    audit_keep_days: float | None = 365
    # Scheduled backups of this store, a built-in job, on when TICKWORK_STORE_BACKUP_DIR names
    # a directory; backups older than TICKWORK_STORE_BACKUP_KEEP_DAYS are removed.
    store_backup_dir: Path | None = None
    store_backup_keep_days: float = 30

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'tickwork.db'}"

    @property
    def workers(self) -> dict[str, int]:
        return {"thread": self.threads, "process": self.processes, "asyncio": self.async_tasks}

    def with_overrides(self, **changes: Any) -> Settings:
        """A copy with the given values (None leaves a value alone, except for the settings
        whose None means something: ``allowed_targets``)."""
        keep_none = {"allowed_targets"}
        return replace(
            self, **{k: v for k, v in changes.items() if v is not None or k in keep_none}
        )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        if "TICKWORK_DATA_DIR" in env:
            values["data_dir"] = Path(env["TICKWORK_DATA_DIR"])
        if env.get("TICKWORK_DATABASE_URL"):
            values["database_url"] = env["TICKWORK_DATABASE_URL"]
        if env.get("TICKWORK_TIMEZONE"):
            values["timezone"] = env["TICKWORK_TIMEZONE"]
        if env.get("TICKWORK_JOB_FILES"):
            values["job_files"] = tuple(
                Path(p) for p in env["TICKWORK_JOB_FILES"].split(os.pathsep) if p
            )
        for key, name in (
            ("threads", "TICKWORK_THREADS"),
            ("processes", "TICKWORK_PROCESSES"),
            ("async_tasks", "TICKWORK_ASYNC_TASKS"),
        ):
            if env.get(name):
                try:
                    values[key] = int(env[name])
                except ValueError:
                    raise InvalidInput(name, f"must be a whole number, not {env[name]!r}") from None
        if env.get("TICKWORK_LOG_LEVEL"):
            values["log_level"] = env["TICKWORK_LOG_LEVEL"].upper()
        if env.get("TICKWORK_ALLOWED_TARGETS", "").strip():
            from tickwork.targets.policy import parse_allowlist

            values["allowed_targets"] = parse_allowlist(env["TICKWORK_ALLOWED_TARGETS"])
        values.update(kind_settings(env))
        values.update(alert_settings(env))
        values.update(store_backup_settings(env))
        return cls(**values)


_OFF = ("off", "0", "false", "no", "disabled")
KIND_SWITCHES = {"shell": "TICKWORK_SHELL", "script": "TICKWORK_SCRIPTS"}


def kind_settings(env: Mapping[str, str]) -> dict[str, Any]:
    """The job kinds' settings from the environment (see Settings)."""
    from tickwork.net.ssrf import ALLOW_ENV, Allowlist

    values: dict[str, Any] = {
        "kinds_off": frozenset(
            kind
            for kind, name in KIND_SWITCHES.items()
            if env.get(name, "").strip().lower() in _OFF
        )
    }
    if env.get(ALLOW_ENV, "").strip():
        values["ssrf_allow"] = tuple(Allowlist.parse(env[ALLOW_ENV]).entries())
    sandbox = env.get("TICKWORK_SCRIPTS_SANDBOX", "").strip().lower()
    if sandbox:
        if sandbox not in ("auto", "none"):
            raise InvalidInput(
                "TICKWORK_SCRIPTS_SANDBOX",
                f"{sandbox!r} is not auto or none",
                code="not_one_of",
                params={"value": sandbox, "choices": ["auto", "none"]},
            )
        values["scripts_sandbox"] = sandbox
    if env.get("TICKWORK_SCRIPTS_USER", "").strip():
        values["scripts_user"] = env["TICKWORK_SCRIPTS_USER"].strip()
    if env.get("TICKWORK_SCRIPT_PYTHON", "").strip():
        values["script_python"] = env["TICKWORK_SCRIPT_PYTHON"].strip()
    return values


def retention_settings(env: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    switch = env.get("TICKWORK_RETENTION", "").strip().lower()
    if switch:
        values["retention"] = switch not in _OFF
    for key, name, kind in (
        ("runs_keep_days", "TICKWORK_RUNS_KEEP_DAYS", float),
        ("runs_keep_per_job", "TICKWORK_RUNS_KEEP_PER_JOB", int),
        ("alerts_keep_days", "TICKWORK_ALERTS_KEEP_DAYS", float),
        ("audit_keep_days", "TICKWORK_AUDIT_KEEP_DAYS", float),
    ):
        text = env.get(name, "").strip().lower()
        if not text:
            continue
        if text in ("none", "off", "forever"):
            values[key] = None
            continue
        try:
            value = kind(text)
        except ValueError:
            raise InvalidInput(name, f"must be a number or 'forever', not {text!r}") from None
        if value <= 0:
            raise InvalidInput(name, "must be positive (or 'forever')")
        values[key] = value
    return values


def alert_settings(env: Mapping[str, str]) -> dict[str, Any]:
    """The alerts' settings from the environment (see Settings)."""
    values: dict[str, Any] = {}
    base = env.get("TICKWORK_BASE_URL", "").strip()
    if base:
        if not base.startswith(("http://", "https://")):
            raise InvalidInput("TICKWORK_BASE_URL", "must be an http(s) URL of the console")
        values["base_url"] = base.rstrip("/")
    poll = env.get("TICKWORK_ALERTS_POLL_S", "").strip()
    if poll:
        try:
            values["alerts_poll_s"] = max(0.05, float(poll))
        except ValueError:
            raise InvalidInput("TICKWORK_ALERTS_POLL_S", "must be a number of seconds") from None
    values.update(retention_settings(env))
    return values


def store_backup_settings(env: Mapping[str, str]) -> dict[str, Any]:
    """The scheduled store backup's settings from the environment (see Settings)."""
    values: dict[str, Any] = {}
    folder = env.get("TICKWORK_STORE_BACKUP_DIR", "").strip()
    if folder:
        values["store_backup_dir"] = Path(folder)
    days = env.get("TICKWORK_STORE_BACKUP_KEEP_DAYS", "").strip()
    if days:
        try:
            keep = float(days)
        except ValueError:
            raise InvalidInput(
                "TICKWORK_STORE_BACKUP_KEEP_DAYS", f"must be a number of days, not {days!r}"
            ) from None
        if not keep > 0:
            raise InvalidInput("TICKWORK_STORE_BACKUP_KEEP_DAYS", "must be positive")
        values["store_backup_keep_days"] = keep
    return values
