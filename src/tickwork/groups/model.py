"""A group's record and the checks of its fields (pure: no I/O).

A group's defaults fill what a new job of the group leaves out (its time zone and policy
fields); they are checked by the same rules as a job's own fields (``tickwork.jobspec``), so a
default that a job could not carry is refused when the group is saved, naming the field."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tickwork.errors import InvalidInput

DEFAULT_GROUP = "default"
# The job fields a group may give defaults for (besides its time zone).
DEFAULT_FIELDS = (
    "executor",
    "misfire_policy",
    "misfire_grace_s",
    "max_catchup",
    "concurrency_policy",
    "max_instances",
    "timeout_s",
    "retries",
    "retry_backoff_s",
    "retry_backoff_max_s",
)


@dataclass(frozen=True, slots=True)
class GroupRecord:
    name: str
    description: str = ""
    owner: str | None = None
    timezone: str | None = None
    defaults: Mapping[str, Any] = field(default_factory=dict)
    version: int = 0  # 0: implicit (named by jobs, never saved)
    created_at: int | None = None
    created_by: str | None = None
    updated_at: int | None = None
    updated_by: str | None = None

    @property
    def declared(self) -> bool:
        return self.version > 0

    @classmethod
    def from_row(cls, row: Any) -> GroupRecord:
        return cls(
            name=row["name"],
            description=row["description"],
            owner=row["owner"],
            timezone=row["timezone"],
            defaults=dict(row["defaults"] or {}),
            version=int(row["version"]),
            created_at=row["created_at"],
            created_by=row["created_by"],
            updated_at=row["updated_at"],
            updated_by=row["updated_by"],
        )

    def to_row(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "owner": self.owner,
            "timezone": self.timezone,
            "defaults": dict(self.defaults),
            "version": self.version,
            "created_at": self.created_at,
            "created_by": self.created_by,
            "updated_at": self.updated_at,
            "updated_by": self.updated_by,
        }

    def public(self) -> dict[str, Any]:
        """What the audit keeps of a group (it holds no secrets)."""
        return {
            "name": self.name,
            "description": self.description,
            "owner": self.owner,
            "timezone": self.timezone,
            "defaults": dict(self.defaults),
            "version": self.version,
        }

    def job_defaults(self) -> dict[str, Any]:
        """The JobSpec fields a new job of this group takes when it names none."""
        out = dict(self.defaults)
        if self.timezone:
            out["timezone"] = self.timezone
        return out


def check_group_name(value: object, field_name: str = "name") -> str:
    """A group's name: the text a job's ``group`` holds (1-100 characters, no control
    characters), without ``/`` so that it can stand in a URL path."""
    from tickwork.jobspec import _text

    name = _text(field_name, value, 100).strip()
    if not name:
        raise InvalidInput(field_name, "must not be empty", code="empty")
    if "/" in name:
        raise InvalidInput(field_name, "must not contain '/'", code="group_name_slash")
    return name


def check_defaults(defaults: Mapping[str, Any], timezone: str | None) -> dict[str, Any]:
    """Check a group's defaults by the rules of a job's fields; refuse unknown fields."""
    from tickwork.jobspec import JobSpec, build_record
    from tickwork.triggers.zones import resolve_tz

    if not isinstance(defaults, Mapping):
        raise InvalidInput("defaults", "must be a mapping", code="expected_mapping")
    unknown = sorted(set(defaults) - set(DEFAULT_FIELDS))
    if unknown:
        raise InvalidInput(
            f"defaults.{unknown[0]}",
            f"is not a job field a group gives defaults for ({', '.join(DEFAULT_FIELDS)})",
            code="unknown_option",
        )
    if timezone is not None:
        resolve_tz(timezone, "timezone")
    given = {k: v for k, v in defaults.items() if v is not None}
    probe = JobSpec(
        target="tickwork.groups.model:check_defaults",
        trigger="interval",
        trigger_args={"seconds": 60},
        id="group-defaults-probe",
        check_target=False,
        timezone=timezone,
        **given,
    )
    try:
        build_record(probe, now_us=0, default_tz="UTC", by=None)
    except InvalidInput as exc:
        raise InvalidInput(
            f"defaults.{exc.field}", exc.reason, code=exc.code, params=exc.params
        ) from None
    except TypeError as exc:  # a value of the wrong type for a dataclass field
        raise InvalidInput("defaults", str(exc), code="bad_value") from None
    return given
