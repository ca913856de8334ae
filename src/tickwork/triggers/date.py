"""One-off date triggers."""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

from tickwork.errors import TriggerError
from tickwork.triggers.base import Lang
from tickwork.triggers.common import TriggerBase, check_lang, coerce_jitter, coerce_seed
from tickwork.triggers.zones import coerce_instant, iso_local, resolve_tz, us_to_local


class DateTrigger(TriggerBase):
    """Fires once, at ``run_date`` (plus the deterministic jitter, if any)."""

    kind = "date"
    __slots__ = ("_run",)

    _run: int

    def __init__(
        self,
        run_us: int,
        *,
        tz: tzinfo,
        jitter: float | None = None,
        seed: str | None = None,
    ) -> None:
        object.__setattr__(self, "_run", run_us)
        self._init_common(
            tz=tz, seed=seed, jitter=jitter, start_us=None, end_us=None, ident=(run_us,)
        )

    @property
    def run_us(self) -> int:
        return self._run

    def _next_base_us(self, after_us: int) -> int | None:
        return self._run if self._run > after_us else None

    def describe(self, lang: Lang = "en") -> str:
        from tickwork.triggers.describe import describe_date

        return describe_date(self, check_lang(lang))

    def __str__(self) -> str:
        """APScheduler 3's form, in the trigger's zone: ``date[2009-07-06 12:00:00 CST]``."""
        return f"date[{us_to_local(self._run, self._tz).strftime('%Y-%m-%d %H:%M:%S %Z')}]"

    def to_spec(self) -> dict[str, Any]:
        spec: dict[str, Any] = {"kind": "date", "run_date": iso_local(self._run, self._tz)}
        return self._common_spec(spec)


def date(
    run_date: object,
    tz: str | tzinfo = "UTC",
    *,
    jitter: float | None = None,
    seed: str | None = None,
) -> DateTrigger:
    """Fires once at ``run_date`` (aware, naive in ``tz``, a date, or an ISO 8601 string)."""
    if run_date is None:
        raise TriggerError(
            "run_date",
            "is required (a pure trigger has no 'now' to default to)",
            code="required",
        )
    zone = resolve_tz(tz)
    return DateTrigger(
        coerce_instant(run_date, zone, "run_date"),
        tz=zone,
        jitter=coerce_jitter(jitter),
        seed=coerce_seed(seed),
    )
