"""APScheduler 3 keyword forms: ``from_keywords("cron", hour=2, day_of_week="sun")`` and friends.

The cron keywords keep APScheduler 3.11's meanings so code ports unchanged (see
``apscheduler/triggers/cron``): day_of_week 0 = Monday; every field is AND-ed (no Vixie OR);
fields more significant than the least significant given one default to ``*``, less significant
ones to their minimum; ``xth y`` and ``last`` live in ``day``; ``week`` is the ISO week.

Where APScheduler is sloppy we are strict instead of silently different: it ignores anything
after a month or weekday name (``"mon-fri/2"`` fires Monday to Friday, ``"jan5"`` in January);
here those are errors. The DST rule is Tickwork's one rule, not APScheduler's double firing.
"""

from __future__ import annotations

import re
from datetime import datetime, tzinfo
from functools import lru_cache
from typing import Any

from tickwork.errors import TriggerError
from tickwork.triggers.common import coerce_bounds, coerce_jitter, coerce_seed
from tickwork.triggers.cron import CronTrigger
from tickwork.triggers.hashing import stable_hash
from tickwork.triggers.schedule import ALL_DOM, ALL_DOW, CronFields, DayItem
from tickwork.triggers.zones import resolve_tz

FIELD_ORDER = ("year", "month", "day", "week", "day_of_week", "hour", "minute", "second")
_MIN = {"year": 1970, "month": 1, "day": 1, "week": 1, "day_of_week": 0}
_MAX = {"year": 9999, "month": 12, "day": 31, "week": 53, "day_of_week": 6, "hour": 23}
_DEFAULTS = {"year": "*", "month": "1", "day": "1", "week": "*", "day_of_week": "*"}
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_POSITIONS = ("1st", "2nd", "3rd", "4th", "5th", "last")

_SEPARATOR = re.compile(r" *, *")
_STAR = re.compile(r"\*(?:/(?P<step>\d+))?")
_RANGE = re.compile(r"(?P<first>\d+)(?:-(?P<last>\d+))?(?:/(?P<step>\d+))?")
_NAMES = re.compile(r"(?P<first>[a-z]+)(?:-(?P<last>[a-z]+))?(?P<rest>.*)", re.IGNORECASE)
_POSITION = re.compile(r"(?P<pos>[a-z0-9]+) +(?P<day>\w+)", re.IGNORECASE)
_HASH = re.compile(r"H(?:\((?P<a>\d+)-(?P<b>\d+)\))?(?:/(?P<step>\d+))?", re.IGNORECASE)

CRON_KEYS = frozenset(FIELD_ORDER) | {"start_date", "end_date", "timezone", "jitter", "seed"}
INTERVAL_KEYS = frozenset(
    {"weeks", "days", "hours", "minutes", "seconds", "start_date", "end_date", "timezone"}
) | {"jitter", "seed"}
DATE_KEYS = frozenset({"run_date", "timezone", "jitter", "seed"})


def _lo(name: str) -> int:
    return _MIN.get(name, 0)


def _hi(name: str) -> int:
    return _MAX.get(name, 59)


class _KeywordField:
    def __init__(self, name: str, text: str, seed: str) -> None:
        self.name = name
        self.text = text
        self.seed = seed
        self.values: set[int] = set()
        self.items: list[DayItem] = []
        self.uses_h = False

    def fail(self, reason: str, code: str, **params: object) -> TriggerError:
        return TriggerError(self.name, reason, code=code, params=params)

    def parse(self) -> None:
        for index, item in enumerate(_SEPARATOR.split(self.text.strip())):
            if item == "":
                raise self.fail("empty list item", "empty_list_item")
            self.parse_item(index, item)

    def check_step(self, step: int, span: int, item: str) -> None:
        if step == 0:
            raise self.fail(
                f"step 0 in {item!r} is not allowed (a step is 1 or more)", "step_zero", item=item
            )
        if step > span:  # APScheduler refuses a step wider than the expression's range
            raise self.fail(
                f"step {step} in {item!r} is larger than its range ({span})",
                "step_over_span",
                step=step,
                item=item,
                span=span,
            )

    def parse_item(self, index: int, item: str) -> None:
        name, lo, hi = self.name, _lo(self.name), _hi(self.name)
        m = _STAR.fullmatch(item)
        if m:
            every = int(m["step"]) if m["step"] is not None else 1
            if m["step"] is not None:
                self.check_step(every, hi - lo, item)
            self.values.update(range(lo, hi + 1, every))
            return
        m = _RANGE.fullmatch(item)
        if m:
            first = int(m["first"])
            last: int | None = int(m["last"]) if m["last"] is not None else None
            step: int | None = int(m["step"]) if m["step"] is not None else None
            if last is None and step is None:
                last = first
            if last is not None and first > last:
                raise self.fail(
                    f"reversed range {m['first']}-{m['last']}",
                    "reversed_range",
                    range=f"{m['first']}-{m['last']}",
                )
            if first < lo:
                raise self.fail(
                    f"{first} is out of range {lo}-{hi}",
                    "out_of_range",
                    value=first,
                    min=lo,
                    max=hi,
                )
            if last is not None and last > hi:
                raise self.fail(
                    f"{last} is out of range {lo}-{hi}", "out_of_range", value=last, min=lo, max=hi
                )
            if step is not None:
                # APScheduler measures "a-0/n" against the field maximum (``last or max``).
                self.check_step(step, (last or hi) - first, item)
            self.values.update(range(first, (hi if last is None else last) + 1, step or 1))
            return
        m = _HASH.fullmatch(item)
        if m and name not in ("year", "week"):
            self.parse_hash(index, item, m)
            return
        if name == "day" and self.parse_day_special(item):
            return
        if name in ("month", "day_of_week"):
            m = _NAMES.fullmatch(item)
            if m:
                table = _MONTHS if name == "month" else _WEEKDAYS
                base = 1 if name == "month" else 0
                if m["rest"]:
                    raise self.fail(
                        f"cannot parse {item!r} (names take no step or suffix; APScheduler "
                        "would silently ignore it)",
                        "name_with_suffix",
                        text=item,
                    )
                first = self.name_value(m["first"], table) + base
                last = self.name_value(m["last"], table) + base if m["last"] else first
                if first > last:
                    raise self.fail(
                        f"reversed range {m['first']}-{m['last']}",
                        "reversed_range",
                        range=f"{m['first']}-{m['last']}",
                    )
                self.values.update(range(first, last + 1))
                return
        raise self.fail(f"cannot parse {item!r}", "cannot_parse", text=item)

    def name_value(self, token: str, table: tuple[str, ...]) -> int:
        try:
            return table.index(token.lower())
        except ValueError:
            raise self.fail(f"unknown name {token!r}", "unknown_name", name=token) from None

    def parse_hash(self, index: int, item: str, m: re.Match[str]) -> None:
        self.uses_h = True
        lo, hi = _lo(self.name), _hi(self.name)
        if m["a"] is not None:
            a, b = int(m["a"]), int(m["b"])
            if a > b:
                raise self.fail(
                    f"reversed range {m['a']}-{m['b']}",
                    "reversed_range",
                    range=f"{m['a']}-{m['b']}",
                )
            for v in (a, b):
                if not lo <= v <= hi:
                    raise self.fail(
                        f"{v} is out of range {lo}-{hi}", "out_of_range", value=v, min=lo, max=hi
                    )
        elif m["step"] is None and self.name == "day":
            a, b = 1, 28  # plain H in day: a day every month has (as Jenkins does)
        else:
            a, b = lo, hi
        h = stable_hash("H", self.seed, self.name, index, item.upper())
        if m["step"] is not None:
            step = int(m["step"])
            self.check_step(step, hi - lo + 1, item)
            self.values.update(range(a + h % min(step, b - a + 1), b + 1, step))
        else:
            self.values.add(a + h % (b - a + 1))

    def parse_day_special(self, item: str) -> bool:
        if item.lower() == "last":
            self.items.append(("last", 0, 0))
            return True
        m = _POSITION.fullmatch(item)
        if not m:
            return False
        pos = m["pos"].lower()
        if pos not in _POSITIONS:
            raise self.fail(
                f"unknown position {m['pos']!r} (use 1st-5th or last)",
                "unknown_position",
                name=m["pos"],
            )
        weekday = self.name_value(m["day"], _WEEKDAYS)
        if pos == "last":
            self.items.append(("lastdow", weekday, 0))
        else:
            self.items.append(("nth", weekday, _POSITIONS.index(pos) + 1))
        return True


def apscheduler_field_text(name: str, text: str) -> str:
    """A field's text as APScheduler 3's ``str()`` shows it: items normalised, names lower-case.

    ``"*/05"`` is ``*/5``, ``"5-5"`` is ``5``, ``" 1 , 2 "`` is ``1,2``, ``"JUN"`` is ``jun``,
    ``"1ST MON"`` is ``1st mon``. ``H`` items (Tickwork's own) are shown as written.
    """
    out: list[str] = []
    for item in _SEPARATOR.split(text.strip()):
        m = _STAR.fullmatch(item)
        if m:
            out.append("*" if m["step"] is None else f"*/{int(m['step'])}")
            continue
        m = _RANGE.fullmatch(item)
        if m:
            first, last = int(m["first"]), m["last"]
            shown = (
                f"{first}-{int(last)}" if last is not None and int(last) != first else str(first)
            )
            out.append(shown if m["step"] is None else f"{shown}/{int(m['step'])}")
            continue
        m = _NAMES.fullmatch(item) if name in ("month", "day_of_week") else None
        if m and not m["rest"]:
            first_name, last_name = m["first"].lower(), (m["last"] or m["first"]).lower()
            out.append(first_name if last_name == first_name else f"{first_name}-{last_name}")
            continue
        if name == "day" and item.lower() == "last":
            out.append("last")
            continue
        m = _POSITION.fullmatch(item) if name == "day" else None
        out.append(f"{m['pos'].lower()} {m['day'].lower()}" if m else item)
    return ",".join(out)


def _field_text(name: str, value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TriggerError(
            name,
            f"expected an int or a string, got {value!r}",
            code="expected_int_or_string",
            params={"value": repr(value)},
        )
    if isinstance(value, int) and value < 0:
        raise TriggerError(
            name,
            f"{value} is out of range {_lo(name)}-{_hi(name)}",
            code="out_of_range",
            params={"value": value, "min": _lo(name), "max": _hi(name)},
        )
    return str(value)


def keyword_texts(given: dict[str, str]) -> dict[str, str]:
    """Every field's text after APScheduler's defaulting (see the module docstring)."""
    out: dict[str, str] = {}
    remaining = set(given)
    defaults = False
    for name in FIELD_ORDER:
        if name in given:
            out[name] = given[name]
            remaining.discard(name)
            defaults = not remaining
        elif defaults:
            out[name] = _DEFAULTS.get(name, "0")
        else:
            out[name] = "*"
    return out


@lru_cache(maxsize=4096)
def _fields_cached(given: tuple[tuple[str, str], ...], seed: str) -> tuple[CronFields, bool]:
    texts = keyword_texts(dict(given))
    parsed = {}
    for name in FIELD_ORDER:
        field = _KeywordField(name, texts[name], seed)
        field.parse()
        parsed[name] = field
    day, dow = parsed["day"], parsed["day_of_week"]
    fields = CronFields(
        seconds=frozenset(parsed["second"].values),
        minutes=frozenset(parsed["minute"].values),
        hours=frozenset(parsed["hour"].values),
        dom=frozenset(day.values) if texts["day"] != "*" else ALL_DOM,
        dom_items=tuple(day.items),
        months=frozenset(parsed["month"].values),
        dow=frozenset(dow.values) if texts["day_of_week"] != "*" else ALL_DOW,
        dow_items=tuple(dow.items),
        years=None if texts["year"] == "*" else frozenset(parsed["year"].values),
        weeks=None if texts["week"] == "*" else frozenset(parsed["week"].values),
        day_or=False,
        # Vixie's rule on the texts after defaulting: an unset minute or hour above the
        # least significant given field is "*", so minute=5 alone is a wildcard job.
        wildcard=texts["minute"].strip().startswith("*") or texts["hour"].strip().startswith("*"),
    )
    return fields, any(f.uses_h for f in parsed.values())


def keyword_fields(given: dict[str, str], seed: str | None) -> tuple[CronFields, bool]:
    """CronFields of given keyword texts, and whether H was used."""
    key = tuple(sorted(given.items()))
    uses_h = any("h" in v.lower() for v in given.values())
    return _fields_cached(key, (seed or "") if uses_h else "")


def _zone_from(kw: dict[str, Any]) -> tzinfo:
    tz = kw.get("timezone")
    if tz is not None:
        return resolve_tz(tz)
    # Like APScheduler: without a timezone, an aware start_date or end_date gives the zone
    # (APScheduler would then fall back to the local zone; a pure trigger uses UTC).
    for key in ("start_date", "end_date"):
        value = kw.get(key)
        if isinstance(value, datetime) and value.tzinfo is not None:
            return value.tzinfo
    return resolve_tz(None)


def _check_keys(kind: str, kw: dict[str, Any], allowed: frozenset[str]) -> None:
    for key in kw:
        if key not in allowed:
            raise TriggerError(
                key,
                f"unknown keyword for a {kind} trigger",
                code="unknown_trigger_keyword",
                params={"kind": kind},
            )


def cron_from_keywords(kw: dict[str, Any]) -> CronTrigger:
    _check_keys("cron", kw, CRON_KEYS)
    zone = _zone_from(kw)
    seed = coerce_seed(kw.get("seed"))
    given = {
        name: _field_text(name, kw[name])
        for name in FIELD_ORDER
        if name in kw and kw[name] is not None
    }
    fields, uses_h = keyword_fields(given, seed)
    start_us, end_us = coerce_bounds(kw.get("start_date"), kw.get("end_date"), zone)
    never = next((k for k in ("day", "day_of_week", "week", "month", "year") if k in given), "day")
    try:
        return CronTrigger(
            fields,
            tz=zone,
            keywords=tuple(sorted(given.items())),
            uses_h=uses_h,
            seed=seed,
            jitter=coerce_jitter(kw.get("jitter")),
            start_us=start_us,
            end_us=end_us,
            never_field=never,
        )
    except TriggerError as exc:
        if exc.reason.startswith("never fires"):
            keys = ("year", "month", "day", "week", "day_of_week")
            named = [(k, given[k]) for k in keys if k in given]
            shown = ", ".join(f"{k}={v!r}" for k, v in named)
            raise TriggerError(
                never,
                f"never fires (no date matches {shown})",
                code="never_fires_fields",
                params={"fields": [{"field": k, "text": v} for k, v in named]},
            ) from None
        raise
