"""A memo of built schedules for bulk building: a million jobs share a few thousand cron
expressions, and parsing, compiling and searching the first fire of each job's own copy was
half the cost of adding them.

Triggers are pure: the same expression in the same zone gives the same stored spec (but for
the job id kept as the seed) and the same first fire after the same instant. Only triggers
whose schedule does not depend on the seed are memoised: no ``H`` item and no jitter (the
two things a seed spreads), no start or end date, no trigger keywords. Anything else, and
any trigger that fails, goes through the full build every time.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# What a memoised entry holds: the spec without its seed, and the first fire after "now".
Entry = tuple[dict[str, Any], int | None]
_SPEC_KEYS = frozenset({"kind", "expr", "tz", "seed"})


class TriggerMemo:
    """Built cron schedules of one bulk call (one ``now``), keyed by (expression, zone);
    and the checked python targets of the call."""

    __slots__ = ("entries", "now_us", "targets")

    def __init__(self, now_us: int) -> None:
        self.now_us = now_us
        self.entries: dict[tuple[str, str], Entry] = {}
        # checked python references: (ref, imported to check) -> (ref, is a coroutine)
        self.targets: dict[tuple[str, bool], tuple[str, bool]] = {}

    @staticmethod
    def key(trigger: Any, trigger_args: Mapping[str, Any], tz: str) -> tuple[str, str] | None:
        """The memo key of a trigger as a JobSpec gives it, or None when it cannot be shared:
        a cron expression string (in the job's zone), or a stored cron spec of only kind,
        expr, tz and seed (in the spec's zone)."""
        if trigger_args:
            return None
        if type(trigger) is str:
            if trigger in ("cron", "interval", "date") or "H" in trigger.upper():
                return None
            return trigger, tz
        if isinstance(trigger, Mapping):
            expr = trigger.get("expr")
            zone = trigger.get("tz", "UTC")
            seed = trigger.get("seed")
            if (
                trigger.get("kind") != "cron"
                or type(expr) is not str
                or type(zone) is not str
                or not (seed is None or type(seed) is str)
                or not _SPEC_KEYS.issuperset(trigger)
                or "H" in expr.upper()
            ):
                return None
            return expr, zone
        return None

    @staticmethod
    def seed_of(trigger: Any, job_id: str) -> str | None:
        """The seed the built spec holds: the job id for an expression, the spec's own."""
        return job_id if type(trigger) is str else trigger.get("seed")

    def get(self, key: tuple[str, str], seed: str | None) -> tuple[dict[str, Any], int | None]:
        """The spec (with this job's seed) and first fire memoised under ``key``; KeyError
        when there is none yet."""
        base, first = self.entries[key]
        return ({**base, "seed": seed} if seed is not None else dict(base)), first

    def put(
        self, key: tuple[str, str], seed: str | None, spec: dict[str, Any], first: int | None
    ) -> None:
        """Keep a spec built the full way, if it has the shape ``get`` rebuilds exactly
        (same keys, same order, the seed last)."""
        base = {k: v for k, v in spec.items() if k != "seed"}
        rebuilt = {**base, "seed": seed} if seed is not None else dict(base)
        if list(rebuilt.items()) == list(spec.items()) and "jitter" not in spec:
            self.entries[key] = (base, first)
