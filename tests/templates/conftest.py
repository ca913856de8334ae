"""The API fixtures (an app over a copy of a migrated SQLite database, users of each role)."""

from __future__ import annotations

from tests.api.conftest import lite_api, lite_api_factory, lite_template  # noqa: F401
