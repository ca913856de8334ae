"""Jobs of the integration tests: each execution appends one line to the ledger file named by
TICKWORK_TEST_LEDGER (O_APPEND: lines from several processes never interleave)."""

from __future__ import annotations

import json
import os


def write(entry: dict[str, object]) -> None:
    line = json.dumps({"pid": os.getpid(), **entry}) + "\n"
    fd = os.open(os.environ["TICKWORK_TEST_LEDGER"], os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


def tick() -> None:
    """A Flask job: records whether it ran inside the app's context, and which app."""
    from flask import current_app, has_app_context

    write({"job": "tick", "app_context": has_app_context(),
           "app": current_app.name if has_app_context() else None})  # fmt: skip


def read(path: str) -> list[dict[str, object]]:
    try:
        with open(path) as f:
            return [json.loads(line) for line in f if line.strip()]
    except FileNotFoundError:
        return []


async def atick() -> None:
    """An async job (FastAPI apps): runs on Tickwork's asyncio executor."""
    import asyncio

    await asyncio.sleep(0)
    write({"job": "atick", "app_context": None, "app": None})
