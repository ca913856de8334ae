"""The REST API (FastAPI): ``create_app(tw, settings)``. See docs/api.md."""

from __future__ import annotations

from tickwork.api.app import create_app
from tickwork.api.settings import ApiSettings

__all__ = ["ApiSettings", "create_app"]
