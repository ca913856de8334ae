"""Rebuilding triggers from their JSON specs, and the APScheduler-style keyword entry point."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from tickwork.errors import TriggerError
from tickwork.triggers.base import Trigger
from tickwork.triggers.cron import cron
from tickwork.triggers.date import date
from tickwork.triggers.interval import interval
from tickwork.triggers.keywords import (
    DATE_KEYS,
    INTERVAL_KEYS,
    _check_keys,
    _zone_from,
    cron_from_keywords,
)

_COMMON = frozenset({"kind", "tz", "seed", "start_date", "end_date", "jitter"})


def from_keywords(kind: str, **kw: Any) -> Trigger:
    """A trigger from APScheduler 3 keywords: ``from_keywords("cron", hour=2, day_of_week="sun")``.

    ``kind`` is ``"cron"``, ``"interval"`` or ``"date"``; the keywords keep APScheduler's
    meanings (see docs/cron.md), plus ``seed=`` (the job id, for ``H`` and jitter).
    """
    if kind == "cron":
        return cron_from_keywords(kw)
    if kind == "interval":
        _check_keys("interval", kw, INTERVAL_KEYS)
        return interval(
            weeks=kw.get("weeks", 0),
            days=kw.get("days", 0),
            hours=kw.get("hours", 0),
            minutes=kw.get("minutes", 0),
            seconds=kw.get("seconds", 0),
            start_date=kw.get("start_date"),
            end_date=kw.get("end_date"),
            tz=_zone_from(kw),
            jitter=kw.get("jitter"),
            seed=kw.get("seed"),
        )
    if kind == "date":
        _check_keys("date", kw, DATE_KEYS)
        run_date = kw.get("run_date")
        zone = kw.get("timezone")
        if zone is None and isinstance(run_date, datetime) and run_date.tzinfo is not None:
            zone = run_date.tzinfo  # like APScheduler: an aware run_date names the zone
        return date(run_date, zone or "UTC", jitter=kw.get("jitter"), seed=kw.get("seed"))
    raise TriggerError(
        "kind",
        f"unknown trigger kind {kind!r} (use cron, interval or date)",
        code="not_one_of",
        params={"value": str(kind), "choices": ["cron", "interval", "date"]},
    )


def from_spec(spec: Mapping[str, Any]) -> Trigger:
    """The trigger a ``to_spec()`` dict describes (equal to the one that produced it)."""
    if not isinstance(spec, Mapping):
        raise TriggerError(
            "spec",
            f"expected a mapping, got {type(spec).__name__}",
            code="expected_mapping",
            params={"type": type(spec).__name__},
        )
    kind = spec.get("kind")
    tz = spec.get("tz", "UTC")
    common = {
        "start_date": spec.get("start_date"),
        "end_date": spec.get("end_date"),
        "jitter": spec.get("jitter"),
        "seed": spec.get("seed"),
    }
    if kind == "cron":
        _only(spec, _COMMON | {"expr", "fields"})
        if ("expr" in spec) == ("fields" in spec):
            raise TriggerError(
                "spec", "a cron spec has exactly one of 'expr' and 'fields'", code="cron_spec_shape"
            )
        if "expr" in spec:
            seed = common.pop("seed")
            return cron(spec["expr"], tz, seed, **common)
        fields = spec["fields"]
        if not isinstance(fields, Mapping):
            raise TriggerError(
                "fields",
                "expected a mapping of APScheduler cron keywords",
                code="expected_mapping",
                params={"type": type(fields).__name__},
            )
        for key in fields:
            if key in _COMMON or key == "timezone":
                raise TriggerError(key, "is not a cron field", code="not_a_cron_field")
        return cron_from_keywords({**fields, **common, "timezone": tz})
    if kind == "interval":
        units = {"weeks", "days", "hours", "minutes", "seconds"}
        _only(spec, _COMMON | units)
        return interval(
            weeks=spec.get("weeks", 0),
            days=spec.get("days", 0),
            hours=spec.get("hours", 0),
            minutes=spec.get("minutes", 0),
            seconds=spec.get("seconds", 0),
            tz=tz,
            **common,
        )
    if kind == "date":
        _only(spec, {"kind", "tz", "run_date", "jitter", "seed"})
        return date(spec.get("run_date"), tz, jitter=common["jitter"], seed=common["seed"])
    raise TriggerError(
        "kind",
        f"unknown trigger kind {kind!r} (use cron, interval or date)",
        code="not_one_of",
        params={"value": str(kind), "choices": ["cron", "interval", "date"]},
    )


def _only(spec: Mapping[str, Any], allowed: frozenset[str] | set[str]) -> None:
    for key in spec:
        if key not in allowed:
            raise TriggerError(
                str(key),
                f"unknown key in a {spec.get('kind')} spec",
                code="unknown_spec_key",
                params={"kind": str(spec.get("kind"))},
            )
