"""Quartz cron (xxl-job, RuoYi) -> Tickwork cron. Both read ``sec min hour dom month dow
[year]`` and know ``?``, ``L``, ``W`` and ``#``; the one difference is the trap: Quartz
numbers the days of the week 1-7 from **Sunday** (1 = SUN, 2 = MON, ... 7 = SAT), Tickwork
(like Vixie cron) 0-7 with 0 and 7 = Sunday and 1 = Monday. Numeric days are shifted; names
(MON-FRI) are kept."""

from __future__ import annotations

import re
from functools import lru_cache

from tickwork.errors import InvalidInput

_NUMBER = re.compile(r"^\d+\Z")


def _day(token: str, expression: str) -> str:
    if not _NUMBER.match(token):
        return token  # a name (MON) or '*'/'?'
    value = int(token)
    if not 1 <= value <= 7:
        raise InvalidInput(
            "cron", f"{expression!r}: Quartz day-of-week {value} is out of range 1-7 (1 = SUN)"
        )
    return str(value - 1)


def _item(item: str, expression: str) -> str:
    if item == "L":
        return "SAT"  # Quartz: L alone in day-of-week is the last day of the week
    base, _, step_text = item.partition("/")
    step = step_text if "/" in item else None
    if "#" in base:
        day, nth = base.split("#", 1)
        converted = f"{_day(day, expression)}#{nth}"
    elif base.endswith("L") and len(base) > 1:
        converted = f"{_day(base[:-1], expression)}L"
    elif "-" in base:
        low, high = base.split("-", 1)
        converted = f"{_day(low, expression)}-{_day(high, expression)}"
    else:
        converted = _day(base, expression)
    return converted if step is None else f"{converted}/{step}"


@lru_cache(maxsize=65536)  # a table repeats its schedules over many rows
def to_tickwork(expression: str) -> str:
    """A Quartz expression as the same schedule in Tickwork's 6/7-field cron."""
    fields = expression.split()
    if len(fields) not in (6, 7):
        raise InvalidInput(
            "cron", f"{expression!r}: a Quartz expression has 6 or 7 fields (seconds first)"
        )
    fields[5] = ",".join(_item(item, expression) for item in fields[5].upper().split(","))
    return " ".join(fields)
