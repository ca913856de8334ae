"""Triggers: pure functions from an instant to the next fire instant (no clock, no I/O).

>>> from datetime import datetime, UTC
>>> t = cron("30 2 * * *", "Europe/Berlin")
>>> t.next_fire_after(datetime(2026, 3, 28, 12, tzinfo=UTC)).isoformat()
'2026-03-29T03:00:00+02:00'

See docs/cron.md for the cron dialect, the DST rule, the keyword form and jitter.
"""

from __future__ import annotations

from tickwork.errors import TriggerError
from tickwork.triggers.base import Trigger
from tickwork.triggers.cron import CronTrigger, cron
from tickwork.triggers.date import DateTrigger, date
from tickwork.triggers.interval import IntervalTrigger, interval
from tickwork.triggers.spec import from_keywords, from_spec

__all__ = [
    "CronTrigger",
    "DateTrigger",
    "IntervalTrigger",
    "Trigger",
    "TriggerError",
    "cron",
    "date",
    "from_keywords",
    "from_spec",
    "interval",
]
