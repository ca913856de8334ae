"""Job templates through the facade: list and read them (built-in and administrators'),
save and remove administrators' own, make a job from one, and roll a template's change out to
its jobs with a preview of what changes. Each write is one transaction with its audit record.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from tickwork.errors import Conflict, InvalidInput, NotFound
from tickwork.executors.redact import MASK
from tickwork.job import Job
from tickwork.jobspec import JobSpec, build_record
from tickwork.service.base import FacadeBase
from tickwork.service.specs import definition
from tickwork.store import templates_repo as repo
from tickwork.store.records import JobRecord
from tickwork.templates import registry
from tickwork.templates.model import Template, check_template, render
from tickwork.templates.schema import check_values

if TYPE_CHECKING:
    from tickwork.service.jobs import JobsMixin


@dataclass(frozen=True)
class TemplateInfo:
    template: Template
    jobs: int  # existing jobs made from it
    created_at: int | None = None
    updated_at: int | None = None
    updated_by: str | None = None


@dataclass(frozen=True)
class FieldChange:
    field: str
    before: Any
    after: Any


@dataclass(frozen=True)
class RolloutItem:
    """One job of a rollout: what would change (or changed), or why it cannot."""

    job_id: str
    from_version: int
    to_version: int
    changes: list[FieldChange] = field(default_factory=list)
    error: str | None = None
    error_field: str | None = None

    @property
    def outdated(self) -> bool:
        return self.from_version != self.to_version or bool(self.changes)


_SHOWN = ("name", "description", "group_name", "tags", "target_kind", "target", "trigger",
          "timezone", "timeout_s", "retries", "concurrency_policy", "max_instances",
          "misfire_policy", "executor", "secret_keys")  # fmt: skip


class TemplatesMixin(FacadeBase):
    @property
    def _jobs(self) -> JobsMixin:
        return cast("JobsMixin", self)  # the facade has both

    # -- reading -------------------------------------------------------------------------------
    def templates(self) -> list[TemplateInfo]:
        """Built-in templates, then the administrators' own, by name, with their job counts."""
        with self.store.db.read() as conn:
            stored = repo.all_templates(conn)
            counts = repo.counts(conn)
        out = [TemplateInfo(t, counts.get(t.name, 0)) for t in registry.builtins()]
        for row in stored:
            try:
                template = check_template(row.definition, version=row.version, stored=True)
            except InvalidInput:  # written by a newer version with rules this one lacks
                continue
            out.append(
                TemplateInfo(
                    template, counts.get(row.name, 0), row.created_at, row.updated_at,
                    row.updated_by,
                )
            )  # fmt: skip
        return out

    def get_template(self, name: str) -> Template:
        found = registry.builtin(name)
        if found is not None:
            return found
        with self.store.db.read() as conn:
            row = repo.get_template(conn, name)
        if row is None:
            raise NotFound("template", name)
        return check_template(row.definition, version=row.version, stored=True)

    def template_jobs(self, name: str) -> list[repo.TemplateLink]:
        """The jobs made from a template (that still exist), with their versions and values
        (secret values shown as ``******``)."""
        self.get_template(name)
        with self.store.db.read() as conn:
            return repo.links_of(conn, name)

    def job_template(self, job_id: str) -> repo.TemplateLink | None:
        """The template a job was made from, its version then and the values given."""
        with self.store.db.read() as conn:
            return repo.link_of(conn, job_id)

    # -- administrators' templates ----------------------------------------------------------
    def save_template(
        self,
        data: Mapping[str, Any],
        *,
        by: str | None = None,
        expected_version: int | None = None,
    ) -> Template:
        """Create an administrator's template, or change it (its version steps; the jobs
        made from it keep theirs until a rollout)."""
        template = check_template(data)
        if registry.builtin(template.name) is not None:
            raise Conflict(
                "name",
                f"{template.name!r} is a built-in template; give yours another name",
                code="builtin_template",
                params={"name": template.name},
            )
        now = self.clock.now_us()
        with self.store.db.write() as conn:
            old = repo.get_template(conn, template.name, for_update=True)
            current = 0 if old is None else old.version
            if expected_version is not None and expected_version != current:
                raise Conflict(
                    "version",
                    f"template {template.name!r} is at version {current}, not {expected_version}",
                    code="stale_version",
                    params={"id": template.name, "version": current,
                            "expected": expected_version},
                )  # fmt: skip
            body = template.definition()
            if old is not None and old.definition == body:
                return check_template(body, version=old.version)
            version = repo.put_template(conn, template.name, body, now=now, by=by)
            self.audit.record(
                conn,
                at=now,
                actor=by or self.actor,
                action="template.create" if old is None else "template.update",
                subject=template.name,
                before=None if old is None else old.definition,
                after=body,
                detail={"version": version},
            )
        return check_template(body, version=version)

    def remove_template(self, name: str, *, by: str | None = None) -> None:
        """Remove an administrator's template; refused while jobs made from it exist."""
        if registry.builtin(name) is not None:
            raise Conflict(
                "name", f"{name!r} is a built-in template", code="builtin_template",
                params={"name": name},
            )  # fmt: skip
        with self.store.db.write() as conn:
            old = repo.get_template(conn, name, for_update=True)
            if old is None:
                raise NotFound("template", name)
            users = repo.links_of(conn, name)
            if users:
                raise Conflict(
                    "name",
                    f"{len(users)} jobs were made from {name!r} (e.g. {users[0].job_id}); "
                    "remove them first",
                    code="template_in_use",
                    params={"name": name, "count": len(users)},
                )
            repo.delete_template(conn, name)
            self.audit.record(
                conn, at=self.clock.now_us(), actor=by or self.actor, action="template.remove",
                subject=name, before=old.definition,
            )  # fmt: skip

    # -- jobs from templates -------------------------------------------------------------------
    def template_spec(
        self,
        template: Template,
        job_id: str,
        values: Mapping[str, Any],
        *,
        owner: str = "python",
        paused: bool = False,
    ) -> JobSpec:
        """The JobSpec a template gives with checked values."""
        fields, secret_keys = render(template, values)
        target = fields.pop("target")
        trigger = fields.pop("trigger", None)
        group = fields.pop("group", "default")
        return JobSpec(
            target=target,
            trigger=trigger,
            id=job_id,
            group=group,
            secret_keys=secret_keys,
            owner=owner,
            paused=paused,
            check_target=False,
            **fields,
        )

    def add_job_from_template(
        self,
        job_id: str,
        template: str,
        params: Mapping[str, Any] | None = None,
        *,
        by: str | None = None,
        owner: str = "python",
        paused: bool = False,
    ) -> Job:
        """Make a job from a template: the values are checked against its schema (errors
        name ``params.<name>``), the job is written with the template's name and version,
        in one transaction (nothing is written when anything is refused)."""
        found = self.get_template(template)
        values = check_values(found.parameters, params)
        if found.check is not None:
            values = found.check(dict(values))
        spec = self.template_spec(found, job_id, values, owner=owner, paused=paused)
        remembered = _remembered(found, values)
        with self.store.db.unit():
            job = self._jobs.create_job(spec, by=by)
            with self.store.db.write() as conn:
                repo.link(
                    conn, job.id, found.name, found.version, remembered,
                    now=self.clock.now_us(), by=by,
                )  # fmt: skip
        return job

    # -- rollout ------------------------------------------------------------------------------
    def preview_rollout(self, name: str, *, jobs: Sequence[str] | None = None) -> list[RolloutItem]:
        """What rolling the template's current version out would change in each of its
        jobs (or the given ones); nothing is written. Secret values show as ``******``."""
        template = self.get_template(name)
        with self.store.db.read() as conn:
            links = self._links(conn, name, jobs)
            records = {link.job_id: self.store.jobs.get(conn, link.job_id) for link in links}
        out = []
        for link in links:
            record = records[link.job_id]
            if record is not None:
                out.append(self._plan(template, link, record)[0])
        return out

    def rollout_template(
        self, name: str, *, jobs: Sequence[str] | None = None, by: str | None = None
    ) -> list[RolloutItem]:
        """Roll the template's current version out to its jobs (or the given ones), in one
        transaction: every job changes, or (when one cannot) none does."""
        template = self.get_template(name)
        items: list[RolloutItem] = []
        with self.store.db.unit():
            with self.store.db.read() as conn:
                links = self._links(conn, name, jobs)
            for link in links:
                with self.store.db.read() as conn:
                    record = self.store.jobs.get(conn, link.job_id)
                if record is None:
                    continue
                item, fields, remembered = self._plan(template, link, record)
                if item.error is not None:
                    raise InvalidInput(
                        f"jobs[{link.job_id}].{item.error_field or 'params'}",
                        item.error,
                        code="rollout_refused",
                        params={"id": link.job_id, "reason": item.error},
                    )
                if item.changes:
                    self._jobs.update_job(
                        link.job_id, expected_version=record.version, by=by, origin="api",
                        **fields,
                    )  # fmt: skip
                with self.store.db.write() as conn:
                    repo.relink(conn, link.job_id, template.version, remembered,
                                self.clock.now_us())  # fmt: skip
                items.append(item)
        return items

    def _links(self, conn: Any, name: str, jobs: Sequence[str] | None) -> list[repo.TemplateLink]:
        links = repo.links_of(conn, name)
        if jobs is None:
            return links
        by_id = {link.job_id: link for link in links}
        for job_id in jobs:
            if job_id not in by_id:
                raise InvalidInput(
                    "jobs",
                    f"job {job_id!r} was not made from template {name!r}",
                    code="not_from_template",
                    params={"id": job_id, "name": name},
                )
        return [by_id[j] for j in dict.fromkeys(jobs)]

    def _plan(
        self, template: Template, link: repo.TemplateLink, record: JobRecord
    ) -> tuple[RolloutItem, dict[str, Any], dict[str, Any]]:
        """(the item, the job fields to write, the values to remember)."""
        base = RolloutItem(link.job_id, link.template_version, template.version)
        secrets = {p["name"] for p in template.parameters if p.get("secret")}
        given = {k: v for k, v in link.params.items() if k not in secrets and v != MASK}
        given = {k: v for k, v in given.items() if any(p["name"] == k for p in template.parameters)}
        try:
            values = check_values(template.parameters, given, kept=self._sealed(template, record))
            if template.check is not None:
                values = template.check(dict(values))
            spec = self.template_spec(
                template, record.id, values, owner=record.owner, paused=record.paused
            )
            now = self.clock.now_us()
            new = build_record(spec, now_us=now, default_tz=self.settings.timezone, by=None)
        except InvalidInput as exc:
            return (
                RolloutItem(base.job_id, base.from_version, base.to_version,
                            error=exc.reason, error_field=exc.field),
                {}, {},
            )  # fmt: skip
        old_def, new_def = definition(record), definition(new)
        masked = set(record.secret_keys) | set(new.secret_keys)
        changes = [
            FieldChange(key, _mask(key, old_def.get(key), masked),
                        _mask(key, new_def.get(key), masked))
            for key in _SHOWN
            if old_def.get(key) != new_def.get(key)
            and not (key == "trigger" and _same_trigger(old_def[key], new_def[key]))
        ]  # fmt: skip
        fields = {
            "target": {"kind": new.target_kind, **new.target} if new.target_kind != "python"
            else {"kind": "python", **new.target},
            "trigger": new.trigger,
            "name": new.name,
            "description": new.description,
            "group": new.group,
            "tags": list(new.tags),
            "timezone": new.timezone,
            "timeout_s": new.timeout_s,
            "retries": new.retries,
            "concurrency_policy": new.concurrency_policy,
            "max_instances": new.max_instances,
            "misfire_policy": new.misfire_policy,
            "secret_keys": list(new.secret_keys),
        }  # fmt: skip
        item = RolloutItem(base.job_id, base.from_version, base.to_version, changes)
        return item, fields, _remembered(template, values)

    def _sealed(self, template: Template, record: JobRecord) -> dict[str, Any]:
        """The secret values a job holds (sealed, as stored), by parameter name: a rollout
        keeps them without opening them."""
        kwargs = record.target.get("kwargs") or {}
        target = template.job.get("target") or {}
        places = target.get("kwargs") if isinstance(target, Mapping) else None
        out: dict[str, Any] = {}
        for key, value in (places or {}).items():
            placed = isinstance(value, Mapping) and set(value) == {"$param"}
            if placed and key in kwargs and key in record.secret_keys:
                out[str(value["$param"])] = kwargs[key]
        return out


def _remembered(template: Template, values: Mapping[str, Any]) -> dict[str, Any]:
    secrets = {p["name"] for p in template.parameters if p.get("secret")}
    return {k: (MASK if k in secrets and v not in (None, "") else v) for k, v in values.items()}


def _mask(key: str, value: Any, secret_keys: set[str]) -> Any:
    if key != "target" or not isinstance(value, Mapping) or not secret_keys:
        return value
    kwargs = value.get("kwargs")
    if not isinstance(kwargs, Mapping):
        return value
    return {**value, "kwargs": {k: MASK if k in secret_keys else v for k, v in kwargs.items()}}


def _same_trigger(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    from tickwork.jobspec import same_schedule_ignoring_default_start

    return same_schedule_ignoring_default_start(old, new)
