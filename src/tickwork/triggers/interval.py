"""Interval triggers: a fixed period of elapsed time, independent of DST and wall clocks."""

from __future__ import annotations

import math
from datetime import timedelta, tzinfo
from typing import Any

from tickwork.errors import TriggerError
from tickwork.triggers.base import Lang
from tickwork.triggers.common import (
    TriggerBase,
    check_lang,
    coerce_bounds,
    coerce_jitter,
    coerce_seed,
)
from tickwork.triggers.zones import MAX_S, resolve_tz

UNITS_US = (
    ("weeks", 604_800_000_000),
    ("days", 86_400_000_000),
    ("hours", 3_600_000_000),
    ("minutes", 60_000_000),
    ("seconds", 1_000_000),
)


_LAST_US = MAX_S * 1_000_000


def _period_us(parts: dict[str, object]) -> int:
    total = 0.0
    exact = 0
    for name, unit in UNITS_US:
        value = parts.get(name, 0)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TriggerError(
                name,
                f"expected a number, got {value!r}",
                code="expected_number",
                params={"value": repr(value)},
            )
        if not math.isfinite(value) or value < 0:
            raise TriggerError(
                name,
                f"must be a finite number >= 0, got {value!r}",
                code="expected_number_min",
                params={"value": repr(value), "min": 0},
            )
        if isinstance(value, int):
            exact += value * unit
        else:
            total += value * unit
    period = exact + round(total)
    if period <= 0:
        # APScheduler silently turns a zero interval into one second; a zero interval is a bug.
        raise TriggerError(
            "interval",
            "the period must be positive (give weeks..seconds)",
            code="interval_not_positive",
        )
    return period


def split_period(period_us: int) -> dict[str, int | float]:
    """The canonical spec form: largest units first, fractions of a second as a float."""
    out: dict[str, int | float] = {}
    rest = period_us
    for name, unit in UNITS_US:
        if name == "seconds":
            if rest:
                out[name] = rest // unit if rest % unit == 0 else rest / unit
        elif rest >= unit:
            out[name], rest = divmod(rest, unit)
    return out


class IntervalTrigger(TriggerBase):
    """Fires every ``period`` of elapsed time from ``start_date`` (or from the Unix epoch)."""

    kind = "interval"
    __slots__ = ("_anchor", "_period")

    _period: int
    _anchor: int

    def __init__(
        self,
        period_us: int,
        *,
        tz: tzinfo,
        start_us: int | None = None,
        end_us: int | None = None,
        jitter: float | None = None,
        seed: str | None = None,
    ) -> None:
        object.__setattr__(self, "_period", period_us)
        object.__setattr__(self, "_anchor", 0 if start_us is None else start_us)
        self._init_common(
            tz=tz, seed=seed, jitter=jitter, start_us=start_us, end_us=end_us, ident=(period_us,)
        )

    @property
    def period_us(self) -> int:
        return self._period

    def _next_base_us(self, after_us: int) -> int | None:
        anchor = self._anchor
        if after_us < anchor and self._start_us is not None:
            res = anchor  # start_date is the first fire (inclusive)
        else:
            res = anchor + ((after_us - anchor) // self._period + 1) * self._period
        end = self._end_us
        if end is None:
            return res if res < _LAST_US else None  # datetime cannot show later instants
        return res if res <= end else None

    def describe(self, lang: Lang = "en") -> str:
        from tickwork.triggers.describe import describe_interval

        return describe_interval(self, check_lang(lang))

    def __str__(self) -> str:
        """APScheduler 3's form: ``interval[0:00:10]``, ``interval[1 day, 2:00:00]``."""
        return f"interval[{timedelta(microseconds=self._period)}]"

    def to_spec(self) -> dict[str, Any]:
        spec: dict[str, Any] = {"kind": "interval", **split_period(self._period)}
        return self._common_spec(spec)


def interval(
    *,
    weeks: float = 0,
    days: float = 0,
    hours: float = 0,
    minutes: float = 0,
    seconds: float = 0,
    start_date: object = None,
    end_date: object = None,
    tz: str | tzinfo = "UTC",
    jitter: float | None = None,
    seed: str | None = None,
) -> IntervalTrigger:
    """Every weeks/days/hours/minutes/seconds of elapsed time (DST does not stretch it).

    Without ``start_date`` the grid is anchored at the Unix epoch (``minutes=30`` fires at :00
    and :30 UTC); with it, ``start_date`` is the first fire.
    """
    period = _period_us(
        {"weeks": weeks, "days": days, "hours": hours, "minutes": minutes, "seconds": seconds}
    )
    zone = resolve_tz(tz)
    start_us, end_us = coerce_bounds(start_date, end_date, zone)
    return IntervalTrigger(
        period,
        tz=zone,
        start_us=start_us,
        end_us=end_us,
        jitter=coerce_jitter(jitter),
        seed=coerce_seed(seed),
    )
