"""The Dify application's tables the schedule works on (seed 003), and the one job that stays
application code: the unused dataset cleanup. Message and embedding cache cleanup need no code:
they are the builtin ``cleanup_old_data`` (see app.py)."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from functools import cache

import sqlalchemy as sa

metadata = sa.MetaData()


def _message_child(name: str) -> sa.Table:
    return sa.Table(
        name,
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("message_id", sa.Integer, nullable=False, index=True),
    )


apps = sa.Table(
    "apps",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("tenant_id", sa.String(36), nullable=False),
)
messages = sa.Table(
    "messages",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("app_id", sa.Integer, nullable=False),
    sa.Column("query", sa.Text, nullable=False, default=""),
    # the index led by the time column that the batched delete walks
    sa.Column("created_at", sa.DateTime, nullable=False, index=True),
)
# deleted before their message, in Dify's order
MESSAGE_CHILDREN = [
    _message_child(name)
    for name in (
        "message_feedbacks",
        "message_annotations",
        "message_chains",
        "message_agent_thoughts",
        "message_files",
        "saved_messages",
    )
]
embeddings = sa.Table(
    "embeddings",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("model_name", sa.String(255), nullable=False, default="text-embedding"),
    sa.Column("hash", sa.String(64), nullable=False, default=""),
    sa.Column("created_at", sa.DateTime, nullable=False, index=True),
)
datasets = sa.Table(
    "datasets",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
)
documents = sa.Table(
    "documents",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("dataset_id", sa.Integer, nullable=False, index=True),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)


@cache
def engine() -> sa.Engine:
    return sa.create_engine(os.environ["APP_DATABASE_URL"])


def clean_unused_datasets(unused_days: int = 30, batch_size: int = 50) -> dict[str, int]:
    """Datasets created more than ``unused_days`` ago whose documents were all left untouched
    as long (or that have none): their documents, then the dataset, one short transaction per
    batch. Dify also drops the dataset's vector index here; this example has none."""
    cutoff = datetime.now() - timedelta(days=unused_days)
    recent = (
        sa.select(documents.c.id)
        .where(documents.c.dataset_id == datasets.c.id, documents.c.updated_at >= cutoff)
        .exists()
    )
    removed = 0
    while True:
        with engine().begin() as conn:
            ids = list(conn.execute(
                sa.select(datasets.c.id).where(datasets.c.created_at < cutoff, ~recent)
                .order_by(datasets.c.id).limit(batch_size)).scalars())  # fmt: skip
            if not ids:
                return {"datasets_removed": removed}
            conn.execute(documents.delete().where(documents.c.dataset_id.in_(ids)))
            conn.execute(datasets.delete().where(datasets.c.id.in_(ids)))
            removed += len(ids)
