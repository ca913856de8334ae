"""Compiled triggers, shared by every job with the same spec (most jobs share a few specs)."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from tickwork.triggers import Trigger, from_spec


def spec_key(spec: dict[str, Any]) -> str:
    return json.dumps(spec, sort_keys=True, separators=(",", ":"))


@lru_cache(maxsize=65_536)
def _compile(key: str) -> Trigger:
    return from_spec(json.loads(key))


_by_items: dict[tuple[Any, ...], Trigger] = {}


def trigger_of(spec: dict[str, Any]) -> Trigger:
    """The trigger of a stored spec (raises TriggerError for a spec that no longer parses).

    Each claim asks for the trigger of every job it claims, so the common case avoids
    serialising the spec: a spec whose values are all hashable (every cron-string, interval
    and date spec) is looked up by its items as they come from the database."""
    try:
        key = tuple(spec.items())
        found = _by_items.get(key)
    except TypeError:  # a keyword cron spec holds a dict of fields
        return _compile(spec_key(spec))
    if found is None:
        found = _compile(spec_key(spec))
        if len(_by_items) >= 65_536:  # bounded, like the compile cache
            _by_items.clear()
        _by_items[key] = found
    return found


def fires_at(spec: dict[str, Any]) -> Callable[[int], bool]:
    """Whether the schedule of ``spec`` fires at an instant. Runs recorded apart from the
    schedule (manual runs, workflow steps) keep off these instants: the run table's unique
    key (job, instant, attempt) would otherwise refuse the fire's own record later."""
    try:
        trigger = trigger_of(spec)
    except Exception:  # no schedule (or one that no longer parses): it fires at no instant
        return lambda _us: False
    return lambda us: trigger.next_fire_us(us - 1) == us
