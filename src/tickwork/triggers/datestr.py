"""Date strings for ``run_date``, ``start_date`` and ``end_date``, as APScheduler 3 reads them.

APScheduler 3 (``apscheduler.util.convert_to_datetime``) takes ``Y-m-d`` with one- or two-digit
month and day (``"2009-7-6"``), optionally followed by ``H:M:S`` (one or two digits each, after a
space or ``T``), a fraction of the second and ``Z`` or ``+HH:MM``. Tickwork accepts all of that,
and also what ISO 8601 (Python's ``datetime.fromisoformat``) accepts, which Tickwork took
before: times without seconds (``"2009-07-06 12:00"``) or with the hour alone, offsets as
``+HHMM`` or ``+HH``, a comma before the fraction, the basic and week-date forms.

One deliberate difference: a fraction is a fraction of a second (``".5"`` is half a second, as in
ISO 8601); APScheduler 3 reads its digits as microseconds (``".5"`` is 5 µs). Non-ASCII digits,
which APScheduler's ``\\d`` lets through, and offset minutes over 59 (APScheduler reads
``+08:60`` as ``+09:00``) are refused.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

from tickwork.errors import TriggerError

_DATE_TIME = re.compile(
    r"(?P<year>[0-9]{4})-(?P<month>[0-9]{1,2})-(?P<day>[0-9]{1,2})"
    r"(?:[ T](?P<hour>[0-9]{1,2})"
    r"(?::(?P<minute>[0-9]{1,2})"
    r"(?::(?P<second>[0-9]{1,2})(?:[.,](?P<fraction>[0-9]+))?)?)?"
    r"(?P<offset>Z|[+-](?P<oh>[0-9]{2})(?::?(?P<om>[0-9]{2}))?)?)?"
)


def parse_date_string(value: str, field: str) -> datetime:
    """A naive or aware datetime from a date string; TriggerError naming ``field``."""
    text = value.strip()
    m = _DATE_TIME.fullmatch(text)
    if m is None:
        try:
            return datetime.fromisoformat(text)  # the remaining ISO 8601 forms
        except ValueError:
            raise TriggerError(
                field,
                f"not a date/time: {value!r} (use 'YYYY-MM-DD', 'YYYY-MM-DD HH:MM[:SS[.ffffff]]' "
                "or ISO 8601 with an offset)",
                code="not_a_date",
                params={"value": value},
            ) from None
    fraction = m["fraction"] or ""
    try:
        moment = datetime(
            int(m["year"]),
            int(m["month"]),
            int(m["day"]),
            int(m["hour"] or 0),
            int(m["minute"] or 0),
            int(m["second"] or 0),
            int(fraction[:6].ljust(6, "0")),  # digits past the microsecond are dropped
        )
    except ValueError as exc:
        raise TriggerError(
            field,
            f"not a valid date/time: {value!r} ({exc})",
            code="invalid_date",
            params={"value": value},
        ) from None
    if m["offset"] is None:
        return moment
    if m["offset"] == "Z":
        return moment.replace(tzinfo=UTC)
    hours, minutes = int(m["oh"]), int(m["om"] or 0)
    if hours > 23 or minutes > 59:
        raise TriggerError(
            field,
            f"not a valid UTC offset in {value!r} (from -23:59 to +23:59)",
            code="bad_utc_offset",
            params={"value": value},
        )
    offset = timedelta(hours=hours, minutes=minutes)
    return moment.replace(tzinfo=timezone(-offset if m["offset"][0] == "-" else offset))
