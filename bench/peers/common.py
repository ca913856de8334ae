"""Measurement helpers shared by every system of the engine benchmark."""

from __future__ import annotations

import math
import os
import random
import resource
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

# --- scenario geometry ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Grid:
    """N interval-1s jobs; job i fires at ``t0 + phase(i) + k`` for k in 0..seconds-1."""

    n: int
    seconds: int
    t0: float  # epoch seconds of the first fire of job 0
    aligned: bool

    def phase(self, i: int) -> float:
        return 0.0 if self.aligned else i / self.n

    def first(self, i: int) -> float:
        return self.t0 + self.phase(i)

    @property
    def due(self) -> int:
        return self.n * self.seconds

    @property
    def end(self) -> float:
        """Just after the last fire of the window (the interval jobs' end date)."""
        return self.t0 + self.seconds - (0.5 if self.aligned else 0.5 / self.n)


def lateness_ms(grid: Grid, calls: Iterable[tuple[int, float]]) -> tuple[list[float], int]:
    """Lateness of every call against the fire it belongs to, and how many fires ran.

    A call belongs to the latest fire at or before it (1 ms of tolerance for clock reads):
    every system here starts a fire after its instant, and a fire later than 1 s would be
    attributed to the next one — no system kept such fires in our runs (APScheduler drops
    them past its 1 s grace time; Tickwork's are far below). Calls whose fire lies outside
    the window are not counted; a fire called twice counts once for "executed".
    """
    out: list[float] = []
    seen: set[tuple[int, int]] = set()
    for i, t in calls:
        k = math.floor(t - grid.first(i) + 0.001)
        if k < 0 or k >= grid.seconds:
            continue
        seen.add((i, k))
        out.append(max(0.0, t - (grid.first(i) + k)) * 1000.0)
    return out, len(seen)


def percentile(values: Sequence[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    pos = min(len(ordered) - 1, max(0, math.ceil(q / 100.0 * len(ordered)) - 1))
    return ordered[pos]


def summary(values: Sequence[float]) -> dict[str, float | None]:
    return {
        "p50_ms": _r(percentile(values, 50)),
        "p99_ms": _r(percentile(values, 99)),
        "max_ms": _r(max(values) if values else None),
    }


def _r(x: float | None, digits: int = 3) -> float | None:
    return None if x is None else round(x, digits)


# --- process measurements ---------------------------------------------------------------------


def rss_mb() -> float:
    """Resident set size of this process now (from /proc; ru_maxrss is the peak)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def cpu_s() -> float:
    t = os.times()
    return t.user + t.system


def idle_cpu(seconds: float) -> float:
    """CPU seconds this process used per wall second while the caller sleeps."""
    c0, w0 = cpu_s(), time.monotonic()
    time.sleep(seconds)
    return (cpu_s() - c0) / (time.monotonic() - w0)


def wait_until(epoch_s: float) -> None:
    while (left := epoch_s - time.time()) > 0:
        time.sleep(min(left, 0.5))


# --- the registered-jobs mix ------------------------------------------------------------------


def cron_mix(n: int, now_hour_utc: int, seed: int = 2026) -> list[str]:
    """``n`` standard 5-field cron expressions, a realistic mix (daily, weekdays, weekly,
    monthly, twice a day, business-hours quarter-hourly, yearly), none of which can fire in
    the current UTC hour or the three after it, so that the idle measurement is idle."""
    rng = random.Random(seed)
    quiet = {(now_hour_utc + d) % 24 for d in range(4)}
    hours = [h for h in range(24) if h not in quiet]
    # A 6-hour block of "business hours" away from the quiet hours.
    start = (now_hour_utc + 8) % 24
    block = [(start + d) % 24 for d in range(6)]
    block_field = ",".join(str(h) for h in sorted(block))
    out: list[str] = []
    for _ in range(n):
        m, h, r = rng.randrange(60), rng.choice(hours), rng.random()
        if r < 0.40:
            out.append(f"{m} {h} * * *")
        elif r < 0.60:
            out.append(f"{m} {h} * * 1-5")
        elif r < 0.70:
            out.append(f"{m} {h} * * {rng.randrange(7)}")
        elif r < 0.80:
            out.append(f"{m} {h} {rng.randrange(1, 29)} * *")
        elif r < 0.90:
            h2 = rng.choice([x for x in hours if x != h])
            out.append(f"{m} {min(h, h2)},{max(h, h2)} * * *")
        elif r < 0.95:
            out.append(f"*/15 {block_field} * * 1-5")
        else:
            out.append(f"{m} {h} {rng.randrange(1, 29)} {rng.randrange(1, 13)} *")
    return out


def result(**kw: Any) -> dict[str, Any]:
    return kw
