"""run_date, start_date and end_date take the strings APScheduler 3 takes, read the same way.

The reference is APScheduler 3's own ``convert_to_datetime`` (a dev dependency), asked about the
same strings in the same zone; the instants must be equal. Strings APScheduler refuses but ISO
8601 allows (which Tickwork took before) are compared with ``datetime.fromisoformat``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

import pytest
from apscheduler.util import convert_to_datetime

from tickwork.errors import InvalidInput
from tickwork.triggers import TriggerError, cron, date, from_keywords, interval
from tickwork.triggers.base import to_us
from tickwork.triggers.datestr import parse_date_string
from tickwork.triggers.zones import coerce_instant

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")

# Strings APScheduler 3.11 accepts.
APSCHEDULER_FORMS = [
    "2009-7-6",
    "2009-07-06",
    "2009-7-06",
    "2009-07-6",
    "2009-07-06 12:00:00",
    "2009-07-06T12:00:00",
    "2009-7-6 1:2:3",
    "2009-07-06T1:2:3",
    "2009-07-06 12:00:00.123456",
    "2009-07-06 23:59:59.999999",
    "2009-07-06 12:00:00Z",
    "2009-07-06T12:00:00+08:00",
    "2009-07-06 12:00:00-05:30",
    "2009-07-06T12:00:00.250000+05:45",
    "2009-07-06 12:00:00+23:59",
    "2009-07-06 12:00:00-00:00",
    "2009-07-06\n",  # APScheduler's '$' allows one trailing newline
    "1970-1-1",
    "2099-12-31 23:59:59",
]

# Strings APScheduler 3.11 refuses that Tickwork reads as ISO 8601 does (and did before).
ISO_ONLY_FORMS = [
    "2009-07-06 12:00",  # no seconds
    "2009-07-06T12:00",
    "2009-07-06T12",  # the hour alone
    "2009-07-06 12:00+08:00",
    "2009-07-06 12:00:00+0800",
    "2009-07-06 12:00:00+08",
    "2009-07-06T12:00:00,5",  # ISO's comma
    "2009-07-06 12:00:00.1234567",  # past the microsecond: truncated, as fromisoformat does
    " 2009-07-06 12:00:00 ",  # surrounding blanks
    "2009-07-06 12:00:00\n\n",
    "20090706",  # basic format
    "20090706T120000",
    "2009-W28-1",  # week date: Monday of ISO week 28
    "2009-07-06 12:00:00 +08:00",
]

GARBAGE = [
    "",
    "   ",
    "soon",
    "tomorrow 12:00",
    "09-07-06",
    "2009/07/06",
    "2009-07-06  12:00:00",
    "2009-07-06 12:00:00z",
    "2009-13-01",
    "2009-02-29",
    "2009-00-10",
    "2009-07-32",
    "2009-07-06 24:00:00",
    "2009-07-06 12:60:00",
    "2009-07-06 12:00:60",
    "2009-07-06 12:00:00+24:00",
    "2009-07-06 12:00:00+08:60",
    "2009-07-06 12:00:00+8:00",
    "2009-07-06 12:00:00 CST",
    "2009-07-06T",
    "2009-07-06 12:",
    "2009-07-06 12:00:00.",
    "12009-07-06",
    "٢٠٠٩-٠٧-٠٦",  # Arabic-Indic digits: APScheduler's \\d takes them, Tickwork does not
]


def _ours(text: str, tz: tzinfo) -> int:
    return coerce_instant(text, tz, "run_date")


@pytest.mark.parametrize("tz", [SHANGHAI, BERLIN, UTC], ids=str)
@pytest.mark.parametrize("text", APSCHEDULER_FORMS)
def test_same_instant_as_apscheduler(text: str, tz: tzinfo) -> None:
    expected = convert_to_datetime(text, tz, "run_date")
    assert _ours(text, tz) == to_us(expected)


@pytest.mark.parametrize("text", ISO_ONLY_FORMS)
def test_iso_forms_apscheduler_refuses_are_read_as_iso(text: str) -> None:
    with pytest.raises(ValueError, match="Invalid date string"):
        convert_to_datetime(text, SHANGHAI, "run_date")
    parsed = datetime.fromisoformat(text.strip())
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=SHANGHAI)  # no DST in Shanghai: one reading per wall time
    assert _ours(text, SHANGHAI) == to_us(parsed)


@pytest.mark.parametrize("text", GARBAGE)
@pytest.mark.parametrize("field", ["run_date", "start_date", "end_date"])
def test_garbage_is_refused_naming_the_field(text: str, field: str) -> None:
    with pytest.raises(TriggerError) as info:
        coerce_instant(text, SHANGHAI, field)
    assert isinstance(info.value, InvalidInput)
    assert info.value.field == field
    assert repr(text) in info.value.reason


def test_apscheduler_refuses_the_garbage_too() -> None:
    # The refusals above are not stricter than APScheduler, except where it reads nonsense:
    # non-ASCII digits, and an offset's minutes of 60 or more (it reads +08:60 as +09:00).
    lenient = {"٢٠٠٩-٠٧-٠٦", "2009-07-06 12:00:00+08:60"}
    for text in GARBAGE:
        if text in lenient:
            assert convert_to_datetime(text, SHANGHAI, "run_date") is not None
            continue
        with pytest.raises(ValueError, match=r"Invalid date string|must be in|out of range|offset"):
            convert_to_datetime(text, SHANGHAI, "run_date")


def test_the_reasons_say_what_is_wrong() -> None:
    with pytest.raises(TriggerError, match=r"^run_date: not a date/time: 'soon' \(use 'YYYY"):
        coerce_instant("soon", UTC, "run_date")
    with pytest.raises(TriggerError, match=r"^start_date: not a valid date/time: '2009-13-01'"):
        coerce_instant("2009-13-01", UTC, "start_date")
    with pytest.raises(TriggerError, match=r"month must be in 1\.\.12"):
        coerce_instant("2009-13-01", UTC, "start_date")
    with pytest.raises(TriggerError, match=r"^end_date: not a valid UTC offset in '.*\+24:00'"):
        coerce_instant("2009-07-06 12:00:00+24:00", UTC, "end_date")


def test_a_fraction_is_a_fraction_of_a_second() -> None:
    # Deliberately not APScheduler's reading: it takes ".5" as 5 microseconds.
    assert convert_to_datetime("2009-07-06 12:00:00.5", UTC, "x").microsecond == 5
    assert parse_date_string("2009-07-06 12:00:00.5", "x").microsecond == 500_000
    assert parse_date_string("2009-07-06 12:00:00.05", "x").microsecond == 50_000
    assert parse_date_string("2009-07-06 12:00:00.000005", "x").microsecond == 5
    assert parse_date_string("2009-07-06 12:00:00.9999999", "x").microsecond == 999_999


def test_offsets_make_aware_values_and_their_absence_naive() -> None:
    assert parse_date_string("2009-7-6 12:00:00", "x") == datetime(2009, 7, 6, 12)
    aware = parse_date_string("2009-07-06T12:00:00-05:30", "x")
    assert aware.utcoffset() == -timedelta(hours=5, minutes=30)
    assert parse_date_string("2009-07-06 12:00:00Z", "x").utcoffset() == timedelta(0)
    assert parse_date_string("2009-07-06 12:00+0545", "x").utcoffset() == timedelta(
        hours=5, minutes=45
    )


def test_every_trigger_keyword_takes_them() -> None:
    # run_date, start_date and end_date, through the keyword form and the functions.
    want = to_us(datetime(2009, 7, 6, 12, tzinfo=SHANGHAI))
    t = from_keywords("date", run_date="2009-7-6 12:0:0", timezone="Asia/Shanghai")
    assert t.next_fire_us(0) == want
    assert date("2009-07-06 12:00", "Asia/Shanghai").next_fire_us(0) == want
    i = from_keywords("interval", hours=1, start_date="2009-7-6 12:00:00", timezone=SHANGHAI)
    assert i.next_fire_us(0) == want
    c = from_keywords(
        "cron", hour=12, start_date="2009-7-6", end_date="2009-7-6 12:00:00", timezone=SHANGHAI
    )
    assert c.next_fire_us(0) == want
    assert c.next_fire_us(want) is None
    assert interval(hours=1, start_date="2009-7-6 12:00", tz=SHANGHAI).next_fire_us(0) == want
    assert cron("0 12 * * *", SHANGHAI, end_date="2009-7-5 1:2:3").next_fire_us(want) is None


def test_naive_strings_in_a_gap_follow_the_dst_rule() -> None:
    # A naive wall time that does not exist means the first instant after the gap (Berlin).
    t = date("2026-3-29 2:30:00", BERLIN)
    assert t.next_fire_us(0) == to_us(datetime(2026, 3, 29, 1, tzinfo=UTC))
