"""The child process that unpickles an APScheduler 3 job store (``tickwork import apscheduler
--trust-pickles``): reads the ``apscheduler_jobs`` rows, unpickles each ``job_state`` and
prints one JSON line per job with plain values only (a Flask-APScheduler style dict), or the
reason it could not. The parent never unpickles; it re-validates these dicts like any job
file entry. Usage: python -m tickwork.importers.apscheduler_child URL TABLE"""

from __future__ import annotations

import json
import pickle
import sys
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa


def _iso(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else None


def _zone(value: Any) -> str | None:
    key = getattr(value, "key", None) or getattr(value, "zone", None)
    if key:
        return str(key)
    return "UTC" if value is not None and str(value) in ("UTC", "utc") else None


def trigger_dict(trigger: Any) -> dict[str, Any]:
    kind = type(trigger).__name__
    state = trigger.__getstate__()
    out: dict[str, Any] = {}
    zone = _zone(state.get("timezone"))
    if kind == "CronTrigger":
        out["trigger"] = "cron"
        for field in state["fields"]:
            text = str(field)
            if text != "*":
                out[field.name] = text
    elif kind == "IntervalTrigger":
        interval: timedelta = state["interval"]
        out["trigger"] = "interval"
        out["seconds"] = interval.total_seconds()
    elif kind == "DateTrigger":
        out["trigger"] = "date"
        out["run_date"] = _iso(state["run_date"])
        zone = _zone(state["run_date"].tzinfo)
    else:
        raise ValueError(f"{kind} is not one of APScheduler's cron, interval, date triggers")
    for key in ("start_date", "end_date"):
        if state.get(key) is not None:
            out[key] = _iso(state[key])
    if state.get("jitter"):
        out["jitter"] = state["jitter"]
    if zone:
        out["timezone"] = zone
    return out


def job_dict(state: dict[str, Any]) -> dict[str, Any]:
    func = state["func"]
    if not isinstance(func, str):
        raise ValueError(f"func {func!r} is not a textual reference")
    entry: dict[str, Any] = {
        "id": state["id"],
        "func": func,
        "name": state.get("name"),
        "args": list(state.get("args") or ()),
        "kwargs": dict(state.get("kwargs") or {}),
        "misfire_grace_time": state.get("misfire_grace_time"),
        "coalesce": state.get("coalesce"),
        "max_instances": state.get("max_instances"),
        "executor": state.get("executor"),
        "paused": state.get("next_run_time") is None,
        **trigger_dict(state["trigger"]),
    }
    json.dumps(entry)  # plain values only: raises TypeError naming what is not
    return entry


def main(url: str, table: str) -> int:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        jobs = sa.Table(table, sa.MetaData(), autoload_with=conn)
        rows = conn.execute(sa.select(jobs.c.id, jobs.c.job_state)).all()
    engine.dispose()
    for job_id, blob in rows:
        try:
            line = {"ok": True, "entry": job_dict(pickle.loads(blob))}  # trusted: --trust-pickles
        except Exception as exc:
            line = {"ok": False, "id": job_id, "reason": f"{type(exc).__name__}: {exc}"}
        sys.stdout.write(json.dumps(line) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
