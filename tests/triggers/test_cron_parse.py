"""Parsing cron strings: every field, names, ranges, steps, macros, extensions and the errors."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tickwork.triggers import TriggerError, cron
from tickwork.triggers.cron_parse import parse_cron
from tickwork.triggers.schedule import ALL_DOM, ALL_DOW

MON, TUE, WED, THU, FRI, SAT, SUN = range(7)  # Python weekday numbering used internally


def fields(expr: str, seed: str | None = None):  # type: ignore[no-untyped-def]
    return parse_cron(expr, seed).fields


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("*", set(range(60))),
        ("5", {5}),
        ("05", {5}),
        ("0-4", {0, 1, 2, 3, 4}),
        ("*/15", {0, 15, 30, 45}),
        ("10-30/10", {10, 20, 30}),
        ("50/3", {50, 53, 56, 59}),
        ("1,2,59", {1, 2, 59}),
        ("0-5,30-32/2,59", {0, 1, 2, 3, 4, 5, 30, 32, 59}),
        ("*/60", {0}),
        ("59", {59}),
    ],
)
def test_minute_field_values(text: str, expected: set[int]) -> None:
    assert fields(f"{text} * * * *").minutes == expected


def test_each_field_of_five_goes_to_its_place() -> None:
    f = fields("1 2 3 4 5")
    assert f.seconds == {0}
    assert f.minutes == {1}
    assert f.hours == {2}
    assert f.dom == {3}
    assert f.months == {4}
    assert f.dow == {FRI}
    assert f.years is None


def test_six_fields_start_with_seconds_and_seven_end_with_year() -> None:
    f6 = fields("0 0 9 * * 1")  # Monday 09:00, as the seed documents intend
    assert (f6.seconds, f6.minutes, f6.hours, f6.dow) == ({0}, {0}, {9}, {MON})
    f7 = fields("30 15 10 1 6 ? 2027,2030-2031")
    assert f7.seconds == {30}
    assert f7.minutes == {15}
    assert f7.hours == {10}
    assert f7.dom == {1}
    assert f7.months == {6}
    assert f7.years == {2027, 2030, 2031}


def test_hour_and_day_of_month_and_month_ranges() -> None:
    f = fields("0 */6 1-10/3 */4 *")
    assert f.hours == {0, 6, 12, 18}
    assert f.dom == {1, 4, 7, 10}
    assert f.months == {1, 5, 9}


@pytest.mark.parametrize(
    ("dow", "expected"),
    [
        ("0", {SUN}),
        ("7", {SUN}),
        ("0,7", {SUN}),
        ("1-5", {MON, TUE, WED, THU, FRI}),
        ("MON-FRI", {MON, TUE, WED, THU, FRI}),
        ("mon-fri", {MON, TUE, WED, THU, FRI}),
        ("Sat,sun", {SAT, SUN}),
        ("5-7", {FRI, SAT, SUN}),
        ("FRI-SUN", {FRI, SAT, SUN}),  # a range ending on the SUN name runs to 7
        ("*/2", {SUN, TUE, THU, SAT}),  # 0,2,4,6 of 0-7
        ("1/2", {MON, WED, FRI, SUN}),  # 1,3,5,7 (7 = Sunday), as Vixie expands it
        ("*/7", {SUN}),
    ],
)
def test_day_of_week_numbers_and_names(dow: str, expected: set[int]) -> None:
    assert fields(f"0 0 * * {dow}").dow == expected


@pytest.mark.parametrize(
    ("month", "expected"),
    [("JAN", {1}), ("jan-mar", {1, 2, 3}), ("DEC", {12}), ("JAN-DEC/3", {1, 4, 7, 10})],
)
def test_month_names(month: str, expected: set[int]) -> None:
    assert fields(f"0 0 1 {month} *").months == expected


@pytest.mark.parametrize(
    ("macro", "same_as"),
    [
        ("@yearly", "0 0 1 1 *"),
        ("@annually", "0 0 1 1 *"),
        ("@monthly", "0 0 1 * *"),
        ("@weekly", "0 0 * * 0"),
        ("@daily", "0 0 * * *"),
        ("@midnight", "0 0 * * *"),
        ("@hourly", "0 * * * *"),
        ("@DAILY", "0 0 * * *"),
    ],
)
def test_macros(macro: str, same_as: str) -> None:
    assert fields(macro) == fields(same_as)


def test_question_mark_is_star_in_day_fields() -> None:
    f = fields("0 0 ? * MON")
    assert f.dom == ALL_DOM
    assert not f.day_or
    g = fields("0 0 15 * ?")
    assert g.dow == ALL_DOW
    assert not g.day_or


def test_vixie_or_rule_is_decided_by_the_first_character() -> None:
    assert fields("0 0 1 * MON").day_or  # both restricted: either matches
    assert not fields("0 0 */2 * MON").day_or  # '*' first: both must match
    assert not fields("0 0 1 * */2").day_or
    assert not fields("0 0 * * MON").day_or
    assert fields("0 0 1-31 * MON").day_or  # restricted by text even though it covers all days
    assert fields("0 0 L * 5").day_or  # extensions count as restricted


def test_wildcard_flag_follows_the_minute_and_hour_text() -> None:
    assert fields("0 * * * *").wildcard
    assert fields("*/30 */2 * * *").wildcard
    assert fields("@hourly").wildcard
    assert fields("* 0-23 * * *").wildcard  # Vixie: the minute field counts too
    assert fields("*/5 2 * * *").wildcard
    assert fields("0 0 * * * *").wildcard  # 6 fields: minute is the second field
    assert not fields("* 0 2 * * *").wildcard  # the seconds field does not count
    assert not fields("0 2 * * *").wildcard
    assert not fields("0-59 0-23 * * *").wildcard  # fixed by text: DST rule is per text


@pytest.mark.parametrize(
    ("dom", "item"),
    [
        ("L", ("last", 0, 0)),
        ("L-3", ("last", 3, 0)),
        ("15W", ("nearest", 15, 0)),
        ("1w", ("nearest", 1, 0)),
        ("LW", ("lastweekday", 0, 0)),
    ],
)
def test_day_of_month_extensions(dom: str, item: tuple[str, int, int]) -> None:
    f = fields(f"0 0 {dom} * *")
    assert f.dom_items == (item,)
    assert f.dom == frozenset()


@pytest.mark.parametrize(
    ("dow", "item"),
    [
        ("5#3", ("nth", FRI, 3)),
        ("FRI#3", ("nth", FRI, 3)),
        ("0#1", ("nth", SUN, 1)),
        ("7#5", ("nth", SUN, 5)),
        ("5L", ("lastdow", FRI, 0)),
        ("friL", ("lastdow", FRI, 0)),
    ],
)
def test_day_of_week_extensions(dow: str, item: tuple[str, int, int]) -> None:
    assert fields(f"0 0 ? * {dow}").dow_items == (item,)


def test_extensions_mix_with_plain_values_in_lists() -> None:
    f = fields("0 0 1,15,L * *")
    assert f.dom == {1, 15}
    assert f.dom_items == (("last", 0, 0),)


class TestH:
    def test_same_seed_same_values_and_pinned(self) -> None:
        # Pinned: the stable hash must never change, or every deployed job would move.
        assert fields("H H * * *", "job-1") == fields("H H * * *", "job-1")
        f = fields("H H * * *", "job-1")
        assert (f.minutes, f.hours) == ({52}, {8})

    def test_same_in_a_fresh_process_with_another_hash_seed(self) -> None:
        code = (
            "from tickwork.triggers.cron_parse import parse_cron;"
            "f = parse_cron('H H H/10 * *', 'job-42').fields;"
            "print(sorted(f.minutes), sorted(f.hours), sorted(f.dom))"
        )
        out = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": "4242"},
        )
        f = fields("H H H/10 * *", "job-42")
        assert out.stdout.strip() == f"{sorted(f.minutes)} {sorted(f.hours)} {sorted(f.dom)}"

    def test_seed_none_is_the_empty_string(self) -> None:
        assert fields("H H * * *", None) == fields("H H * * *", "")

    def test_different_seeds_spread(self) -> None:
        minutes = {next(iter(fields("H * * * *", f"job-{i}").minutes)) for i in range(200)}
        assert len(minutes) > 40  # 200 jobs over 60 minutes: far from all at :00
        hours = {next(iter(fields("0 H * * *", f"job-{i}").hours)) for i in range(200)}
        assert len(hours) == 24

    def test_fields_get_independent_values(self) -> None:
        same = sum(
            next(iter(fields("H H * * *", f"s{i}").minutes))
            == next(iter(fields("H H * * *", f"s{i}").hours))
            for i in range(100)
        )
        assert same < 10

    def test_forms(self) -> None:
        f = fields("H/15 H(9-17) H(1-10)/5 * H", "job-7")
        (start,) = {m % 15 for m in f.minutes}
        assert f.minutes == set(range(start, 60, 15))
        assert len(f.hours) == 1
        assert 9 <= next(iter(f.hours)) <= 17
        assert len(f.dom) == 2
        assert min(f.dom) in range(1, 6)
        assert max(f.dom) - min(f.dom) == 5
        assert len(f.dow) == 1

    def test_h_in_day_of_month_stays_within_28(self) -> None:
        assert all(next(iter(fields("0 0 H * *", f"j{i}").dom)) <= 28 for i in range(300))

    def test_h_in_seconds(self) -> None:
        f = fields("H * * * * *", "x")
        assert len(f.seconds) == 1

    def test_h_is_refused_in_year(self) -> None:
        with pytest.raises(TriggerError, match=r"^year: H is not supported"):
            cron("0 0 0 1 1 ? H")


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("0 0 32 * *", "day-of-month: 32 is out of range 1-31"),
        ("0 0 0 * *", "day-of-month: 0 is out of range 1-31"),
        ("60 * * * *", "minute: 60 is out of range 0-59"),
        ("* 24 * * *", "hour: 24 is out of range 0-23"),
        ("* * * 13 *", "month: 13 is out of range 1-12"),
        ("* * * * 8", "day-of-week: 8 is out of range 0-7"),
        ("60 * * * * *", "second: 60 is out of range 0-59"),
        ("0 0 0 1 1 ? 1969", "year: 1969 is out of range 1970-2099"),
        ("0 0 0 1 1 ? 2100", "year: 2100 is out of range 1970-2099"),
        ("5-2 * * * *", "minute: reversed range 5-2"),
        ("* * * * FRI-MON", "day-of-week: reversed range FRI-MON"),
        ("* * * * *", None),
        ("* * * *", "expression: expected 5, 6 or 7 fields, got 4"),
        ("", "expression: expected 5, 6 or 7 fields, got 0"),
        ("* * * * * * * *", "expression: expected 5, 6 or 7 fields, got 8"),
        ("* * * * FUNDAY", "day-of-week: unknown name 'FUNDAY'"),
        ("* * * JANUARY *", "month: unknown name 'JANUARY'"),
        ("*/0 * * * *", "minute: step 0 in '*/0' is not allowed (a step is 1 or more)"),
        ("1-5/0 * * * *", "minute: step 0 in '1-5/0' is not allowed (a step is 1 or more)"),
        ("*/61 * * * *", "minute: step 61 in '*/61' is larger than the field's range 0-59"),
        ("*/ * * * *", "minute: missing step after '/' in '*/'"),
        ("1,,2 * * * *", "minute: empty list item"),
        ("1, * * * *", "minute: empty list item"),
        ("abc * * * *", "minute: invalid value 'abc' (expected a number 0-59)"),
        ("1-2-3 * * * *", "minute: cannot parse '1-2-3'"),
        ("* * * * 1#6", "day-of-week: #6 in '1#6' is out of range (#1 to #5)"),
        ("* * * * 1#0", "day-of-week: #0 in '1#0' is out of range (#1 to #5)"),
        ("* * * * 1#", "day-of-week: missing n after '#' in '1#'"),
        ("* * * * L", "day-of-week: 'L' alone is ambiguous in day-of-week; write e.g. 5L or FRIL"),
        ("* * L-31 * *", "day-of-month: 'L-31' is out of range (L-0 to L-30)"),
        ("* * 32W * *", "day-of-month: 32 is out of range 1-31 in '32W'"),
        ("* * W * *", "day-of-month: 'W' needs a day, e.g. 15W (or LW)"),
        ("* * L/2 * *", "day-of-month: invalid value 'L' (expected a number 1-31)"),
        ("* ? * * *", "hour: '?' is only allowed in day-of-month and day-of-week"),
        ("* * ?,1 * *", "day-of-month: '?' must be the whole field"),
        ("* * * * 5#2/2", "day-of-week: cannot parse '5#2/2'"),
        (
            "@reboot",
            "expression: @reboot is not supported (Tickwork fires on a clock, not at boot)",
        ),
        ("@fortnightly", "expression: unknown macro '@fortnightly'"),
        ("@daily *", "expression: a macro must stand alone, got '@daily *'"),
    ],
)
def test_errors_name_the_field_and_reason(expr: str, message: str | None) -> None:
    if message is None:
        cron(expr)
        return
    with pytest.raises(TriggerError) as info:
        cron(expr)
    assert str(info.value) == message
    assert info.value.field == message.split(":", 1)[0]


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("0 0 30 2 *", "expression: never fires (day-of-month 30 does not occur in February)"),
        (
            "0 0 31 4,6 *",
            "expression: never fires (day-of-month 31 does not occur in April or June)",
        ),
        (
            "0 0 30,31 2 *",
            "expression: never fires (day-of-month 30 and 31 do not occur in February)",
        ),
        (
            "0 0 0 ? 2 6#5 2027",
            "expression: never fires (no date matches month '2', day-of-week '6#5', year '2027')",
        ),
        (
            "0 0 0 29 2 ? 2025-2027",
            "expression: never fires (no date matches day-of-month '29', month '2', "
            "year '2025-2027')",
        ),
        ("0 0 30W 2 *", "expression: never fires (no date matches day-of-month '30W', month '2')"),
        (
            "0 0 L-29 2 *",
            "expression: never fires (no date matches day-of-month 'L-29', month '2')",
        ),
    ],
)
def test_never_fires_is_an_error(expr: str, message: str) -> None:
    with pytest.raises(TriggerError) as info:
        cron(expr)
    assert str(info.value) == message


@pytest.mark.parametrize(
    "expr",
    [
        "0 0 29 2 *",  # every leap year
        "0 0 31 * *",
        "0 0 30 2 1",  # OR rule: Mondays in February
        "0 0 ? 2 1#5",  # some Februaries have a 5th Monday
        "0 0 0 29 2 ? 2028",
        "0 0 0 ? 2 MON#5 2044",  # Feb 2044 (leap, starts on a Monday) has five
        "0 0 L-27 2 *",  # the 1st or 2nd of February
        "0 0 */2 * MON",
    ],
)
def test_rare_but_possible_expressions_are_accepted(expr: str) -> None:
    assert cron(expr).next_fire_us(0) is not None


def test_whitespace_and_case_are_normalised_in_the_spec() -> None:
    assert cron("  0   9 * *  mon-fri ").to_spec()["expr"] == "0 9 * * mon-fri"
    assert cron("0 9 * * MON") == cron("0  9 * * MON")
