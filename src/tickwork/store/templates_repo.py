"""Queries of the template tables (``tables_templates``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from tickwork.store.tables import job
from tickwork.store.tables_templates import template, template_job


@dataclass(frozen=True, slots=True)
class StoredTemplate:
    name: str
    version: int
    definition: dict[str, Any]
    created_at: int
    created_by: str | None
    updated_at: int
    updated_by: str | None


@dataclass(frozen=True, slots=True)
class TemplateLink:
    job_id: str
    template_name: str
    template_version: int
    params: dict[str, Any]
    created_at: int
    created_by: str | None
    updated_at: int


def all_templates(conn: Connection) -> list[StoredTemplate]:
    rows = conn.execute(select(template).order_by(template.c.name)).mappings()
    return [StoredTemplate(**row) for row in rows]


def get_template(conn: Connection, name: str, *, for_update: bool = False) -> StoredTemplate | None:
    query = select(template).where(template.c.name == name)
    if for_update:
        query = query.with_for_update()
    row = conn.execute(query).mappings().first()
    return None if row is None else StoredTemplate(**row)


def put_template(
    conn: Connection, name: str, definition: dict[str, Any], *, now: int, by: str | None
) -> int:
    """Insert or step the template's version; the new version."""
    old = get_template(conn, name, for_update=True)
    if old is None:
        conn.execute(
            insert(template).values(
                name=name, version=1, definition=definition, created_at=now, created_by=by,
                updated_at=now, updated_by=by,
            )
        )  # fmt: skip
        return 1
    conn.execute(
        update(template)
        .where(template.c.name == name)
        .values(version=old.version + 1, definition=definition, updated_at=now, updated_by=by)
    )
    return old.version + 1


def delete_template(conn: Connection, name: str) -> bool:
    return bool(conn.execute(delete(template).where(template.c.name == name)).rowcount)


def link(
    conn: Connection,
    job_id: str,
    name: str,
    version: int,
    params: dict[str, Any],
    *,
    now: int,
    by: str | None,
) -> None:
    conn.execute(delete(template_job).where(template_job.c.job_id == job_id))
    conn.execute(
        insert(template_job).values(
            job_id=job_id, template_name=name, template_version=version, params=params,
            created_at=now, created_by=by, updated_at=now,
        )
    )  # fmt: skip


def relink(conn: Connection, job_id: str, version: int, params: dict[str, Any], now: int) -> None:
    conn.execute(
        update(template_job)
        .where(template_job.c.job_id == job_id)
        .values(template_version=version, params=params, updated_at=now)
    )


# A link belongs to the job of that id made at or before it: a job removed and made again
# later (not from the template) is not tied to the old link.
_SAME_JOB = (job.c.id == template_job.c.job_id) & (template_job.c.created_at >= job.c.created_at)


def link_of(conn: Connection, job_id: str) -> TemplateLink | None:
    """The template a job was made from (None: not from one, or the job is gone)."""
    query = select(template_job).join(job, _SAME_JOB).where(template_job.c.job_id == job_id)
    row = conn.execute(query).mappings().first()
    return None if row is None else TemplateLink(**row)


def links_of(conn: Connection, name: str) -> list[TemplateLink]:
    """The jobs made from a template that still exist, by job id."""
    query = (
        select(template_job)
        .join(job, _SAME_JOB)
        .where(template_job.c.template_name == name)
        .order_by(template_job.c.job_id)
    )
    return [TemplateLink(**row) for row in conn.execute(query).mappings()]


def counts(conn: Connection) -> dict[str, int]:
    """Template name -> how many existing jobs were made from it."""
    from sqlalchemy import func

    query = (
        select(template_job.c.template_name, func.count())
        .join(job, _SAME_JOB)
        .group_by(template_job.c.template_name)
    )
    return {name: int(n) for name, n in conn.execute(query)}
