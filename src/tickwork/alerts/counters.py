"""Alerts sent, failed and deduplicated by this process, per channel and rule: counters that
``/metrics`` exposes (per node; Prometheus sums the nodes)."""

from __future__ import annotations

import threading
from collections import defaultdict

_lock = threading.Lock()
# (outcome, channel, rule) -> count; outcome: sent, failed, deduplicated (channel "" there)
_counts: dict[tuple[str, str, str], int] = defaultdict(int)


def add(outcome: str, channel: str, rule: str, n: int = 1) -> None:
    with _lock:
        _counts[(outcome, channel, rule)] += n


def snapshot() -> dict[tuple[str, str, str], int]:
    with _lock:
        return dict(_counts)
