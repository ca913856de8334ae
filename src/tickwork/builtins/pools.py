"""The application's own SQLAlchemy pools, for ``monitor_connection_pool`` when Tickwork runs
inside the application (threads or asyncio executor): the application registers its engine
under a name, the job names it (``pool: app``). Nothing is imported by name from a job's spec.

    from tickwork.builtins import pools
    pools.register("app", db.engine)   # Flask-SQLAlchemy: db.engine
"""

from __future__ import annotations

import threading
from typing import Any

_pools: dict[str, Any] = {}
_lock = threading.Lock()


def register(name: str, engine: Any) -> None:
    """Make ``engine`` (a SQLAlchemy Engine, or anything with a ``pool``) known as ``name``."""
    with _lock:
        _pools[name] = engine


def unregister(name: str) -> None:
    with _lock:
        _pools.pop(name, None)


def usage(name: str) -> dict[str, Any] | None:
    """``{size, checked_out, overflow, checked_in}`` of the registered pool, or None."""
    with _lock:
        engine = _pools.get(name)
    if engine is None:
        return None
    pool = getattr(engine, "pool", engine)
    out: dict[str, Any] = {}
    for key, method in (("size", "size"), ("checked_out", "checkedout"),
                        ("overflow", "overflow"), ("checked_in", "checkedin")):  # fmt: skip
        fn = getattr(pool, method, None)
        if callable(fn):
            out[key] = int(fn())
    max_overflow = getattr(pool, "_max_overflow", None)
    if isinstance(max_overflow, int):
        out["max_overflow"] = max_overflow
    return out
