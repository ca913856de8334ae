"""APScheduler 3 SQLAlchemy job stores (the ``apscheduler_jobs`` table) -> Tickwork jobs.

The table keeps each job as a pickle. Unpickling runs code chosen by whoever could write the
table, so it happens only with ``trust_pickles=True`` (``--trust-pickles``), and then in a
child process (``apscheduler_child``) that hands back plain JSON; each job is re-validated
here like a Flask-APScheduler ``JOBS`` entry. Without the flag the importer lists the ids it
found and refuses, saying why."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import sqlalchemy as sa

from tickwork.errors import InvalidInput
from tickwork.importers import Imported
from tickwork.jobfiles import entry_to_spec


def _ids(url: str, table: str) -> list[str]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            found = sa.Table(table, sa.MetaData(), autoload_with=conn)
            return [str(r[0]) for r in conn.execute(sa.select(found.c.id).order_by(found.c.id))]
    except sa.exc.NoSuchTableError:
        raise InvalidInput("source", f"the database has no table {table}") from None
    finally:
        engine.dispose()


def read(
    url: str,
    *,
    table: str = "apscheduler_jobs",
    trust_pickles: bool = False,
    timeout_s: float = 300,
) -> Imported:
    out = Imported()
    ids = _ids(url, table)
    if not trust_pickles:
        for job_id in ids:
            out.refuse(
                f"{table} id={job_id}",
                "stored as a pickle: reading it runs code chosen by whoever could write the "
                "table; give --trust-pickles if you trust it (unpickled in a child process)",
            )
        return out
    done = subprocess.run(
        [sys.executable, "-m", "tickwork.importers.apscheduler_child", url, table],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)},
        check=False,
    )
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-1:] or ["(no message)"]
        raise InvalidInput("source", f"the unpickling child failed: {tail[0]}")
    for line in done.stdout.splitlines():
        item = json.loads(line)
        if not item.get("ok"):
            out.refuse(f"{table} id={item.get('id')}", str(item.get("reason")))
            continue
        entry = item["entry"]
        where = f"{table} id={entry.get('id')}"
        paused = bool(entry.pop("paused", False))
        entry = {k: v for k, v in entry.items() if v is not None}
        try:
            spec = entry_to_spec(entry)
        except InvalidInput as exc:
            out.refuse(where, f"{exc.field}: {exc.reason}")
            continue
        spec.paused = paused
        spec.group = "apscheduler"
        out.jobs.append((where, spec))
    return out
