"""Celery queue names, as a job's ``queue`` and a celery target's ``queue`` accept them."""

from __future__ import annotations

import re
from typing import Any

from tickwork.errors import InvalidInput

_QUEUE_NAME = re.compile(r"[A-Za-z0-9_.:@-]{1,100}")


def queue_name(value: Any, field: str = "queue") -> str | None:
    """A Celery queue name, or None (empty text too: no queue)."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not _QUEUE_NAME.fullmatch(value):
        raise InvalidInput(
            field,
            "must be 1-100 letters, digits and . _ - : @ (a Celery queue name)",
            code="bad_queue_name",
            params={"value": str(value)[:200]},
        )
    return value
