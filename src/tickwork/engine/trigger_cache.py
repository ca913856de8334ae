"""Compiled triggers, shared by every job with the same spec (most jobs share a few specs)."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from tickwork.triggers import Trigger, from_spec


def spec_key(spec: dict[str, Any]) -> str:
    return json.dumps(spec, sort_keys=True, separators=(",", ":"))


@lru_cache(maxsize=65_536)
def _compile(key: str) -> Trigger:
    return from_spec(json.loads(key))


def trigger_of(spec: dict[str, Any]) -> Trigger:
    """The trigger of a stored spec (raises TriggerError for a spec that no longer parses)."""
    return _compile(spec_key(spec))
