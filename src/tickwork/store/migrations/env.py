"""Alembic environment: always driven from tickwork.store.migrate with a live connection."""

from __future__ import annotations

from alembic import context

from tickwork.store.tables import metadata

VERSION_TABLE = "tw_alembic_version"

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table=VERSION_TABLE,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
