"""Specs, equality, immutability, time zone naming and descriptions."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

import pytest
from dateutil import tz as dateutil_tz

from tickwork.triggers import (
    Trigger,
    TriggerError,
    cron,
    date,
    from_keywords,
    from_spec,
    interval,
)


class Unnamed(tzinfo):
    """A tzinfo with no name a spec could store."""

    def utcoffset(self, dt: datetime | None) -> timedelta:
        return timedelta(hours=3)

    def dst(self, dt: datetime | None) -> timedelta:
        return timedelta(0)

    def tzname(self, dt: datetime | None) -> str:
        return "X"


def test_public_names() -> None:
    from tickwork import triggers
    from tickwork.errors import TriggerError as Base

    assert triggers.TriggerError is Base
    for name in ("cron", "interval", "date", "from_keywords", "from_spec", "Trigger"):
        assert hasattr(triggers, name)


@pytest.mark.parametrize(
    ("trigger", "spec"),
    [
        (cron("0 9 * * MON-FRI"), {"kind": "cron", "expr": "0 9 * * MON-FRI", "tz": "UTC"}),
        (
            cron("H H * * *", "Asia/Shanghai", "job-1", jitter=2.5, start_date="2026-01-01"),
            {
                "kind": "cron",
                "expr": "H H * * *",
                "tz": "Asia/Shanghai",
                "seed": "job-1",
                "jitter": 2.5,
                "start_date": "2026-01-01T00:00:00+08:00",
            },
        ),
        (
            from_keywords("cron", hour=2, day_of_week="sun", timezone="Europe/Berlin"),
            {
                "kind": "cron",
                "fields": {"day_of_week": "sun", "hour": "2"},
                "tz": "Europe/Berlin",
            },
        ),
        (
            interval(minutes=90, end_date="2027-01-01"),
            {
                "kind": "interval",
                "hours": 1,
                "minutes": 30,
                "tz": "UTC",
                "end_date": "2027-01-01T00:00:00+00:00",
            },
        ),
        (
            date("2026-12-31 23:59:59", "+05:30"),
            {"kind": "date", "run_date": "2026-12-31T23:59:59+05:30", "tz": "+05:30"},
        ),
    ],
)
def test_spec_shape_and_round_trip(trigger: Trigger, spec: dict[str, object]) -> None:
    assert trigger.to_spec() == spec
    assert json.loads(json.dumps(spec)) == spec
    again = from_spec(spec)
    assert again == trigger
    assert hash(again) == hash(trigger)
    assert type(again) is type(trigger)


def test_equality_is_by_spec() -> None:
    assert cron("0 9 * * *", "Europe/Berlin") == cron("0 9 * * *", ZoneInfo("Europe/Berlin"))
    assert cron("0 9 * * *") != cron("0 9 * * *", "Europe/Berlin")
    assert cron("0 9 * * *") != cron("0 9 * * *", seed="x")
    assert cron("0 9 * * *") != from_keywords("cron", hour=9)
    assert len({cron("* * * * *"), cron("* * * * *"), interval(minutes=1)}) == 2
    assert cron("* * * * *") != "* * * * *"


def test_triggers_are_immutable() -> None:
    t = cron("* * * * *")
    with pytest.raises(AttributeError):
        t._expr = "0 0 * * *"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        t.anything = 1  # type: ignore[attr-defined]
    with pytest.raises(AttributeError):
        del t._expr


class TestZones:
    def test_names_in_specs(self) -> None:
        assert cron("* * * * *", UTC).to_spec()["tz"] == "UTC"
        assert cron("* * * * *", timezone(timedelta(hours=-3))).to_spec()["tz"] == "-03:00"
        assert cron("* * * * *", timezone(timedelta(0))).to_spec()["tz"] == "UTC"
        assert cron("* * * * *", "Etc/UTC").to_spec()["tz"] == "Etc/UTC"

    def test_any_tzinfo_works_but_an_unnamed_one_cannot_be_a_spec(self) -> None:
        t = cron("0 9 * * *", Unnamed())
        assert t.next_fire_after(datetime(2026, 1, 1, tzinfo=UTC)) == datetime(
            2026, 1, 1, 6, tzinfo=UTC
        )
        assert t.describe()
        assert repr(t)
        with pytest.raises(TriggerError) as info:
            t.to_spec()
        assert info.value.field == "timezone"

    def test_dateutil_zone_follows_the_same_rule(self) -> None:
        berlin = dateutil_tz.gettz("Europe/Berlin")
        assert berlin is not None
        t = cron("30 2 * * *", berlin)
        fire = t.next_fire_after(datetime(2026, 3, 28, 12, tzinfo=UTC))
        assert fire is not None
        assert fire.astimezone(UTC) == datetime(2026, 3, 29, 1, tzinfo=UTC)

    def test_spec_errors(self) -> None:
        with pytest.raises(TriggerError, match=r"^kind: unknown trigger kind"):
            from_spec({"kind": "weekly"})
        with pytest.raises(TriggerError, match=r"^colour: unknown key in a cron spec"):
            from_spec({"kind": "cron", "expr": "* * * * *", "colour": "red"})
        with pytest.raises(TriggerError, match=r"^spec: a cron spec has exactly one of"):
            from_spec({"kind": "cron"})
        with pytest.raises(TriggerError, match=r"^spec: expected a mapping"):
            from_spec("* * * * *")  # type: ignore[arg-type]
        with pytest.raises(TriggerError, match=r"^timezone: unknown time zone 'Mars/Base'"):
            from_spec({"kind": "cron", "expr": "* * * * *", "tz": "Mars/Base"})


@pytest.mark.parametrize(
    ("trigger", "en", "zh"),
    [
        (cron("*/5 * * * *"), "Every 5 minutes", "每 5 分钟"),
        (cron("0 9 * * MON-FRI"), "At 09:00, Monday through Friday", "周一至周五 09:00"),
        (cron("30 2 L * *"), "At 02:30 on the last day of the month", "每月最后一天 02:30"),
        (cron("* * * * *"), "Every minute", "每分钟"),
        (cron("0 * * * *"), "Every hour, on the hour", "每小时整点"),
        (cron("15 * * * *"), "At minute 15 of every hour", "每小时的第 15 分钟"),
        (cron("0 */2 * * *"), "Every 2 hours", "每 2 小时"),
        (cron("0 0 * * *"), "At 00:00", "每天 00:00"),
        (cron("@yearly"), "At 00:00 on January 1", "每年 1 月 1 日 00:00"),
        (cron("0 0 1 * *"), "At 00:00 on day 1 of the month", "每月 1 日 00:00"),
        (cron("0 12 * * SUN"), "At 12:00, only on Sunday", "每周日 12:00"),
        (cron("0 8,18 * * *"), "At 08:00 and 18:00", "每天 08:00 和 18:00"),
        (
            cron("*/15 9-17 * * MON-FRI"),
            "Every 15 minutes, between 09:00 and 17:59, Monday through Friday",
            "周一至周五 09:00 至 17:59 之间每 15 分钟",
        ),
        (
            cron("0 0 1 * MON"),
            "At 00:00 on day 1 of the month or on Monday",
            "每月 1 日或每周一 00:00",
        ),
        (
            cron("0 0 */2 * MON"),
            "At 00:00 on every 2nd day from day 1 through 31 of the month, but only on Monday",
            "每月 1 日至 31 日中每 2 天（且须为周一） 00:00",
        ),
        (
            cron("0 0 ? * 5#3"),
            "At 00:00 on the third Friday of the month",
            "每月第三个周五 00:00",
        ),
        (
            cron("0 0 * * MON,5#3"),
            "At 00:00 on every Monday and on the third Friday of the month",
            "每周一和每月第三个周五 00:00",
        ),
        (
            cron("0 0 15W * *"),
            "At 00:00 on the weekday nearest day 15 of the month",
            "每月离 15 日最近的工作日 00:00",
        ),
        (
            cron("0 0 L-3 * *"),
            "At 00:00 on the 4th-to-last day of the month",
            "每月倒数第 4 天 00:00",
        ),
        (cron("*/10 * * * * *"), "Every 10 seconds", "每 10 秒"),
        (cron("30 * * * * *"), "At second 30 of every minute", "每分钟的第 30 秒"),
        (
            cron("*/7 * * * *"),
            "At every 7th minute from 0 through 56",
            "每小时的第 0 至 56 分钟中每 7 分钟",
        ),
        (
            cron("0 0 0 1 1 ? 2027"),
            "At 00:00 on January 1, in 2027",
            "2027 年 1 月 1 日 00:00",
        ),
        (
            cron("0 9 * * *", "Europe/Berlin"),
            "At 09:00 (Europe/Berlin)",
            "每天 09:00（Europe/Berlin）",
        ),
        (
            cron("H 3 * * *", seed="job-1"),
            "At 03:52; H values spread by seed 'job-1'",
            "每天 03:52；H 取值由种子 'job-1' 决定",
        ),
        (
            cron("0 9 * * *", jitter=30),
            "At 09:00, plus up to 30 s of deterministic jitter",
            "每天 09:00，另加最多 30 秒的确定性延迟",
        ),
        (
            from_keywords("cron", day="last fri", hour=3),
            "At 03:00 on the last Friday of the month",
            "每月最后一个周五 03:00",
        ),
        (from_keywords("cron", day_of_week=0, hour=9), "At 09:00, only on Monday", "每周一 09:00"),
        (interval(minutes=30), "Every 30 minutes", "每 30 分钟"),
        (interval(hours=1), "Every hour", "每小时"),
        (interval(weeks=2), "Every 2 weeks", "每 2 周"),
        (
            interval(seconds=7),
            "Every 7 seconds (counted from the Unix epoch)",
            "每 7 秒（从 Unix 纪元起算）",
        ),
        (
            interval(minutes=30, start_date="2026-01-01 08:00", tz="Asia/Shanghai"),
            "Every 30 minutes (Asia/Shanghai), from 2026-01-01 08:00:00",
            "每 30 分钟（Asia/Shanghai），自 2026-01-01 08:00:00 起",
        ),
        (
            date("2026-12-31 23:59:59", "Asia/Shanghai"),
            "Once at 2026-12-31 23:59:59 (Asia/Shanghai)",
            "在 2026-12-31 23:59:59（Asia/Shanghai）执行一次",
        ),
    ],
)
def test_descriptions(trigger: Trigger, en: str, zh: str) -> None:
    assert trigger.describe("en") == en
    assert trigger.describe() == en
    assert trigger.describe("zh") == zh


def test_unknown_language() -> None:
    with pytest.raises(TriggerError) as info:
        cron("* * * * *").describe("fr")  # type: ignore[arg-type]
    assert info.value.field == "lang"
    with pytest.raises(TriggerError, match=r"^lang: "):
        interval(minutes=1).describe("de")  # type: ignore[arg-type]
