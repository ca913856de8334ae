"""Deterministic jitter: a delay that is a pure function of (seed, base fire instant).

APScheduler adds a random delay in [0, jitter]. Tickwork triggers are pure, so the delay is
drawn from a stable hash of the seed (the job id) and the base fire instant: every node computes
the same instant, and asking twice gives the same answer.

To keep fires strictly increasing, a fire's delay is also capped below the gap to the next base
fire: ``fire(b) = b + delay`` with ``delay <= min(jitter, next_base - b - 1 µs)``. So fires keep
the order of their base fires, and the first fire after ``x`` is the fire of either the last base
at or before ``x`` or the first base after it. That last base is found from the window
``(x - jitter, x]`` by bisection, so the cost grows with log(jitter / period), not linearly.
"""

from __future__ import annotations

from collections.abc import Callable

from tickwork.triggers.hashing import stable_hash

NextFn = Callable[[int], "int | None"]


def jitter_delay(seed: str, base_us: int, span_us: int) -> int:
    """A delay in [0, span_us] µs, uniform over seeds, fixed for (seed, base)."""
    if span_us <= 0:
        return 0
    return (stable_hash("jitter", seed, base_us) * (span_us + 1)) >> 64


def next_jittered(
    base_next: NextFn, after_us: int, jitter_us: int, seed: str, end_us: int | None
) -> int | None:
    """The first jittered fire strictly after ``after_us``; ``base_next`` gives base fires."""

    def fire(base: int, following: int | None) -> int:
        span = jitter_us if following is None else min(jitter_us, following - base - 1)
        moment = base + jitter_delay(seed, base, span)
        # Like APScheduler, never past end_date; bases are <= end_date so order is kept.
        return moment if end_us is None or moment <= end_us else max(base, end_us)

    first = base_next(after_us - jitter_us)  # bases at or before after - jitter fire by after
    if first is None:
        return None
    if first > after_us:
        return fire(first, base_next(first))
    last = _last_base_at_or_before(base_next, after_us, first)
    following = base_next(last)
    moment = fire(last, following)
    if moment > after_us:
        return moment
    if following is None:
        return None
    return fire(following, base_next(following))


def _last_base_at_or_before(base_next: NextFn, x: int, base: int) -> int:
    """The last base fire <= x, given one (``base``) that is <= x."""
    hi = x  # invariant: base <= hi <= x, and no base fire lies in (hi, x]
    while True:
        nxt = base_next(base)
        if nxt is None or nxt > hi:
            return base
        base = nxt
        if hi - base > 2:
            mid = (base + hi) // 2
            probe = base_next(mid)
            if probe is None or probe > hi:
                hi = mid
            else:
                base = probe
