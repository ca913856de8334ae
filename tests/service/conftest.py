from __future__ import annotations

from tests.engine.conftest import _reset_tasks, clock, engine_url, make_tw

__all__ = ["_reset_tasks", "clock", "engine_url", "make_tw"]
