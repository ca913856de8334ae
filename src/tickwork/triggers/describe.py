"""Human descriptions of triggers in English and Simplified Chinese.

Descriptions are built from the parsed value sets (after ``H`` is resolved), never from the
expression text, so they say what the trigger does. Common shapes get natural phrases ("Every 5
minutes", "At 09:00, Monday through Friday"); everything else gets a plain field-by-field
description that is long but correct. "Every n minutes" is only said when n divides the hour.
"""

from __future__ import annotations

from itertools import pairwise
from typing import TYPE_CHECKING

from tickwork.triggers.base import Lang
from tickwork.triggers.schedule import CronFields, DayItem
from tickwork.triggers.zones import format_local, tz_name

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import tzinfo

    from tickwork.triggers.common import TriggerBase
    from tickwork.triggers.cron import CronTrigger
    from tickwork.triggers.date import DateTrigger
    from tickwork.triggers.interval import IntervalTrigger

_WEEKDAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_WEEKDAYS_ZH = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
_MONTHS_EN = (
    "",
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_ORDINALS_EN = ("", "first", "second", "third", "fourth", "fifth")
_ORDINALS_ZH = ("", "第一个", "第二个", "第三个", "第四个", "第五个")
_MAX_TIMES = 6  # list explicit times up to this many per day


# -- small helpers ------------------------------------------------------------------------------


def _join(items: list[str], lang: Lang) -> str:
    if len(items) == 1:
        return items[0]
    if lang == "zh":
        return _cjk("、".join(items[:-1]), "和", items[-1])
    return ", ".join(items[:-1]) + " and " + items[-1]


def _ordinal(n: int) -> str:
    if 10 <= n % 100 <= 20:
        return f"{n}th"
    return f"{n}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th') }"


def _cjk(*parts: str) -> str:
    """Concatenates Chinese text, with a space where a digit or Latin letter meets CJK text."""
    out = ""
    for part in parts:
        if not part:
            continue
        if out and (out[-1].isascii() and out[-1].isalnum()) != (
            part[0].isascii() and part[0].isalnum()
        ):
            out += " "
        out += part
    return out


def _runs(values: list[int]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for v in values:
        if out and out[-1][1] == v - 1:
            out[-1] = (out[-1][0], v)
        else:
            out.append((v, v))
    return out


def _progression(values: list[int]) -> tuple[int, int, int] | None:
    """(first, step, last) when the values are an arithmetic progression of 3+ with step > 1."""
    if len(values) < 3:
        return None
    step = values[1] - values[0]
    if step < 2 or any(b - a != step for a, b in pairwise(values)):
        return None
    return values[0], step, values[-1]


def _every(values: list[int], size: int) -> int | None:
    """n when the values are exactly 0, n, 2n, ... and n divides ``size`` (a true period)."""
    if len(values) < 2 or values[0] != 0:
        return None
    step = values[1]
    if size % step or values != list(range(0, size, step)):
        return None
    return step


def _numbers(values: list[int], lang: Lang, fmt: Callable[[int], str] = str) -> str:
    """A compact list: runs of 3+ become "a through b" ("a 至 b")."""
    show = fmt
    parts: list[str] = []
    for a, b in _runs(values):
        if b - a >= 2:
            parts.append(
                _cjk(show(a), "至", show(b)) if lang == "zh" else f"{show(a)} through {show(b)}"
            )
        else:
            parts.extend(show(v) for v in range(a, b + 1))
    if lang == "zh":
        return "、".join(parts)
    return _join(parts, lang)


def _value_list(values: list[int], lang: Lang, unit_en: str, unit_zh: str) -> str:
    """Values of one field: a progression, runs, or a list (with the unit named)."""
    prog = _progression(values)
    if prog is not None and len(_runs(values)) > 2:
        a, step, b = prog
        if lang == "zh":
            return f"第 {a} 至 {b} {unit_zh}中每 {step} {unit_zh}"
        return f"every {_ordinal(step)} {unit_en} from {a} through {b}"
    if lang == "zh":
        return f"第 {_numbers(values, lang)} {unit_zh}"
    plural = unit_en + ("s" if len(values) > 1 else "")
    return f"{plural} {_numbers(values, lang)}"


# -- time of day --------------------------------------------------------------------------------


def _clock(h: int, m: int, s: int | None) -> str:
    return f"{h:02d}:{m:02d}" if s is None else f"{h:02d}:{m:02d}:{s:02d}"


def _time_phrase(f: CronFields, lang: Lang) -> tuple[str, bool]:
    """The time-of-day phrase, and whether it is a plain list of clock times ("At 09:00")."""
    secs, mins, hours = sorted(f.seconds), sorted(f.minutes), sorted(f.hours)
    all_s, all_m, all_h = len(secs) == 60, len(mins) == 60, len(hours) == 24
    zh = lang == "zh"
    if len(secs) * len(mins) * len(hours) <= _MAX_TIMES:
        show_s = secs != [0]
        times = [_clock(h, m, s if show_s else None) for h in hours for m in mins for s in secs]
        return (_join(times, lang) if zh else "At " + _join(times, lang)), True
    if secs == [0]:
        n = _every(mins, 60)
        if all_m and all_h:
            return ("每分钟" if zh else "Every minute"), False
        if n and all_h:
            return (f"每 {n} 分钟" if zh else f"Every {n} minutes"), False
        if len(mins) == 1 and all_h:
            m = mins[0]
            if m == 0:
                return ("每小时整点" if zh else "Every hour, on the hour"), False
            return (f"每小时的第 {m} 分钟" if zh else f"At minute {m} of every hour"), False
        nh = _every(hours, 24)
        if len(mins) == 1 and nh:
            m = mins[0]
            if zh:
                return (f"每 {nh} 小时" + ("" if m == 0 else f"的第 {m} 分钟")), False
            return (f"Every {nh} hours" + ("" if m == 0 else f", at minute {m}")), False
        minute_part = _minute_part(mins, lang)
        return _with_hours(minute_part, hours, lang), False
    # Second-level schedules.
    n = _every(secs, 60)
    if all_s:
        second_part = "每秒" if zh else "Every second"
    elif n:
        second_part = f"每 {n} 秒" if zh else f"Every {n} seconds"
    elif zh:
        second_part = _value_list(secs, lang, "second", "秒")
    else:
        second_part = "At " + _value_list(secs, lang, "second", "秒")
    plain_seconds = not all_s and not n
    if not all_m:
        minute_part = _minute_part(mins, lang, during=True)
        second_part = f"{minute_part}，{second_part}" if zh else f"{second_part}, {minute_part}"
    elif plain_seconds:
        second_part = _cjk("每分钟的", second_part) if zh else second_part + " of every minute"
    return _with_hours(second_part, hours, lang), False


def _minute_part(mins: list[int], lang: Lang, during: bool = False) -> str:
    n = _every(mins, 60)
    zh = lang == "zh"
    if len(mins) == 60:
        return "每分钟" if zh else "every minute"
    if n:
        return f"每 {n} 分钟" if zh else ("during " if during else "") + f"every {n} minutes"
    if zh:
        return _cjk("每小时的", _value_list(mins, lang, "minute", "分钟"))
    return ("during " if during else "At ") + _value_list(mins, lang, "minute", "分钟")


def _with_hours(part: str, hours: list[int], lang: Lang) -> str:
    """Adds the hour restriction to a minute/second phrase."""
    zh = lang == "zh"
    if len(hours) == 24:
        return part
    if not zh:
        part = part[0].upper() + part[1:]
    runs = _runs(hours)
    if len(runs) == 1:
        a, b = runs[0]
        if zh:
            return _cjk(f"{a:02d}:00 至 {b:02d}:59 之间", part)
        return f"{part}, between {a:02d}:00 and {b:02d}:59"
    if zh:
        return _cjk(f"{_numbers(hours, lang)} 点中", part)
    return f"{part}, during hours {_numbers(hours, lang)}"


# -- days ---------------------------------------------------------------------------------------


def _dom_item(item: DayItem, lang: Lang) -> str:
    kind, a, b = item
    zh = lang == "zh"
    if kind == "last":
        if a == 0:
            return "最后一天" if zh else "the last day"
        return f"倒数第 {a + 1} 天" if zh else f"the {_ordinal(a + 1)}-to-last day"
    if kind == "nearest":
        return f"离 {a} 日最近的工作日" if zh else f"the weekday nearest day {a}"
    if kind == "lastweekday":
        return "最后一个工作日" if zh else "the last weekday"
    if kind == "nth":
        return (
            f"{_ORDINALS_ZH[b]}{_WEEKDAYS_ZH[a]}"
            if zh
            else f"the {_ORDINALS_EN[b]} {_WEEKDAYS_EN[a]}"
        )
    if kind == "lastdow":
        return f"最后一个{_WEEKDAYS_ZH[a]}" if zh else f"the last {_WEEKDAYS_EN[a]}"
    raise AssertionError(kind)


def _dom_phrase(dom: list[int], items: tuple[DayItem, ...], lang: Lang) -> str:
    """Days of the month: "day 1 and the last day" (en; "of the month" follows) or zh."""
    zh = lang == "zh"
    parts: list[str] = []
    if dom:
        prog = _progression(dom)
        if prog is not None and len(_runs(dom)) > 2:
            a, step, b = prog
            parts.append(
                f"{a} 日至 {b} 日中每 {step} 天"
                if zh
                else f"every {_ordinal(step)} day from day {a} through {b}"
            )
        elif zh:
            parts.append(_numbers(dom, lang, _day_zh))
        else:
            parts.append(("day " if len(dom) == 1 else "days ") + _numbers(dom, lang))
    parts.extend(_dom_item(item, lang) for item in items)
    return _join(parts, lang)


def _day_zh(v: int) -> str:
    return f"{v} 日"


def _dow_phrase(dow: list[int], items: tuple[DayItem, ...], lang: Lang) -> tuple[str, bool]:
    """Weekdays (0 = Monday) as a phrase that follows "on" (en) or stands alone (zh), and
    whether it is a plain range ("Monday through Friday", said without "only on")."""
    zh = lang == "zh"
    names = _WEEKDAYS_ZH if zh else _WEEKDAYS_EN
    plain = ""
    runs = _runs(dow)
    is_range = len(runs) == 1 and runs[0][1] - runs[0][0] >= 2
    if is_range:
        a, b = runs[0]
        plain = f"{names[a]}至{names[b]}" if zh else f"{names[a]} through {names[b]}"
    elif dow:
        plain = _join([names[v] for v in dow], lang)
    monthly = _join([_dom_item(item, lang) for item in items], lang) if items else ""
    if zh:
        weekly = plain if is_range or not plain else _cjk("每", plain)
        if not monthly:
            return weekly, is_range
        return (_cjk(weekly, "和", "每月", monthly) if plain else _cjk("每月", monthly)), False
    if not monthly:
        return plain, is_range
    if plain:
        return f"every {plain} and on {monthly} of the month", False
    return f"{monthly} of the month", False


def _months_phrase(months: list[int], lang: Lang) -> str:
    if lang == "zh":
        return _numbers(months, lang, _month_zh)
    runs = _runs(months)
    parts: list[str] = []
    for a, b in runs:
        if b - a >= 2:
            parts.append(f"{_MONTHS_EN[a]} through {_MONTHS_EN[b]}")
        else:
            parts.extend(_MONTHS_EN[v] for v in range(a, b + 1))
    return _join(parts, lang)


def _month_zh(v: int) -> str:
    return f"{v} 月"


def _day_part(f: CronFields, clock_times: bool, lang: Lang) -> tuple[str, str]:
    """(en suffix / zh prefix) for the day fields, months, years and weeks."""
    zh = lang == "zh"
    dom = sorted(f.dom)
    dow = sorted(f.dow)
    has_dom = not (f.dom_full and not f.dom_items)
    has_dow = not (f.dow_full and not f.dow_items)
    months = sorted(f.months)
    has_months = len(months) < 12
    pieces: list[str] = []  # en: joined after the time; zh: joined before it

    # A single date every year (e.g. @yearly): "on January 1" / "每年 1 月 1 日".
    if (
        has_dom
        and not has_dow
        and len(dom) == 1
        and not f.dom_items
        and len(months) == 1
        and f.weeks is None
    ):
        years = _numbers(sorted(f.years), lang) if f.years is not None else ""
        if zh:
            return "", f"{years + ' 年' if years else '每年'} {months[0]} 月 {dom[0]} 日"
        on_date = f" on {_MONTHS_EN[months[0]]} {dom[0]}"
        return on_date + (f", in {years}" if years else ""), ""

    dom_text = _dom_phrase(dom, f.dom_items, lang) if has_dom else ""
    dow_text, dow_range = _dow_phrase(dow, f.dow_items, lang) if has_dow else ("", False)
    if has_dom and has_dow:
        if f.day_or:
            if zh:
                pieces.append(_cjk("每月", dom_text, "或", dow_text))
            else:
                pieces.append(f" on {dom_text} of the month or on {dow_text}")
        elif zh:
            must = dow_text if f.dow_items else dow_text.removeprefix("每")  # "且须为周一"
            pieces.append(_cjk("每月", dom_text, "（且须为", must, "）"))
        else:
            pieces.append(f" on {dom_text} of the month, but only on {dow_text}")
    elif has_dom:
        pieces.append(_cjk("每月", dom_text) if zh else f" on {dom_text} of the month")
    elif has_dow:
        if zh:
            pieces.append(dow_text)
        elif f.dow_items:
            pieces.append(f" on {dow_text}")
        elif dow_range:
            pieces.append(f", {dow_text}")
        else:
            pieces.append(f", only on {dow_text}")
    elif zh and clock_times:
        pieces.append("每天")  # "每天 09:00"; "每 5 分钟" needs no "every day"
    if f.weeks is not None:
        weeks = _numbers(sorted(f.weeks), lang)
        pieces.append(
            f"第 {weeks} 周（ISO 周）"
            if zh
            else f", in ISO week{'s' if len(f.weeks) > 1 else ''} {weeks}"
        )
    if has_months:
        months_text = _months_phrase(months, lang)
        pieces.append(months_text if zh else f", only in {months_text}")
    if f.years is not None:
        years = _numbers(sorted(f.years), lang)
        pieces.append(f"{years} 年" if zh else f", in {years}")
    if zh:
        # Broadest first: year, month, week, then the day.
        return "", "，".join(pieces[::-1])
    return "".join(pieces), ""


# -- suffixes shared by every kind --------------------------------------------------------------


def _zone_label(tz: tzinfo) -> str:
    try:
        return tz_name(tz)
    except Exception:  # an unnamed tzinfo: its own name is the best we have
        return str(tz)


def _extras(t: TriggerBase, lang: Lang, uses_h: bool, show_zone: bool) -> str:
    zh = lang == "zh"
    out = ""
    zone = _zone_label(t.tz)
    if show_zone and zone != "UTC":
        out += f"（{zone}）" if zh else f" ({zone})"
    # Whole seconds: a start Tickwork filled in from "now" has microseconds nobody reads.
    if t.start_us is not None:
        start = format_local(t.start_us - t.start_us % 1_000_000, t.tz)
        out += f"，自 {start} 起" if zh else f", from {start}"
    if t.end_us is not None:
        end = format_local(t.end_us - t.end_us % 1_000_000, t.tz)
        out += f"，至 {end} 止" if zh else f", until {end}"
    if t.jitter:
        j = _seconds(t.jitter)
        out += (
            f"，另加最多 {j} 秒的确定性延迟"
            if zh
            else f", plus up to {j} s of deterministic jitter"
        )
    if uses_h:
        seed = t.seed or ""
        out += f"；H 取值由种子 {seed!r} 决定" if zh else f"; H values spread by seed {seed!r}"
    return out


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


# -- entry points -------------------------------------------------------------------------------


def describe_cron(t: CronTrigger, lang: Lang) -> str:
    f = t.fields
    uses_h = t.uses_h
    time_text, clock_times = _time_phrase(f, lang)
    en_days, zh_days = _day_part(f, clock_times, lang)
    if lang == "zh":
        text = f"{zh_days} {time_text}" if zh_days else time_text
    else:
        text = time_text + en_days
    return text + _extras(t, lang, uses_h, True)


_UNITS = (
    (604_800_000_000, "week", "周"),
    (86_400_000_000, "day", "天"),
    (3_600_000_000, "hour", "小时"),
    (60_000_000, "minute", "分钟"),
    (1_000_000, "second", "秒"),
)


def describe_interval(t: IntervalTrigger, lang: Lang) -> str:
    period = t.period_us
    zh = lang == "zh"
    text = ""
    for unit, en, zh_unit in _UNITS:
        if period % unit == 0:
            n = period // unit
            if zh:
                text = f"每{zh_unit}" if n == 1 else f"每 {n} {zh_unit}"
            else:
                text = f"Every {en}" if n == 1 else f"Every {n} {en}s"
            break
    else:
        secs = _seconds(period / 1_000_000)
        text = f"每 {secs} 秒" if zh else f"Every {secs} seconds"
    # Without start_date the grid is anchored at the Unix epoch; say so when it matters.
    if t.start_us is None and 86_400_000_000 % period and period % 86_400_000_000:
        text += "（从 Unix 纪元起算）" if zh else " (counted from the Unix epoch)"
    return text + _extras(t, lang, False, True)


def describe_date(t: DateTrigger, lang: Lang) -> str:
    when = format_local(t.run_us, t.tz)
    zone = _zone_label(t.tz)
    text = f"在 {when}（{zone}）执行一次" if lang == "zh" else f"Once at {when} ({zone})"
    return text + _extras(t, lang, False, False)
