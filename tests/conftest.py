"""Shared test helpers: real services, skipped on a machine without them, required in CI."""

from __future__ import annotations

import os

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def service_missing(name: str, reason: str) -> None:
    """Skip (or, with CI=true, fail) a test whose service is not reachable."""
    message = f"{name} is not reachable ({reason})"
    if in_ci():
        pytest.fail(f"{message}; CI=true requires it", pytrace=False)
    pytest.skip(message)
