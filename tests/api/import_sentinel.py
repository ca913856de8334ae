"""Importing this module is what the API server must never do."""

from __future__ import annotations

raise RuntimeError("the API server imported user code")


def job() -> None:  # pragma: no cover - never reached
    return None
