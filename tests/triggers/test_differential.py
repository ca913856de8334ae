"""Differential test: Tickwork against cronsim and croniter, two independent implementations.

Thousands of seeded-random expressions and instants, in UTC, Europe/Berlin, America/New_York and
Asia/Shanghai. Each peer is compared exactly where its semantics are Tickwork's; every place where
they deliberately differ is excluded below, by case, with the reason:

* DST. Tickwork follows Vixie cron: a *wildcard* job (minute or hour begins with ``*``) fires
  at real instants only (both passes of a fold, nothing for a gap); a fixed-time job fires a
  skipped wall time once at the first instant after the gap and a repeated one once, in the
  first pass. Both peers agree with that in gaps and folds too, and are compared there, except
  in the situations below, where they disagree with Vixie (``_dst_situation`` finds them
  between ``after`` and the results; ``_dst_excluded`` names them per peer):

  - cronsim does Debian's fixed-time shift only for 5-field expressions: a 6-field fixed-time
    job (``0 30 2 * * *``) whose wall time is skipped does not fire at all (Vixie: at the first
    instant after the gap).
  - croniter decides by the hour field alone, as Tickwork did before it counted the minute:
    ``* 2 * * *`` fires at the end of a gap that skipped all of 02:xx (Vixie: not at all, the
    job is a wildcard job).
  - croniter keeps a 6/7-field fixed-time job's seconds when it moves a skipped fire past the
    gap (``10 56 2 * * *`` fires at 03:00:10; Vixie: once, at the first instant after the gap).
  - Both read the wall time of an ``after`` inside the second pass of a fold without its fold,
    so for a fixed-time job whose repeated wall time is ahead they can answer with an instant
    *before* ``after`` (the first pass).

  Everywhere else in a DST zone the peers must agree exactly, and the test counts that cases
  with a gap or a fold in them were compared.
* croniter, day-of-month + day-of-week OR with ``#``, ``L`` (weekday) or ``W``: croniter keeps
  those as an intersection inside the OR (its test_issue_k33); Vixie/cronsim/Tickwork do a real
  OR. Those expressions are not given to croniter.
* croniter, ``a/n`` in day-of-week: croniter runs it to 6, Vixie (and cronsim, Tickwork) to 7
  (Sunday again). Not given to croniter.
* croniter, ``nW`` past the month's end: croniter clamps to the last day, Tickwork skips the
  month. Only n <= 28 is generated. ``LW`` and ``L`` in day-of-week use croniter's own spellings.
* cronsim has no year field, no ``nW`` and no ``?``; ``?`` is spelled ``*`` for it, the others
  are not given to it.
* Both peers stop looking after 50 years; Tickwork looks until year 9999. A peer giving up is
  accepted only when Tickwork's answer is more than 50 years away (or there is none).
"""

from __future__ import annotations

import contextlib
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

import pytest
from croniter import CroniterBadCronError, CroniterBadDateError, croniter
from cronsim import CronSim, CronSimError

from tickwork.triggers import TriggerError, cron
from tickwork.triggers.base import to_us
from tickwork.triggers.cron import CronTrigger

ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Shanghai"]
EXPRESSIONS_PER_ZONE = 1200
INSTANTS_PER_EXPRESSION = 2
FIFTY_YEARS_US = 50 * 366 * 86_400 * 1_000_000


@dataclass
class Case:
    ours: str
    cronsim: str | None  # None: this peer does not take part (see the module docstring)
    croniter: str | None
    fields: int


def _simple(rng: random.Random, lo: int, hi: int, slash_start: bool = True) -> str:
    kind = rng.choice(["star", "step", "val", "val", "range", "rstep", "start"])
    if kind == "start" and not slash_start:
        kind = "val"
    if kind == "star":
        return "*"
    if kind == "step":
        return f"*/{rng.randint(1, min(9, hi - lo))}"
    if kind == "val":
        return str(rng.randint(lo, hi))
    a = rng.randint(lo, hi - 1)
    b = rng.randint(a + 1, hi)  # a < b: croniter reads an equal range as the whole field
    if kind == "range":
        return f"{a}-{b}"
    if kind == "rstep":
        return f"{a}-{b}/{rng.randint(1, 6)}"
    return f"{a}/{rng.randint(1, min(9, hi - lo))}"


def _field(rng: random.Random, lo: int, hi: int, slash_start: bool = True) -> str:
    if rng.random() < 0.25:
        items = [_simple(rng, lo, hi, slash_start) for _ in range(rng.randint(2, 3))]
        return ",".join(i for i in items if i != "*") or "*"
    return _simple(rng, lo, hi, slash_start)


def _case(rng: random.Random) -> Case:
    minute = _field(rng, 0, 59)
    hour = rng.choice([_field(rng, 0, 23), "*", "*/2", "2", "1-3", "9-17"])
    month = rng.choice(["*", "*", _field(rng, 1, 12), "JAN-MAR", "FEB", "NOV,DEC"])
    to_cronsim: bool = True
    to_croniter: bool = True

    # Day of month: (ours, cronsim, croniter spelling).
    dom_kind = rng.choice(["star", "star", "q", "simple", "simple", "L", "LW", "W", "Llist"])
    dom_ext = dom_kind in ("L", "LW", "W", "Llist")
    if dom_kind == "star":
        dom = dom_cs = dom_ci = "*"
    elif dom_kind == "q":
        dom, dom_cs, dom_ci = "?", "*", "?"
    elif dom_kind == "simple":
        dom = dom_cs = dom_ci = _field(rng, 1, 31)
    elif dom_kind == "L":
        dom = dom_cs = dom_ci = "L"
    elif dom_kind == "Llist":
        dom = dom_cs = dom_ci = f"{rng.randint(1, 20)},L"
    elif dom_kind == "LW":
        dom = dom_cs = dom_ci = "LW"
        to_croniter = False  # croniter has no LW
    else:
        n = rng.randint(1, 28)
        dom = dom_ci = f"{n}W"
        dom_cs = "*"
        to_cronsim = False  # cronsim has no W

    dow_kind = rng.choice(["star", "star", "q", "simple", "names", "seven", "nth", "last"])
    dow_ext = dow_kind in ("nth", "last")
    if dow_kind == "star":
        dow = dow_cs = dow_ci = "*"
    elif dow_kind == "q":
        dow, dow_cs, dow_ci = "?", "*", "?"
    elif dow_kind == "simple":
        dow = dow_cs = dow_ci = _field(rng, 0, 6, slash_start=rng.random() < 0.5)
        if "/" in dow and "-" not in dow.split("/")[0] and not dow.startswith("*"):
            to_croniter = False  # a/n: croniter stops at 6, Vixie at 7
        if any("/" in part and part[0].isdigit() and "-" not in part for part in dow.split(",")):
            to_croniter = False
    elif dow_kind == "names":
        dow = dow_cs = dow_ci = rng.choice(["MON-FRI", "SAT,SUN", "TUE", "mon,wed,fri"])
    elif dow_kind == "seven":
        dow = dow_cs = dow_ci = "7"
    elif dow_kind == "nth":
        d, n = rng.randint(0, 6), rng.randint(1, 5)
        dow = dow_cs = dow_ci = f"{d}#{n}"
    else:
        d = rng.randint(0, 7)
        dow = dow_cs = f"{d}L"
        dow_ci = f"L{d}"

    both_restricted = not dom.startswith(("*", "?")) and not dow.startswith(("*", "?"))
    if both_restricted and (dow_ext or dom_kind == "W"):
        to_croniter = False  # croniter keeps #/L/W as an intersection inside the OR

    shape = rng.choice([5, 5, 5, 6, 7])
    ours = [minute, hour, dom, month, dow]
    cs = [minute, hour, dom_cs, month, dow_cs]
    ci = [minute, hour, dom_ci, month, dow_ci]
    if shape >= 6:
        second = rng.choice(["0", "*/15", _field(rng, 0, 59)])
        ours, cs, ci = [second, *ours], [second, *cs], [second, *ci]
    if shape == 7:
        year = rng.choice(["*", "2026-2030", "2027", "*/3", "2026,2033"])
        ours.append(year)
        ci.append(year)
        to_cronsim = False  # cronsim has no year field
    del dom_ext
    return Case(
        " ".join(ours),
        " ".join(cs) if to_cronsim else None,
        " ".join(ci) if to_croniter else None,
        shape,
    )


def _cronsim_next(expr: str, after_local: datetime) -> datetime | None:
    try:
        return next(CronSim(expr, after_local))
    except StopIteration:
        return None


def _croniter_next(expr: str, after_local: datetime, fields: int) -> datetime | None:
    try:
        it = croniter(
            expr,
            after_local,
            ret_type=datetime,
            implement_cron_bug=True,  # Vixie: a day field starting with '*' means AND
            second_at_beginning=fields >= 6,
        )
        return it.get_next(datetime)  # type: ignore[no-any-return]
    except CroniterBadDateError:
        return None


def _dst_situation(t: CronTrigger, after_us: int, until_us: int) -> set[str]:
    """Which DST situations lie in the window: a matching wall time in a gap ("gap") or in a
    fold ("fold"), and whether ``after`` is in the second pass of a fold ("after_in_fold")."""
    zone = t.tz
    sched = t._sched  # the wall-time matcher of this very expression
    lo_s = after_us // 1_000_000 - 2 * 86_400
    hi_s = until_us // 1_000_000 + 2 * 86_400
    probe = lo_s
    step = 6 * 3600
    prev = _offset(zone, probe)
    found: set[str] = set()
    while probe < hi_s:
        nxt = probe + step
        off = _offset(zone, nxt)
        if off != prev:
            # Find the change to the second, then the wall interval it skips or repeats.
            a, b = probe, nxt
            while b - a > 1:
                mid = (a + b) // 2
                if _offset(zone, mid) == prev:
                    a = mid
                else:
                    b = mid
            wall_lo, wall_hi = b + min(prev, off), b + max(prev, off)
            match = sched.next_wall(wall_lo)
            if match is not None and match < wall_hi:
                found.add("gap" if off > prev else "fold")
            if off < prev and b <= after_us // 1_000_000 < b + (prev - off):
                found.add("after_in_fold")
        prev = off
        probe = nxt
    return found


def _dst_excluded(peer: str, case: Case, t: CronTrigger, situation: set[str]) -> bool:
    """Whether the peer is known to disagree with Vixie here (see the module docstring)."""
    if not situation:
        return False
    wildcard = t.fields.wildcard
    if not wildcard and {"after_in_fold", "fold"} <= situation:
        return True  # both: after's fold is lost, the first pass comes back
    if "gap" not in situation:
        return False
    if peer == "cronsim":
        return not wildcard and case.fields >= 6  # no Debian shift for 6 fields
    hour_text = case.ours.split()[1 if case.fields == 5 else 2]
    if wildcard and not hour_text.startswith("*"):
        return True  # croniter: a fixed hour makes a fire up at the gap's end
    return not wildcard and case.fields >= 6  # croniter keeps the seconds past the gap


def _offset(zone: object, s: int) -> int:
    off = datetime.fromtimestamp(s, zone).utcoffset()  # type: ignore[arg-type]
    assert off is not None
    return int(off.total_seconds())


def _us(moment: datetime | None) -> int | None:
    return None if moment is None else to_us(moment)


@pytest.mark.slow
@pytest.mark.parametrize("zone", ZONES)
def test_differential_against_cronsim_and_croniter(zone: str) -> None:

    rng = random.Random(f"differential-{zone}")
    tz = UTC if zone == "UTC" else ZoneInfo(zone)
    compared = {"cronsim": 0, "croniter": 0}
    compared_dst = {"cronsim": 0, "croniter": 0}  # comparisons with a gap or fold in them
    excluded_dst = 0
    never = 0
    changes = _changes(tz)
    for _ in range(EXPRESSIONS_PER_ZONE):
        case = _case(rng)
        refused: TriggerError | None = None
        try:
            t = cron(case.ours, tz)
        except TriggerError as exc:
            refused = exc
        if refused is not None:
            # Tickwork refuses what can never fire; the peers must not find a fire either
            # (refusing the expression outright is fine too).
            assert "never fires" in refused.reason, (case, refused)
            never += 1
            probe = datetime(2026, 1, 1, tzinfo=tz)
            if case.cronsim is not None:
                with contextlib.suppress(CronSimError):
                    assert _cronsim_next(case.cronsim, probe) is None, case
            if case.croniter is not None:
                with contextlib.suppress(CroniterBadCronError):
                    assert _croniter_next(case.croniter, probe, case.fields) is None, case
            continue
        afters = [
            datetime(2025, 1, 1, tzinfo=UTC)
            + timedelta(
                seconds=rng.randrange(0, 8 * 365 * 86_400),
                microseconds=rng.choice([0, 0, 1, 999_999]),
            )
            for _ in range(INSTANTS_PER_EXPRESSION)
        ]
        if changes:  # and one instant in the 3 days before a change of the zone
            afters.append(
                rng.choice(changes)
                - timedelta(seconds=rng.randrange(0, 3 * 86_400), microseconds=rng.choice([0, 1]))
            )
        for after in afters:
            after_local = after.astimezone(tz)
            ours = t.next_fire_us(to_us(after))
            peers: dict[str, int | None] = {}
            if case.cronsim is not None:
                peers["cronsim"] = _us(_cronsim_next(case.cronsim, after_local))
            if case.croniter is not None:
                peers["croniter"] = _us(_croniter_next(case.croniter, after_local, case.fields))
            horizon = max([x for x in (ours, *peers.values()) if x is not None], default=None)
            situation = set() if horizon is None else _dst_situation(t, to_us(after), horizon)
            for name, theirs in peers.items():
                if _dst_excluded(name, case, t, situation):
                    excluded_dst += 1
                    continue
                if theirs is None and (ours is None or ours - to_us(after) > FIFTY_YEARS_US):
                    continue  # the peer gave up after 50 years; Tickwork looks further
                assert theirs == ours, (name, case, after_local.isoformat(), ours, theirs)
                compared[name] += 1
                compared_dst[name] += bool(situation - {"after_in_fold"})
    assert compared["cronsim"] > EXPRESSIONS_PER_ZONE
    assert compared["croniter"] > EXPRESSIONS_PER_ZONE
    if zone in ("UTC", "Asia/Shanghai"):
        assert excluded_dst == 0
        assert compared_dst == {"cronsim": 0, "croniter": 0}
    else:
        # Gaps and folds are compared, not skipped: the exclusions are the few named above.
        assert min(compared_dst.values()) > EXPRESSIONS_PER_ZONE // 20, compared_dst
        assert excluded_dst < sum(compared_dst.values()) // 4, (excluded_dst, compared_dst)


def _changes(tz: tzinfo) -> list[datetime]:
    """The instants of the zone's UTC-offset changes in 2025-2032 (none for UTC, Shanghai)."""
    out: list[datetime] = []
    start = int(datetime(2025, 1, 1, tzinfo=UTC).timestamp())
    prev = _offset(tz, start)
    for day in range(1, 8 * 366):
        s = start + day * 86_400
        off = _offset(tz, s)
        if off != prev:
            out.append(datetime.fromtimestamp(s, UTC))  # within a day after the change
        prev = off
    return out
