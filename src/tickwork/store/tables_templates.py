"""Tables of job templates: the templates administrators add (built-in ones live in code),
and which template (and version, with which values) each job was made from."""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Column, Index, Integer, String, Table

from tickwork.store.tables import _MYSQL, metadata

template = Table(
    "tw_template",
    metadata,
    Column("name", String(63), primary_key=True),
    Column("version", Integer, nullable=False),  # steps with every change
    Column("definition", JSON, nullable=False),  # tickwork.templates.model: the JSON form
    Column("created_at", BigInteger, nullable=False),
    Column("created_by", String(100), nullable=True),
    Column("updated_at", BigInteger, nullable=False),
    Column("updated_by", String(100), nullable=True),
    **_MYSQL,
)

# One row per job made from a template. Secret values are not here: they live sealed in the
# job's kwargs, and ``params`` only says they were given.
template_job = Table(
    "tw_template_job",
    metadata,
    Column("job_id", String(191), primary_key=True),
    Column("template_name", String(63), nullable=False),
    Column("template_version", Integer, nullable=False),
    Column("params", JSON, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("created_by", String(100), nullable=True),
    Column("updated_at", BigInteger, nullable=False),
    Index(None, "template_name"),
    **_MYSQL,
)
