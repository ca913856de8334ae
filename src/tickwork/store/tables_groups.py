"""Groups as objects of their own, and users' roles per group.

A job names its group in ``tw_job.group_name``; a group without a ``tw_group`` row still
exists (implicitly, with no description and no defaults) as long as a job names it, so jobs
never wait for a group to be declared. ``tw_group_grant`` holds a user's role in one group
(viewer, operator, admin, or none: the group is hidden from them)."""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Column, Index, Integer, String, Table, Text

from tickwork.store.tables import _MYSQL, metadata

group = Table(
    "tw_group",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("description", Text, nullable=False),
    Column("owner", String(100), nullable=True),  # a username; informational, no rights
    Column("timezone", String(64), nullable=True),  # for new jobs that name none
    Column("defaults", JSON, nullable=False),  # policy defaults for new jobs
    Column("version", Integer, nullable=False, default=1),
    Column("created_at", BigInteger, nullable=False),
    Column("created_by", String(100), nullable=True),
    Column("updated_at", BigInteger, nullable=False),
    Column("updated_by", String(100), nullable=True),
    **_MYSQL,
)

group_grant = Table(
    "tw_group_grant",
    metadata,
    Column("user_id", BigInteger, primary_key=True),
    Column("group_name", String(100), primary_key=True),
    Column("role", String(16), nullable=False),  # none / viewer / operator / admin
    Column("created_at", BigInteger, nullable=False),
    Column("created_by", String(100), nullable=True),
    Index(None, "group_name"),
    **_MYSQL,
)
