"""Hypothesis properties of every trigger kind, checked against a brute-force oracle.

Expressions are generated from the whole dialect (extensions included); instants are spread
over decades and concentrated around DST transitions, where bugs live.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tests.triggers.cron_oracle import day_matches, instants_of_wall, next_fire
from tickwork.triggers import TriggerError, cron, date, from_keywords, from_spec, interval
from tickwork.triggers.base import Trigger, to_us
from tickwork.triggers.cron import CronTrigger

ZONES = [
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Asia/Shanghai",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
]
# Instants of DST changes to cluster examples around (Berlin, New York, Lord Howe's 30-minute
# one, Chatham's at 02:45 in UTC+12:45).
TRANSITIONS = [
    datetime(2026, 3, 29, 1, tzinfo=UTC),
    datetime(2026, 10, 25, 1, tzinfo=UTC),
    datetime(2026, 3, 8, 7, tzinfo=UTC),
    datetime(2026, 11, 1, 6, tzinfo=UTC),
    datetime(2026, 4, 4, 15, tzinfo=UTC),
    datetime(2026, 10, 3, 15, 30, tzinfo=UTC),
    datetime(2026, 4, 4, 14, tzinfo=UTC),
    datetime(2026, 9, 26, 14, tzinfo=UTC),
]
# TICKWORK_PROPERTY_EXAMPLES raises the effort for a bug hunt; CI uses the default.
EXAMPLES = int(os.environ.get("TICKWORK_PROPERTY_EXAMPLES", "300"))
SETTINGS = settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def _num(lo: int, hi: int) -> st.SearchStrategy[str]:
    return st.integers(lo, hi).map(str)


def _item(lo: int, hi: int) -> st.SearchStrategy[str]:
    a = st.integers(lo, hi)
    step = st.integers(1, min(9, hi - lo))
    return st.one_of(
        _num(lo, hi),
        st.tuples(a, a).map(lambda p: f"{min(p)}-{max(p)}"),
        st.tuples(a, a, step).map(lambda p: f"{min(p[:2])}-{max(p[:2])}/{p[2]}"),
        st.tuples(a, step).map(lambda p: f"{p[0]}/{p[1]}"),
        step.map(lambda n: f"*/{n}"),
        st.sampled_from(["H", "H/4", f"H({lo}-{hi})"]),
    )


def _field(lo: int, hi: int, extra: list[str] | None = None) -> st.SearchStrategy[str]:
    items = _item(lo, hi) if not extra else st.one_of(_item(lo, hi), st.sampled_from(extra))
    return st.one_of(
        st.just("*"),
        items,
        st.lists(items, min_size=2, max_size=3).map(",".join),
    )


DOM_EXTRA = ["L", "L-1", "L-5", "LW", "1W", "15W", "30W", "28W"]
DOW_EXTRA = ["MON-FRI", "SAT,SUN", "FRI-SUN", "1#1", "5#3", "0#5", "2L", "FRIL", "7"]
MONTH_EXTRA = ["JAN", "FEB-APR", "NOV-DEC"]


@st.composite
def expressions(draw: st.DrawFn) -> str:
    minute = draw(_field(0, 59))
    hour = draw(st.one_of(_field(0, 23), st.sampled_from(["*", "2", "1-3", "*/2", "0"])))
    dom = draw(st.one_of(st.sampled_from(["*", "?"]), _field(1, 31, DOM_EXTRA)))
    month = draw(st.one_of(st.just("*"), _field(1, 12, MONTH_EXTRA)))
    dow = draw(st.one_of(st.sampled_from(["*", "?"]), _field(0, 7, DOW_EXTRA)))
    parts = [minute, hour, dom, month, dow]
    shape = draw(st.sampled_from(["5", "5", "6", "7"]))
    if shape in ("6", "7"):
        parts.insert(0, draw(st.one_of(st.just("0"), _field(0, 59))))
    if shape == "7":
        parts.append(draw(st.sampled_from(["*", "2026", "2026-2030", "2027,2031", "2025/3"])))
    return " ".join(parts)


@st.composite
def instants(draw: st.DrawFn) -> datetime:
    if draw(st.booleans()):
        base = draw(st.sampled_from(TRANSITIONS))
        delta = draw(st.integers(-3 * 3600, 3 * 3600))
        micro = draw(st.sampled_from([0, 0, 1, 999_999]))
        return base + timedelta(seconds=delta, microseconds=micro)
    secs = draw(st.integers(to_us(datetime(2020, 1, 1, tzinfo=UTC)) // 10**6, 2_100_000_000))
    return datetime.fromtimestamp(secs, UTC) + timedelta(microseconds=draw(st.integers(0, 999_999)))


def _us(moment: datetime | None) -> int | None:
    return None if moment is None else to_us(moment)


def _build(expr: str, zone: str) -> CronTrigger:
    try:
        return cron(expr, zone, seed="prop")
    except TriggerError as exc:
        assume("never fires" not in exc.reason)  # a rare valid outcome, tested elsewhere
        raise


def _matches_under_dst(t: CronTrigger, fire: datetime) -> bool:
    """The fire is a matching wall time, or (fixed-time jobs) the end of a gap holding one."""
    f = t.fields
    tz = t.tz
    wall = fire.astimezone(tz).replace(tzinfo=None)
    if (
        wall.second in f.seconds
        and wall.minute in f.minutes
        and wall.hour in f.hours
        and day_matches(f, wall.date())
    ):
        return True
    # Aware arithmetic in a zone is wall-clock arithmetic: step back in UTC instead.
    before = (fire.astimezone(UTC) - timedelta(seconds=1)).astimezone(tz).utcoffset()
    after = fire.astimezone(tz).utcoffset()
    assert before is not None
    assert after is not None
    if after <= before:
        return False
    gap_start = wall - (after - before)
    probe = gap_start
    while probe < wall:  # some skipped wall time must match and map here
        matches = (
            day_matches(f, probe.date())
            and probe.hour in f.hours
            and probe.minute in f.minutes
            and probe.second in f.seconds
        )
        if matches and to_us(fire) in [to_us(x) for x in instants_of_wall(probe, tz, f.wildcard)]:
            return True
        probe += timedelta(seconds=1)
    return False


@SETTINGS
@given(expr=expressions(), zone=st.sampled_from(ZONES), after=instants())
def test_cron_agrees_with_the_oracle(expr: str, zone: str, after: datetime) -> None:
    t = _build(expr, zone)
    got = t.next_fire_after(after)
    want = next_fire(t.fields, ZoneInfo(zone), after)
    # Compare instants: == between aware datetimes ignores fold within a zone and is always
    # False across zones for a repeated wall time (PEP 495), so neither is a safe comparison.
    assert _us(got) == _us(want), expr


# Each DST zone with the instants of its changes in 2026 (spring forward, fall back).
DST_CHANGES = {
    "Europe/Berlin": [TRANSITIONS[0], TRANSITIONS[1]],
    "America/New_York": [TRANSITIONS[2], TRANSITIONS[3]],
    "Australia/Lord_Howe": [TRANSITIONS[5], TRANSITIONS[4]],
    "Pacific/Chatham": [TRANSITIONS[7], TRANSITIONS[6]],
}


@st.composite
def near_a_change(draw: st.DrawFn) -> tuple[str, datetime]:
    """A DST zone and one of its own changes, moved by up to 20 minutes."""
    zone = draw(st.sampled_from(sorted(DST_CHANGES)))
    base = draw(st.sampled_from(DST_CHANGES[zone]))
    return zone, base + timedelta(seconds=draw(st.integers(0, 1199)))


MINUTES_NEAR_CHANGES = ["*", "*/15", "*/7", "0", "3", "15", "30", "45", "50", "0,30", "10-50/20"]
HOURS_NEAR_CHANGES = ["*", "*/2", "1", "2", "3", "1-3", "0-4", "2,3"]


@st.composite
def daily_expressions(draw: st.DrawFn) -> str:
    """Expressions that match every day (so the day of a change always matches)."""
    # Mostly the shapes around a change at 01:00-03:45 that Vixie's rule tells apart.
    minute = draw(st.one_of(st.sampled_from(MINUTES_NEAR_CHANGES), _field(0, 59)))
    hour = draw(st.one_of(st.sampled_from(HOURS_NEAR_CHANGES), _field(0, 23)))
    if draw(st.booleans()):
        return f"{minute} {hour} * * *"
    second = draw(st.sampled_from(["0", "30", "0,30", "*/20", "59"]))
    return f"{second} {minute} {hour} * * ?"


@settings(SETTINGS, max_examples=max(EXAMPLES // 3, 1))  # 18 instants per example
@given(expr=daily_expressions(), case=near_a_change())
def test_cron_agrees_with_the_oracle_across_dst(expr: str, case: tuple[str, datetime]) -> None:
    # Instants every 20 minutes from 3 hours before a change of the example's own zone to 3
    # hours after it, on a day that matches: Vixie's rule is exercised on wildcard and
    # fixed-time jobs alike. (Hypothesis draws integers near their bounds, so one drawn instant
    # would rarely land in the hour before a gap; instants() also mixes zones and changes.)
    zone, change = case
    t = _build(expr, zone)
    tz = ZoneInfo(zone)
    for k in range(18):
        after = change + timedelta(minutes=20 * k - 180)
        assert _us(t.next_fire_after(after)) == _us(next_fire(t.fields, tz, after)), (expr, after)


@SETTINGS
@given(expr=expressions(), zone=st.sampled_from(ZONES), after=instants())
def test_cron_fire_properties(expr: str, zone: str, after: datetime) -> None:
    t = _build(expr, zone)
    fire = t.next_fire_after(after)
    assume(fire is not None)
    assert fire is not None
    assert fire > after  # strictly after
    assert fire.tzinfo is t.tz
    assert fire.microsecond == 0
    assert _matches_under_dst(t, fire), (expr, fire)
    # No fire is skipped: just before a fire, the fire itself is next. (Subtract in UTC:
    # aware arithmetic in the zone would be wall-clock arithmetic.)
    assert _us(t.next_fire_after(fire.astimezone(UTC) - timedelta(microseconds=1))) == _us(fire)
    # Chains are strictly increasing and agree with the microsecond API.
    chain = [fire]
    for _ in range(4):
        nxt = t.next_fire_after(chain[-1])
        if nxt is None:
            break
        assert to_us(nxt) > to_us(chain[-1])
        chain.append(nxt)
    us = [to_us(x) for x in chain]
    assert [t.next_fire_us(a) for a in us[:-1]] == us[1:]


@settings(max_examples=EXAMPLES, deadline=None)
@given(expr=expressions(), zone=st.sampled_from(ZONES))
def test_cron_spec_round_trip_and_describe(expr: str, zone: str) -> None:
    t = _build(expr, zone)
    spec = t.to_spec()
    assert json.loads(json.dumps(spec)) == spec
    again = from_spec(spec)
    assert again == t
    assert hash(again) == hash(t)
    probe = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    assert _us(again.next_fire_after(probe)) == _us(t.next_fire_after(probe))
    for lang in ("en", "zh"):
        text = t.describe(lang)  # type: ignore[arg-type]
        assert text
        assert text.strip() == text


def _triggers() -> st.SearchStrategy[Trigger]:
    zone = st.sampled_from(ZONES)
    jitter = st.one_of(st.none(), st.sampled_from([0.5, 3, 90]))
    start = st.one_of(st.none(), st.sampled_from(["2026-01-01", "2026-03-29 02:30:00"]))
    cron_kw = st.builds(
        lambda z, j, s: from_keywords(
            "cron",
            hour="*/3",
            minute=15,
            day_of_week="mon-fri",
            timezone=z,
            jitter=j,
            start_date=s,
            seed="k",
        ),
        zone,
        jitter,
        start,
    )
    cron_str = st.builds(
        lambda e, z, j: cron(e, z, "job", jitter=j),
        st.sampled_from(["*/7 * * * *", "0 9 * * MON-FRI", "H H(0-5) * * *", "0 0 L * *"]),
        zone,
        jitter,
    )
    inter = st.builds(
        lambda m, z, j, s: interval(minutes=m, tz=z, jitter=j, start_date=s, seed="i"),
        st.sampled_from([1, 7, 90]),
        zone,
        jitter,
        start,
    )
    once = st.builds(lambda z, j: date("2026-06-01 12:00", z, jitter=j, seed="d"), zone, jitter)
    return st.one_of(cron_kw, cron_str, inter, once)


@settings(max_examples=EXAMPLES, deadline=None)
@given(t=_triggers(), after=instants())
def test_every_kind_is_strict_monotonic_and_round_trips(t: Trigger, after: datetime) -> None:
    spec = t.to_spec()
    again = from_spec(json.loads(json.dumps(spec)))
    assert again == t
    x = to_us(after)
    seen: list[int] = []
    for _ in range(5):
        nxt = t.next_fire_us(x)
        assert nxt == again.next_fire_us(x)
        if nxt is None:
            break
        assert nxt > x
        # Nothing between: the fire is what comes right after one microsecond before it.
        assert t.next_fire_us(nxt - 1) == nxt
        seen.append(nxt)
        x = nxt
    assert seen == sorted(set(seen))
    for lang in ("en", "zh"):
        assert t.describe(lang)  # type: ignore[arg-type]


@pytest.mark.parametrize("zone", ZONES)
def test_oracle_sanity_on_a_known_case(zone: str) -> None:
    # Guards the oracle itself: a plain daily job is the same in both.
    t = cron("15 10 * * *", zone)
    after = datetime(2026, 5, 5, tzinfo=UTC)
    assert _us(next_fire(t.fields, ZoneInfo(zone), after)) == _us(t.next_fire_after(after))
