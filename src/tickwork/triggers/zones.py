"""Time zones for triggers: resolving names, naming zones for specs, and UTC-offset segments.

Triggers never ask a tzinfo about wall times (that is where ambiguity lives). Instead each zone
is turned into a table of *segments*: maximal UTC intervals with one constant UTC offset. Inside
a segment, wall time = UTC + offset exactly, so the cron search can run on plain integers; the
DST rule is applied only where one segment hands over to the next.

The table is built by sampling ``utcoffset`` once a day and bisecting every change down to the
second, lazily and per zone (shared by all triggers of that zone). That works for any tzinfo
(zoneinfo, pytz, dateutil, custom) because it only evaluates ``datetime.fromtimestamp(t, tz)``,
which every correct tzinfo supports. It assumes no zone changes its offset twice within one day,
which holds for every IANA zone since 1900.
"""

from __future__ import annotations

import re
import threading
from bisect import bisect_right
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tickwork.errors import TriggerError
from tickwork.triggers.datestr import parse_date_string

DAY = 86_400
YEAR = 365 * DAY
# datetime can represent 0001-01-01 .. 9999-12-31; keep slack so any offset stays in range.
MIN_S = -62_135_596_800 + 2 * DAY
MAX_S = 253_402_300_799 - DAY
_SAMPLE = DAY  # sampling step when looking for offset changes
_CHUNK = 16 * YEAR  # how far a table grows at a time
_GUARD = 2 * YEAR  # keep at least this much table beyond any instant asked about

_OFFSET_RE = re.compile(r"^([+-])(\d{2}):?(\d{2})\Z")
_FIXED_KEYS = frozenset(
    {
        "UTC",
        "UCT",
        "GMT",
        "GMT0",
        "GMT+0",
        "GMT-0",
        "Greenwich",
        "Universal",
        "Zulu",
        "Etc/UTC",
        "Etc/UCT",
        "Etc/GMT",
        "Etc/GMT0",
        "Etc/GMT+0",
        "Etc/GMT-0",
        "Etc/Greenwich",
        "Etc/Universal",
        "Etc/Zulu",
    }
)


def resolve_tz(value: str | tzinfo | None, field: str = "timezone") -> tzinfo:
    """A tzinfo from an IANA name, ``UTC``, a fixed offset like ``+08:00``, or a tzinfo."""
    if value is None:
        return UTC
    if isinstance(value, tzinfo):
        return value
    if not isinstance(value, str):
        raise TriggerError(
            field,
            f"expected a time zone name or tzinfo, got {value!r}",
            code="expected_zone",
            params={"value": repr(value)},
        )
    name = value.strip()
    if name.upper() in {"UTC", "Z"}:
        return UTC
    m = _OFFSET_RE.match(name)
    if m:
        sign, hh, mm = m.groups()
        if int(hh) > 23 or int(mm) > 59:
            raise TriggerError(
                field,
                f"unknown time zone {value!r}",
                code="unknown_zone",
                params={"zone": value},
            )
        delta = timedelta(hours=int(hh), minutes=int(mm))
        return timezone(-delta if sign == "-" else delta)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise TriggerError(
            field, f"unknown time zone {value!r}", code="unknown_zone", params={"zone": value}
        ) from None


def tz_name(tz: tzinfo) -> str:
    """The name a spec stores: ``UTC``, an IANA key, or ``+08:00`` for fixed offsets."""
    if tz is UTC:
        return "UTC"
    if isinstance(tz, timezone):
        off = tz.utcoffset(None)
        return "UTC" if not off else format_offset(off)
    for attr in ("key", "zone"):  # zoneinfo, pytz
        key = getattr(tz, attr, None)
        if isinstance(key, str) and key:
            return key
    raise TriggerError(
        "timezone",
        f"cannot name the time zone {tz!r} in a spec; use an IANA zone name or a fixed offset",
        code="unnamed_zone",
        params={"zone": repr(tz)},
    )


def format_offset(off: timedelta) -> str:
    total = int(off.total_seconds())
    sign = "-" if total < 0 else "+"
    total = abs(total)
    return f"{sign}{total // 3600:02d}:{total % 3600 // 60:02d}"


def fixed_offset(tz: tzinfo) -> int | None:
    """The zone's constant offset in seconds, if it is known never to change."""
    if isinstance(tz, timezone):
        off = tz.utcoffset(None)
        return int(off.total_seconds())
    key = getattr(tz, "key", None)
    if isinstance(tz, ZoneInfo) and isinstance(key, str) and key in _FIXED_KEYS:
        return 0
    return None


def _offset_at(tz: tzinfo, t: int) -> int:
    off = datetime.fromtimestamp(t, tz).utcoffset()
    if off is None:  # a tzinfo that is not a zone at all
        raise TriggerError(
            "timezone",
            f"{tz!r} gives no UTC offset",
            code="zone_no_offset",
            params={"zone": repr(tz)},
        )
    return off.days * DAY + off.seconds


class ZoneState(NamedTuple):
    """An immutable snapshot of a zone table; replaced whole when the table grows.

    ``trans[i]`` is the first UTC second of segment ``i + 1``; ``offs[i]`` is the offset of
    the segment ending at ``trans[i]`` (so ``offs`` is one longer than ``trans``). The first
    and last entries of ``trans`` are the coverage limits, not real changes: the offsets on
    both sides of them are equal, so crossing them is a no-op for the DST rule.
    """

    lo: int
    guard: int  # instants in [lo, guard) have at least _GUARD of table after them
    trans: list[int]
    offs: list[int]


class ZoneTable:
    """The UTC-offset segments of one zone, grown on demand and shared by its triggers."""

    __slots__ = ("_lock", "state", "tz")

    def __init__(self, tz: tzinfo) -> None:
        self.tz = tz
        self._lock = threading.Lock()
        # An empty placeholder: the table is built around the first instant asked about.
        self.state = ZoneState(0, 0, [0], [0, 0])

    def _scan(self, a: int, b: int) -> list[tuple[int, int]]:
        """Offset changes in (a, b] as (first second of the new offset, new offset)."""
        tz = self.tz
        out: list[tuple[int, int]] = []
        t, o = a, _offset_at(tz, a)
        while t < b:
            t2 = min(t + _SAMPLE, b)
            o2 = _offset_at(tz, t2)
            if o2 == o:
                t = t2
                continue
            lo, hi = t, t2  # off(lo) == o != off(hi): bisect to the exact second
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if _offset_at(tz, mid) == o:
                    lo = mid
                else:
                    hi = mid
            o = _offset_at(tz, hi)
            out.append((hi, o))
            t = hi  # rescan from the change: another may follow within the same sample
        return out

    def _build(self, want_lo: int, want_hi: int) -> ZoneState:
        old = self.state
        if len(old.trans) > 1:
            lo, hi = old.trans[0], old.trans[-1]
        else:  # first use: centre the table on the instant asked about
            lo = hi = max(MIN_S, min(MAX_S, want_lo))
        new_lo = max(MIN_S, min(lo, want_lo - DAY))
        new_hi = min(MAX_S, max(hi, want_hi + _GUARD))
        if len(old.trans) > 1 and new_lo >= lo and new_hi <= hi:
            return old
        if new_lo < lo:  # going back in time is rare: grow by less
            new_lo = max(MIN_S, min(new_lo, lo - _CHUNK // 8))
        if new_hi > hi:
            new_hi = min(MAX_S, max(new_hi, hi + _CHUNK))
        changes: list[tuple[int, int]] = []
        if len(old.trans) > 1:
            changes.extend(self._scan(new_lo, lo))
            changes.extend(zip(old.trans[1:-1], old.offs[2:-1], strict=True))
            changes.extend(self._scan(hi, new_hi))
        else:
            changes.extend(self._scan(new_lo, new_hi))
        first = _offset_at(self.tz, new_lo)
        trans = [new_lo] + [t for t, _ in changes] + [new_hi]
        offs = [first, first] + [o for _, o in changes]
        offs.append(offs[-1])
        return ZoneState(new_lo, new_hi - _GUARD, trans, offs)

    def cover(self, s: int) -> ZoneState:
        """A state whose table covers ``s`` with room to spare (grows the table if needed)."""
        st = self.state
        if st.lo <= s < st.guard:
            return st
        with self._lock:
            st = self.state
            if not (st.lo <= s < st.guard):
                st = self._build(s, s)
                self.state = st
        return st

    def offset_at(self, s: int) -> int:
        st = self.cover(s)
        return st.offs[bisect_right(st.trans, s)]

    def wall_to_utc(self, wall: int) -> int:
        """The UTC second of a wall-clock second under the one DST rule.

        A wall time that occurs twice maps to its first occurrence; one that falls in a gap
        maps to the first instant after the gap (the transition itself).
        """
        st = self.cover(wall)
        st = self.cover(wall - 2 * DAY)
        st = self.cover(wall + 2 * DAY)
        trans, offs = st.trans, st.offs
        i = bisect_right(trans, wall - 2 * DAY)
        n = len(trans)
        while i < n:
            start = trans[i - 1]
            end = trans[i]
            u = wall - offs[i]
            if start <= u < end:
                return u
            if u < start:  # passed it: the wall time is in the gap before segment i
                return start
            i += 1
        return wall - offs[-1]


_TABLES: dict[Any, ZoneTable] = {}
_TABLES_LOCK = threading.Lock()


def zone_table(tz: tzinfo) -> ZoneTable:
    """The shared table of a zone (one per hashable tzinfo, a private one otherwise)."""
    try:
        table = _TABLES.get(tz)
    except TypeError:
        return ZoneTable(tz)
    if table is None:
        with _TABLES_LOCK:
            table = _TABLES.get(tz)
            if table is None:
                table = ZoneTable(tz)
                _TABLES[tz] = table
    return table


def wall_seconds(moment: datetime) -> int:
    """Seconds of a naive wall time counted as if it were UTC (the trigger's local axis)."""
    return (
        (moment.toordinal() - 719_163) * DAY
        + moment.hour * 3600
        + moment.minute * 60
        + (moment.second)
    )


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def coerce_instant(value: object, tz: tzinfo, field: str) -> int:
    """Epoch microseconds of a start/end/run date given as datetime, date or a date string.

    Strings are read as APScheduler 3 and ISO 8601 write them (``datestr.py``). Naive values are
    wall times in ``tz`` and follow the DST rule of ``ZoneTable.wall_to_utc``.
    """
    if isinstance(value, str):
        value = parse_date_string(value, field)
    if isinstance(value, datetime):
        if value.tzinfo is not None and value.utcoffset() is not None:
            delta = value - _EPOCH
            return (delta.days * DAY + delta.seconds) * 1_000_000 + delta.microseconds
        naive = value
    elif isinstance(value, date):
        naive = datetime.combine(value, time())
    else:
        raise TriggerError(
            field,
            f"expected a datetime, date or date string, got {value!r}",
            code="expected_datetime",
            params={"value": repr(value)},
        )
    off = fixed_offset(tz)
    wall = wall_seconds(naive)
    u = wall - off if off is not None else zone_table(tz).wall_to_utc(wall)
    return u * 1_000_000 + naive.microsecond


def us_to_local(us: int, tz: tzinfo) -> datetime:
    """Aware datetime in ``tz`` of epoch microseconds."""
    moment = datetime.fromtimestamp(us // 1_000_000, tz)
    frac = us % 1_000_000
    return moment.replace(microsecond=frac) if frac else moment


def format_local(us: int, tz: tzinfo) -> str:
    """``YYYY-MM-DD HH:MM:SS[.ffffff]`` wall time of an instant in ``tz`` (no offset)."""
    moment = us_to_local(us, tz)
    text = moment.strftime("%Y-%m-%d %H:%M:%S")
    if moment.microsecond:
        text += f".{moment.microsecond:06d}"
    return text


def iso_local(us: int, tz: tzinfo) -> str:
    """ISO 8601 with UTC offset of an instant in ``tz`` (what specs store)."""
    return us_to_local(us, tz).isoformat()
