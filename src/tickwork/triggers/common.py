"""What every concrete trigger shares: immutability, equality by spec, jitter, date bounds."""

from __future__ import annotations

import json
import math
from datetime import tzinfo
from typing import Any

from tickwork.errors import TriggerError
from tickwork.triggers.base import Lang, Trigger
from tickwork.triggers.jitter import next_jittered
from tickwork.triggers.zones import coerce_instant, iso_local, tz_name

LANGS = ("en", "zh")


def check_lang(lang: object) -> Lang:
    if lang == "en":
        return "en"
    if lang == "zh":
        return "zh"
    raise TriggerError(
        "lang",
        f"unsupported language {lang!r} (use 'en' or 'zh')",
        code="not_one_of",
        params={"value": str(lang), "choices": ["en", "zh"]},
    )


def coerce_jitter(value: object, field: str = "jitter") -> float | None:
    """Jitter in seconds (None or 0: none)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TriggerError(
            field,
            f"expected a number of seconds, got {value!r}",
            code="expected_seconds",
            params={"value": repr(value)},
        )
    if not math.isfinite(value) or value < 0:
        raise TriggerError(
            field,
            f"must be a finite number of seconds >= 0, got {value!r}",
            code="expected_seconds",
            params={"value": repr(value)},
        )
    return value or None


def coerce_seed(value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise TriggerError(
        "seed",
        f"expected a string (the job id), got {value!r}",
        code="expected_text",
        params={"value": repr(value)},
    )


def coerce_bounds(
    start_date: object, end_date: object, tz: tzinfo
) -> tuple[int | None, int | None]:
    start = None if start_date is None else coerce_instant(start_date, tz, "start_date")
    end = None if end_date is None else coerce_instant(end_date, tz, "end_date")
    if start is not None and end is not None and end < start:
        raise TriggerError("end_date", "is before start_date", code="end_before_start")
    return start, end


def tz_identity(tz: tzinfo) -> object:
    """What equality compares for a zone: its spec name, or the object if it has none."""
    try:
        return tz_name(tz)
    except TriggerError:
        return tz


class TriggerBase(Trigger):
    """Immutable triggers compared and hashed by their spec; optional deterministic jitter."""

    __slots__ = ("_end_us", "_ident", "_jitter", "_jitter_us", "_seed", "_start_us", "_tz")

    _tz: tzinfo
    _seed: str | None
    _jitter: float | None
    _jitter_us: int
    _start_us: int | None
    _end_us: int | None
    _ident: tuple[object, ...]

    def _init_common(
        self,
        *,
        tz: tzinfo,
        seed: str | None,
        jitter: float | None,
        start_us: int | None,
        end_us: int | None,
        ident: tuple[object, ...],
    ) -> None:
        setter = object.__setattr__
        setter(self, "_tz", tz)
        setter(self, "_seed", seed)
        setter(self, "_jitter", jitter)
        setter(self, "_jitter_us", round(jitter * 1_000_000) if jitter else 0)
        setter(self, "_start_us", start_us)
        setter(self, "_end_us", end_us)
        setter(
            self,
            "_ident",
            (type(self).__name__, *ident, tz_identity(tz), seed, jitter, start_us, end_us),
        )

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TriggerBase):
            return NotImplemented
        return self._ident == other._ident

    def __hash__(self) -> int:
        return hash(self._ident)

    def __repr__(self) -> str:
        try:
            text = json.dumps(self.to_spec(), ensure_ascii=False, sort_keys=True)
        except TriggerError:
            text = repr(self._ident)
        return f"<{type(self).__name__} {text}>"

    @property
    def tz(self) -> tzinfo:
        return self._tz

    def _tz_text(self) -> str:
        """The zone's spec name, or its ``str()`` for a tzinfo without one."""
        try:
            return tz_name(self._tz)
        except TriggerError:
            return str(self._tz)

    @property
    def seed(self) -> str | None:
        return self._seed

    @property
    def jitter(self) -> float | None:
        return self._jitter

    @property
    def start_us(self) -> int | None:
        return self._start_us

    @property
    def end_us(self) -> int | None:
        return self._end_us

    def _next_base_us(self, after_us: int) -> int | None:
        """First un-jittered fire strictly after ``after_us`` within start/end dates."""
        raise NotImplementedError

    def next_fire_us(self, after_us: int) -> int | None:
        if self._jitter_us:
            return next_jittered(
                self._next_base_us, after_us, self._jitter_us, self._seed or "", self._end_us
            )
        return self._next_base_us(after_us)

    def _common_spec(self, spec: dict[str, Any]) -> dict[str, Any]:
        """Adds the shared optional keys (only when set) to a spec."""
        tz = self._tz
        spec["tz"] = tz_name(tz)
        if self._seed is not None:
            spec["seed"] = self._seed
        if self._start_us is not None:
            spec["start_date"] = iso_local(self._start_us, tz)
        if self._end_us is not None:
            spec["end_date"] = iso_local(self._end_us, tz)
        if self._jitter:
            spec["jitter"] = self._jitter
        return spec
