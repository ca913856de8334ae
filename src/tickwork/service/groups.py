"""Groups through the facade: declare, change and remove groups; list them with their job
counts (declared groups and the groups jobs merely name); what a group action touches (the
count a confirmation shows); run every job of a group now.

Access per group (who may do this to that group) is the faces' part: they hold the caller
(``tickwork.accounts.access``); the facade acts for whoever calls it, like the rest of it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal, cast

from sqlalchemy import select

from tickwork.errors import Conflict, InvalidInput, NotFound
from tickwork.groups.model import (
    DEFAULT_GROUP,
    GroupRecord,
    check_defaults,
    check_group_name,
)
from tickwork.jobspec import UNSET, _text
from tickwork.service.base import FacadeBase
from tickwork.store import JobFilter

GroupAction = Literal["pause", "resume", "run"]
GROUP_ACTIONS: tuple[GroupAction, ...] = ("pause", "resume", "run")


@dataclass(frozen=True, slots=True)
class GroupSummary:
    record: GroupRecord
    jobs: int
    paused: int


@dataclass(frozen=True, slots=True)
class GroupTouch:
    """What a group action acts on: ``jobs`` of the group, ``changes`` of them change
    (pause: those not paused yet; resume: the paused ones; run: every job)."""

    group: str
    action: GroupAction
    jobs: int
    changes: int
    job_ids: tuple[str, ...]


class GroupsMixin(FacadeBase):
    def list_groups(self, hidden: frozenset[str] = frozenset()) -> list[GroupSummary]:
        """Declared groups and the groups that jobs name, by name, with job counts; those in
        ``hidden`` left out."""
        with self.store.db.read() as conn:
            declared = {g.name: g for g in self.store.groups.all(conn)}
            counts = self.store.jobs.group_counts(conn)
        names = sorted((set(declared) | set(counts)) - hidden)
        return [
            GroupSummary(declared.get(n) or GroupRecord(n), *counts.get(n, (0, 0))) for n in names
        ]

    def get_group(self, name: str) -> GroupSummary:
        """A group, declared or only named by jobs (version 0); NotFound when neither."""
        with self.store.db.read() as conn:
            record = self.store.groups.get(conn, name)
            count = self.store.jobs.count(conn, JobFilter(group=name))
            paused = self.store.jobs.count(conn, JobFilter(group=name, state="paused"))
        if record is None and count == 0 and name != DEFAULT_GROUP:
            raise NotFound("group", name)
        return GroupSummary(record or GroupRecord(name), count, paused)

    def group_defaults(self, name: str) -> dict[str, Any]:
        """The fields a new job of group ``name`` takes when it gives none (time zone and
        policies); empty for an undeclared group."""
        with self.store.db.read() as conn:
            record = self.store.groups.get(conn, name)
        return record.job_defaults() if record is not None else {}

    def add_group(
        self,
        name: str,
        *,
        description: str = "",
        owner: str | None = None,
        timezone: str | None = None,
        defaults: Mapping[str, Any] | None = None,
        by: str | None = None,
    ) -> GroupRecord:
        """Declare a group (its jobs may exist already: a group named by jobs becomes an
        object with a description, an owner and defaults)."""
        fields = self._group_fields(
            description=description, owner=owner, timezone=timezone, defaults=defaults or {}
        )
        now = self.clock.now_us()
        record = GroupRecord(
            name=check_group_name(name),
            version=1,
            created_at=now,
            created_by=by,
            updated_at=now,
            updated_by=by,
            **fields,
        )
        with self.store.db.write() as conn:
            self.store.groups.insert(conn, record)
            self.audit.record(
                conn,
                at=now,
                actor=by or self.actor,
                action="group.create",
                subject=record.name,
                after=record.public(),
            )
        return record

    def update_group(
        self,
        name: str,
        *,
        expected_version: int | None = None,
        by: str | None = None,
        **changes: Any,
    ) -> GroupRecord:
        """Change a group's description, owner, timezone or defaults (a group only named
        by jobs is declared by its first change). Jobs keep what they have: defaults apply
        to jobs created afterwards."""
        allowed = {"description", "owner", "timezone", "defaults"}
        unknown = sorted(set(changes) - allowed)
        if unknown:
            raise InvalidInput(unknown[0], "is not a field of a group", code="unknown_option")
        now = self.clock.now_us()
        with self.store.db.write() as conn:
            old = self.store.groups.get(conn, name, for_update=True)
            if old is None:
                if not self.store.jobs.count(conn, JobFilter(group=name)):
                    raise NotFound("group", name)
                old = GroupRecord(check_group_name(name), created_at=now, created_by=by)
            if expected_version is not None and expected_version != old.version:
                raise Conflict(
                    "version",
                    f"group {name!r} is at version {old.version}, not {expected_version}",
                    code="stale_version",
                    params={"id": name, "expected": expected_version},
                )
            merged = {
                "description": old.description,
                "owner": old.owner,
                "timezone": old.timezone,
                "defaults": old.defaults,
                **changes,
            }
            fields = self._group_fields(**merged)
            new = replace(old, **fields, version=old.version + 1, updated_at=now, updated_by=by)
            if old.declared:
                self.store.groups.update(conn, new, old.version)
            else:
                self.store.groups.insert(conn, new)
            self.audit.record(
                conn,
                at=now,
                actor=by or self.actor,
                action="group.update",
                subject=name,
                before=old.public() if old.declared else None,
                after=new.public(),
            )
        return new

    def remove_group(self, name: str, *, by: str | None = None) -> None:
        """Remove a declared group; refused while jobs are in it (move or delete them first).
        Users' grants for the name stay: they hold again if the name comes back."""
        now = self.clock.now_us()
        with self.store.db.write() as conn:
            old = self.store.groups.get(conn, name, for_update=True)
            if old is None:
                raise NotFound("group", name)
            count = self.store.jobs.count(conn, JobFilter(group=name))
            if count:
                raise Conflict(
                    "name",
                    f"group {name!r} still has {count} jobs; move or delete them first",
                    code="group_not_empty",
                    params={"name": name, "jobs": count},
                )
            self.store.groups.delete(conn, name)
            self.audit.record(
                conn,
                at=now,
                actor=by or self.actor,
                action="group.remove",
                subject=name,
                before=old.public(),
            )

    def group_touch(self, name: str, action: str) -> GroupTouch:
        """What ``action`` (pause, resume, run) would act on in group ``name``, without
        doing it: the count a confirmation shows (``dry_run`` of the API)."""
        if action not in GROUP_ACTIONS:
            raise InvalidInput(
                "action",
                f"{action!r} is not one of {', '.join(GROUP_ACTIONS)}",
                code="not_one_of",
                params={"value": action, "choices": list(GROUP_ACTIONS)},
            )
        with self.store.db.read() as conn:
            ids = self.store.jobs.ids(conn, JobFilter(group=name))
            flags = self._paused_flags(conn, ids)
        if action == "pause":
            changes = sum(1 for i in ids if not flags.get(i, False))
        elif action == "resume":
            changes = sum(1 for i in ids if flags.get(i, False))
        else:
            changes = len(ids)
        return GroupTouch(name, action, len(ids), changes, tuple(ids))

    def run_group(self, name: str, *, by: str | None = None) -> list[int]:
        """Queue a run now of every job in group ``name`` (each with its own audit record);
        returns the run ids."""
        with self.store.db.read() as conn:
            ids = self.store.jobs.ids(conn, JobFilter(group=name))
        facade = cast(Any, self)  # run_job: RunsMixin, beside this mixin in Tickwork
        return [int(facade.run_job(job_id, by=by)) for job_id in ids]

    def _paused_flags(self, conn: Any, ids: list[str]) -> dict[str, bool]:
        from tickwork.store.tables import job

        if not ids:
            return {}
        rows = conn.execute(select(job.c.id, job.c.paused).where(job.c.id.in_(ids)))
        return {str(i): bool(p) for i, p in rows}

    def _group_fields(
        self,
        *,
        description: Any,
        owner: Any,
        timezone: Any,
        defaults: Any,
    ) -> dict[str, Any]:
        description = _text("description", description if description is not None else "", 10_000)
        if owner is not None and owner is not UNSET:
            owner = _text("owner", owner, 100).strip().lower() or None
            if owner is not None and cast(Any, self).accounts.find_user(owner) is None:
                raise InvalidInput(
                    "owner",
                    f"no user is named {owner!r}",
                    code="unknown_user",
                    params={"name": owner},
                )
        if timezone is not None:
            timezone = _text("timezone", timezone, 64).strip() or None
        checked = check_defaults(defaults or {}, timezone)
        return {
            "description": description,
            "owner": owner,
            "timezone": timezone,
            "defaults": checked,
        }
