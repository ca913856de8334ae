"""str() of a trigger is APScheduler 3's: the same text for the same keywords.

The expected strings are APScheduler's own ``str()`` of its trigger built from the same keywords
(a dev dependency), not copies of it. ``repr()`` stays Tickwork's: the kind and the full spec.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger as ApsCron
from apscheduler.triggers.date import DateTrigger as ApsDate
from apscheduler.triggers.interval import IntervalTrigger as ApsInterval

from tickwork.triggers import cron, date, from_keywords, from_spec, interval

SHANGHAI = ZoneInfo("Asia/Shanghai")

CRON_KEYWORDS: list[dict[str, Any]] = [
    {"hour": 2, "minute": 0},
    {"hour": "2", "minute": "0"},
    {"month": "6-8,11-12", "day": "3rd fri", "hour": "0-3"},
    {"day_of_week": "mon-fri", "hour": "9-17/2"},
    {"day_of_week": "sun", "hour": 3},
    {"minute": "*/5"},
    {"second": "0,30", "minute": "*"},
    {"day": "last"},
    {"day": "LAST"},
    {"day": "last fri"},
    {"day": "1ST MON"},
    {"day": "2nd wed,last sun"},
    {"month": "jun-aug"},
    {"month": "JUN"},
    {"month": "jun-jun"},
    {"day_of_week": "MON"},
    {"day_of_week": "0-4"},
    {"day_of_week": "sat,sun"},
    {"hour": "02"},
    {"minute": "*/05"},
    {"hour": "5-5"},
    {"minute": "5/10"},
    {"minute": "*/1"},
    {"hour": "0-23/1"},
    {"hour": " 1 , 2 "},
    {"hour": "*"},
    {"year": 2026, "week": 10},
    {"year": "2026-2030", "month": 2, "day": 29},
    {"second": 0},
    {},
    {"hour": 2, "minute": 0, "start_date": "2026-01-01", "end_date": "2027-01-01"},
    {"hour": 2, "jitter": 30},
]


@pytest.mark.parametrize("kw", CRON_KEYWORDS, ids=repr)
def test_cron_keywords_print_as_apscheduler(kw: dict[str, Any]) -> None:
    ours = from_keywords("cron", timezone="Asia/Shanghai", **kw)
    assert str(ours) == str(ApsCron(timezone=SHANGHAI, **kw))
    # The text survives the spec round trip a stored job makes.
    assert str(from_spec(ours.to_spec())) == str(ours)


@pytest.mark.parametrize(
    "kw",
    [
        {"seconds": 10},
        {"minutes": 30},
        {"hours": 1},
        {"days": 1, "hours": 2},
        {"weeks": 2, "seconds": 1.5},
        {"minutes": 90},
        {"days": 400},
        {"seconds": 0.25},
        {"hours": 1, "start_date": "2026-01-01 08:00:00", "end_date": "2026-02-01 08:00:00"},
    ],
    ids=repr,
)
def test_intervals_print_as_apscheduler(kw: dict[str, Any]) -> None:
    ours = from_keywords("interval", timezone="Asia/Shanghai", **kw)
    assert str(ours) == str(ApsInterval(timezone=SHANGHAI, **kw))


@pytest.mark.parametrize(
    ("run_date", "zone"),
    [
        ("2009-07-06 12:00:00", "Asia/Shanghai"),
        ("2009-7-6", "Asia/Shanghai"),
        ("2026-07-06 12:00:00", "Europe/Berlin"),  # CEST
        ("2026-01-06 12:00:00", "Europe/Berlin"),  # CET
        ("2026-01-06 12:00:00", "America/New_York"),
        ("2026-01-06 12:00:00.250000", "UTC"),  # fractions are not shown
        (datetime(2009, 7, 6, 12, tzinfo=timezone(timedelta(hours=8))), None),
        (datetime(2009, 7, 6, 12, tzinfo=SHANGHAI), None),
    ],
    ids=repr,
)
def test_dates_print_as_apscheduler(run_date: Any, zone: str | None) -> None:
    ours = from_keywords("date", run_date=run_date, timezone=zone)
    theirs = ApsDate(run_date=run_date, timezone=ZoneInfo(zone) if zone else None)
    assert str(ours) == str(theirs)


def test_cron_strings_name_the_expression_and_the_zone() -> None:
    assert str(cron("0 2 * * *", "Asia/Shanghai")) == "cron[expr='0 2 * * *', tz='Asia/Shanghai']"
    assert str(cron("  0   9 * * MON-FRI ")) == "cron[expr='0 9 * * MON-FRI', tz='UTC']"
    assert str(cron("@daily", "+08:00")) == "cron[expr='@daily', tz='+08:00']"
    assert str(cron("0 0 9 * * 1", timezone(timedelta(hours=-5)))) == (
        "cron[expr='0 0 9 * * 1', tz='-05:00']"
    )


def test_repr_stays_informative() -> None:
    t = from_keywords("cron", hour=2, minute=0, timezone="Asia/Shanghai", seed="job-1")
    assert repr(t) == (
        '<CronTrigger {"fields": {"hour": "2", "minute": "0"}, "kind": "cron", '
        '"seed": "job-1", "tz": "Asia/Shanghai"}>'
    )
    assert (
        repr(interval(seconds=10))
        == '<IntervalTrigger {"kind": "interval", "seconds": 10, "tz": "UTC"}>'
    )
    assert repr(date("2026-01-01 08:00", "UTC")) == (
        '<DateTrigger {"kind": "date", "run_date": "2026-01-01T08:00:00+00:00", "tz": "UTC"}>'
    )
    assert str(t) != repr(t)
