"""The trigger contract: a pure function from an instant to the next fire instant."""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import UTC, datetime, tzinfo
from typing import Any, ClassVar, Literal

from tickwork.errors import TriggerError

Lang = Literal["en", "zh"]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_us(moment: datetime) -> int:
    """Epoch microseconds (UTC) of an aware datetime."""
    try:
        # Subtracting a naive datetime from an aware one raises TypeError; checking first
        # would cost a second utcoffset() call on the hot path.
        delta = moment - _EPOCH
    except TypeError:
        raise TriggerError(
            "after", "must be an aware datetime (with a time zone)", code="naive_datetime"
        ) from None
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


class Trigger(ABC):
    """When a job fires. Triggers are immutable, hold no clock and do no I/O."""

    kind: ClassVar[str]
    __slots__ = ()

    @property
    @abstractmethod
    def tz(self) -> tzinfo:
        """The zone whose wall clock the trigger follows; results are expressed in it."""

    @abstractmethod
    def next_fire_us(self, after_us: int) -> int | None:
        """First fire instant strictly after ``after_us`` (epoch microseconds), or None."""

    def next_fire_after(self, after: datetime) -> datetime | None:
        """First fire instant strictly after ``after`` (aware), in the trigger's zone."""
        nxt = self.next_fire_us(to_us(after))
        if nxt is None:
            return None
        moment = datetime.fromtimestamp(nxt // 1_000_000, self.tz)
        frac = nxt % 1_000_000
        return moment.replace(microsecond=frac) if frac else moment

    @abstractmethod
    def describe(self, lang: Lang = "en") -> str:
        """A human description in English or Simplified Chinese."""

    @abstractmethod
    def to_spec(self) -> dict[str, Any]:
        """A JSON-serialisable spec; ``tickwork.triggers.from_spec`` rebuilds the trigger."""
