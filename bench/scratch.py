"""Scratch resources the benchmark sections share: a throw-away PostgreSQL database and a free
local port."""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

# Column lists of the bench fills' INSERT ... SELECT statements (in their SELECT order).
JOB_COLUMNS = (
    "id, name, description, group_name, tags, target_kind, target, trigger_kind, trigger, "
    "timezone, executor, misfire_policy, misfire_grace_s, max_catchup, concurrency_policy, "
    "max_instances, timeout_s, retries, retry_backoff_s, retry_backoff_max_s, secret_keys, "
    "paused, owner, owner_ref, version, next_fire_at, created_at, created_by, updated_at, "
    "updated_by"
)
RUN_COLUMNS = (
    "job_id, scheduled_for, due_at, attempt, retry_of, reason, status, node_id, "
    "cancel_requested, created_at, started_at, finished_at, duration_s, result, error, "
    "traceback, log, params, triggered_by"
)
PG_ADMIN = os.environ.get(
    "TICKWORK_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


@contextmanager
def scratch_postgres(prefix: str) -> Iterator[str | None]:
    """A fresh database ``<prefix>_<random>`` on the local server, dropped afterwards; None when
    the server is not reachable (the PostgreSQL columns are then null)."""
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(
        PG_ADMIN, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3}
    )
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        print(f"(PostgreSQL not measured: {type(exc).__name__}: {str(exc).splitlines()[0][:100]})")
        admin.dispose()
        yield None
        return
    try:
        yield make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False)
    finally:
        for attempt in range(10):  # the server may be restarting (tests/cluster does that)
            try:
                with admin.connect() as conn:
                    conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                break
            except Exception as exc:
                if attempt == 9:
                    print(f"(could not drop the benchmark database {name}: {exc})")
                time.sleep(2)
        admin.dispose()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
