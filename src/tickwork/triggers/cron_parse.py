"""Parsing cron strings (5, 6 or 7 fields, macros, Quartz/Jenkins extensions) into CronFields.

See docs/cron.md for the dialect. Every error is a ``TriggerError`` naming the field:
``second``, ``minute``, ``hour``, ``day-of-month``, ``month``, ``day-of-week``, ``year`` or
``expression`` (for the expression as a whole).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from tickwork.errors import TriggerError
from tickwork.triggers.hashing import stable_hash
from tickwork.triggers.schedule import (
    ALL_DOM,
    ALL_DOW,
    CronFields,
    DayItem,
)

MONTH_NAMES = {
    name: i + 1
    for i, name in enumerate(
        ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
    )
}
DOW_NAMES = {name: i for i, name in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"))}

MACROS = {
    "@YEARLY": "0 0 1 1 *",
    "@ANNUALLY": "0 0 1 1 *",
    "@MONTHLY": "0 0 1 * *",
    "@WEEKLY": "0 0 * * 0",
    "@DAILY": "0 0 * * *",
    "@MIDNIGHT": "0 0 * * *",
    "@HOURLY": "0 * * * *",
}


@dataclass(frozen=True, slots=True)
class FieldDef:
    name: str
    lo: int
    hi: int
    names: dict[str, int] | None = None
    # Where plain ``H`` draws from: day-of-month uses 1-28 so it fires in every month (Jenkins).
    h_lo: int | None = None
    h_hi: int | None = None

    @property
    def size(self) -> int:
        """How many distinct values the field has (the largest sensible step)."""
        return 7 if self.name == "day-of-week" else self.hi - self.lo + 1


SECOND = FieldDef("second", 0, 59)
MINUTE = FieldDef("minute", 0, 59)
HOUR = FieldDef("hour", 0, 23)
DOM = FieldDef("day-of-month", 1, 31, h_lo=1, h_hi=28)
MONTH = FieldDef("month", 1, 12, MONTH_NAMES)
DOW = FieldDef("day-of-week", 0, 7, DOW_NAMES, h_lo=0, h_hi=6)
YEAR = FieldDef("year", 1970, 2099)

_STAR = re.compile(r"\*(?:/(?P<step>[0-9]*))?")
_HASH = re.compile(r"H(?:\((?P<a>[0-9]+)-(?P<b>[0-9]+)\))?(?:/(?P<step>[0-9]*))?")
_PLAIN = re.compile(r"(?P<a>[0-9]+|[A-Z]+)(?:-(?P<b>[0-9]+|[A-Z]+))?(?:/(?P<step>[0-9]*))?")
_LAST_MINUS = re.compile(r"L-(?P<n>[0-9]+)")
_NEAREST = re.compile(r"(?P<n>[0-9]+)W")
_NTH = re.compile(r"(?P<d>[0-9]+|[A-Z]+)#(?P<n>[0-9]*)")
_LAST_DOW = re.compile(r"(?P<d>[0-9]+|[A-Z]+)L")


@dataclass(frozen=True, slots=True)
class HashRecipe:
    """One ``H`` item, parsed once per expression and resolved per seed (the job id)."""

    field: str
    index: int  # position in the field's list: two H items in one field differ
    item: str
    lo: int
    hi: int
    step: int  # 0: a single value

    def resolve(self, seed: str) -> range:
        h = stable_hash("H", seed, self.field, self.index, self.item)
        if self.step:
            return range(
                self.lo + h % min(self.step, self.hi - self.lo + 1), self.hi + 1, self.step
            )
        value = self.lo + h % (self.hi - self.lo + 1)
        return range(value, value + 1)


@dataclass(frozen=True, slots=True)
class ParsedCron:
    fields: CronFields
    texts: tuple[str, ...]  # the 5, 6 or 7 field texts after macro expansion
    macro: str | None  # "@daily" etc. when the expression was a macro
    uses_h: bool


class _FieldParser:
    """Parses one field's text into plain values and day items."""

    def __init__(self, fd: FieldDef, text: str) -> None:
        self.fd = fd
        self.text = text
        self.values: set[int] = set()
        self.items: list[DayItem] = []
        self.recipes: list[HashRecipe] = []  # H items, resolved per seed by _parse_field

    def fail(self, reason: str, code: str, **params: object) -> TriggerError:
        return TriggerError(self.fd.name, reason, code=code, params=params)

    def value(self, token: str) -> int:
        fd = self.fd
        upper = token.upper()
        if upper.isdigit():
            v = int(upper)
            if not fd.lo <= v <= fd.hi:
                raise self.fail(
                    f"{v} is out of range {fd.lo}-{fd.hi}",
                    "out_of_range",
                    value=v,
                    min=fd.lo,
                    max=fd.hi,
                )
            return v
        if fd.names is not None:
            if upper in fd.names:
                return fd.names[upper]
            raise self.fail(f"unknown name {token!r}", "unknown_name", name=token)
        raise self.fail(
            f"invalid value {token!r} (expected a number {fd.lo}-{fd.hi})",
            "not_a_number_in_range",
            value=token,
            min=fd.lo,
            max=fd.hi,
        )

    def step(self, raw: str | None, item: str) -> int:
        if raw is None:
            return 1
        if raw == "":
            raise self.fail(f"missing step after '/' in {item!r}", "missing_step", item=item)
        n = int(raw)
        if n == 0:
            raise self.fail(
                f"step 0 in {item!r} is not allowed (a step is 1 or more)", "step_zero", item=item
            )
        if n > self.fd.size:
            raise self.fail(
                f"step {n} in {item!r} is larger than the field's range {self.fd.lo}-{self.fd.hi}",
                "step_too_large",
                step=n,
                item=item,
                min=self.fd.lo,
                max=self.fd.hi,
            )
        return n

    def weekday(self, token: str) -> int:
        """A day-of-week token (0-7 or a name) as a Python weekday (0 = Monday)."""
        return (self.value(token) + 6) % 7

    def parse(self) -> None:
        if self.text == "":
            raise self.fail("empty field", "empty_field")
        for index, item in enumerate(self.text.split(",")):
            if item == "":
                raise self.fail("empty list item", "empty_list_item")
            self.parse_item(index, item)

    def parse_item(self, index: int, item: str) -> None:
        fd = self.fd
        upper = item.upper()
        is_day = fd.name in ("day-of-month", "day-of-week")
        if upper == "?":
            if not is_day:
                raise self.fail(
                    "'?' is only allowed in day-of-month and day-of-week", "question_mark_field"
                )
            if self.text != "?":
                raise self.fail("'?' must be the whole field", "question_mark_alone")
            self.values.update(range(fd.lo, fd.hi + 1))
            return
        m = _STAR.fullmatch(upper)
        if m:
            self.add_range(fd.lo, fd.hi, self.step(m["step"], item))
            return
        m = _HASH.fullmatch(upper)
        if m:
            self.parse_hash(index, item, m)
            return
        if fd.name == "day-of-month" and self.parse_dom_special(upper, item):
            return
        if fd.name == "day-of-week" and self.parse_dow_special(upper, item):
            return
        m = _PLAIN.fullmatch(upper)
        if not m:
            raise self.fail(f"cannot parse {item!r}", "cannot_parse", text=item)
        a_tok = item[m.start("a") : m.end("a")]
        a = self.value(a_tok)
        step = self.step(m["step"], item)
        if m["b"] is not None:
            b_tok = item[m.start("b") : m.end("b")]
            b = self.value(b_tok)
            if fd.name == "day-of-week" and b == 0 and a > 0 and not b_tok.isdigit():
                b = 7  # "FRI-SUN": a range ending on the SUN name runs to the 7 of Sunday
            if a > b:
                raise self.fail(
                    f"reversed range {a_tok}-{b_tok}", "reversed_range", range=f"{a_tok}-{b_tok}"
                )
            self.add_range(a, b, step)
        elif m["step"] is not None:
            self.add_range(a, fd.hi, step)  # "a/n" means a through the maximum, step n
        else:
            self.values.add(a)

    def add_range(self, a: int, b: int, step: int) -> None:
        self.values.update(range(a, b + 1, step))

    def parse_hash(self, index: int, item: str, m: re.Match[str]) -> None:
        fd = self.fd
        if fd.name == "year":
            raise self.fail("H is not supported in the year field", "h_in_year")
        if m["a"] is not None:
            a, b = self.value(m["a"]), self.value(m["b"])
            if a > b:
                raise self.fail(
                    f"reversed range {m['a']}-{m['b']}",
                    "reversed_range",
                    range=f"{m['a']}-{m['b']}",
                )
        elif m["step"] is not None:
            a, b = fd.lo, fd.hi
        else:
            a = fd.lo if fd.h_lo is None else fd.h_lo
            b = fd.hi if fd.h_hi is None else fd.h_hi
        if fd.name == "day-of-week" and m["a"] is None:
            b = 6  # spread over the 7 days, not over 0-7 (where Sunday would count twice)
        step = self.step(m["step"], item) if m["step"] is not None else 0
        self.recipes.append(HashRecipe(fd.name, index, item.upper(), a, b, step))

    def parse_dom_special(self, upper: str, item: str) -> bool:
        if upper == "L":
            self.items.append(("last", 0, 0))
            return True
        if upper == "LW":
            self.items.append(("lastweekday", 0, 0))
            return True
        m = _LAST_MINUS.fullmatch(upper)
        if m:
            n = int(m["n"])
            if not 0 <= n <= 30:
                raise self.fail(
                    f"'L-{n}' is out of range (L-0 to L-30)", "last_offset_range", value=n
                )
            self.items.append(("last", n, 0))
            return True
        m = _NEAREST.fullmatch(upper)
        if m:
            n = int(m["n"])
            if not 1 <= n <= 31:
                raise self.fail(
                    f"{n} is out of range 1-31 in {item!r}",
                    "out_of_range_in",
                    value=n,
                    min=1,
                    max=31,
                    item=item,
                )
            self.items.append(("nearest", n, 0))
            return True
        if upper == "W":
            raise self.fail("'W' needs a day, e.g. 15W (or LW)", "w_needs_day")
        return False

    def parse_dow_special(self, upper: str, item: str) -> bool:
        if upper == "L":
            raise self.fail(
                "'L' alone is ambiguous in day-of-week; write e.g. 5L or FRIL", "l_alone_in_dow"
            )
        m = _NTH.fullmatch(upper)
        if m:
            wd = self.weekday(item[m.start("d") : m.end("d")])
            if m["n"] == "":
                raise self.fail(f"missing n after '#' in {item!r}", "missing_nth", item=item)
            n = int(m["n"])
            if not 1 <= n <= 5:
                raise self.fail(
                    f"#{n} in {item!r} is out of range (#1 to #5)", "nth_range", value=n, item=item
                )
            self.items.append(("nth", wd, n))
            return True
        m = _LAST_DOW.fullmatch(upper)
        # Only a number or a real day name before the L; anything else is reported as garbage.
        if m and (m["d"].isdigit() or m["d"] in DOW_NAMES):
            self.items.append(("lastdow", self.weekday(item[m.start("d") : m.end("d")]), 0))
            return True
        return False


_BY_NAME = {fd.name: fd for fd in (SECOND, MINUTE, HOUR, DOM, MONTH, DOW, YEAR)}
_NO_ITEMS: tuple[DayItem, ...] = ()
ParsedField = tuple[frozenset[int], tuple[DayItem, ...], bool]  # values, day items, uses H


def _parse_field(fd: FieldDef, text: str, seed: str) -> ParsedField:
    # Fields are parsed once per text; a job's seed only resolves its H items (two hashes for
    # "H H * * *"), so a million jobs spread with H stay cheap to build.
    values, items, recipes = _field_template(fd.name, text)
    if not recipes:
        return values, items, False
    spread = set(values)
    for recipe in recipes:
        spread.update(recipe.resolve(seed))
    return frozenset(spread), items, True


@lru_cache(maxsize=16384)
def _field_template(
    name: str, text: str
) -> tuple[frozenset[int], tuple[DayItem, ...], tuple[HashRecipe, ...]]:
    parser = _FieldParser(_BY_NAME[name], text)
    parser.parse()
    return frozenset(parser.values), tuple(parser.items) or _NO_ITEMS, tuple(parser.recipes)


def parse_cron(expr: str, seed: str | None) -> ParsedCron:
    """Parse a cron string; the seed (job id) is only used by ``H``."""
    if not isinstance(expr, str):
        raise TriggerError(
            "expression",
            f"expected a string, got {type(expr).__name__}",
            code="expected_string",
            params={"type": type(expr).__name__},
        )
    key_seed = seed or ""
    # The seed only matters to H; leaving it out of the cache key lets jobs share parses.
    return _parse_cached(" ".join(expr.split()), key_seed if "H" in expr.upper() else "")


@lru_cache(maxsize=8192)
def _parse_cached(expr: str, seed: str) -> ParsedCron:
    parts = expr.split()
    macro = None
    if parts and parts[0].startswith("@"):
        if len(parts) > 1:
            raise TriggerError(
                "expression",
                f"a macro must stand alone, got {expr!r}",
                code="macro_alone",
                params={"expr": expr},
            )
        name = parts[0].upper()
        if name == "@REBOOT":
            raise TriggerError(
                "expression",
                "@reboot is not supported (Tickwork fires on a clock, not at boot)",
                code="reboot_unsupported",
            )
        if name not in MACROS:
            raise TriggerError(
                "expression",
                f"unknown macro {parts[0]!r}",
                code="unknown_macro",
                params={"name": parts[0]},
            )
        macro = parts[0].lower()
        parts = MACROS[name].split()
    n = len(parts)
    if n not in (5, 6, 7):
        raise TriggerError(
            "expression",
            f"expected 5, 6 or 7 fields, got {n}",
            code="field_count",
            params={"count": n},
        )
    texts = tuple(parts)
    if n == 5:
        sec_text, rest, year_text = "0", parts, None
    else:
        sec_text, rest, year_text = parts[0], parts[1:6], (parts[6] if n == 7 else None)
    minute_text, hour_text, dom_text, month_text, dow_text = rest
    sec = _parse_field(SECOND, sec_text, seed)
    minute = _parse_field(MINUTE, minute_text, seed)
    hour = _parse_field(HOUR, hour_text, seed)
    dom = _parse_field(DOM, dom_text, seed)
    month = _parse_field(MONTH, month_text, seed)
    dow = _parse_field(DOW, dow_text, seed)
    year = _parse_field(YEAR, year_text, seed) if year_text is not None else None

    # Vixie decides "restricted" by the first character: '*' (or our '?') means unrestricted,
    # even "*/2"; only when both day fields are restricted does a day match on EITHER.
    dom_star = dom_text.startswith(("*", "?"))
    dow_star = dow_text.startswith(("*", "?"))
    fields = CronFields(
        seconds=sec[0],
        minutes=minute[0],
        hours=hour[0],
        dom=dom[0] if dom_text != "?" else ALL_DOM,
        dom_items=dom[1],
        months=month[0],
        dow=frozenset((v + 6) % 7 for v in dow[0]) if dow_text != "?" else ALL_DOW,
        dow_items=dow[1],
        years=year[0] if year is not None and year_text != "*" else None,
        weeks=None,
        day_or=not dom_star and not dow_star,
        # Vixie's MIN_STAR | HR_STAR: decided by the text, like the day rule above.
        wildcard=minute_text.startswith("*") or hour_text.startswith("*"),
    )
    uses_h = any(p[2] for p in (sec, minute, hour, dom, month, dow))
    return ParsedCron(fields, texts, macro, uses_h)
