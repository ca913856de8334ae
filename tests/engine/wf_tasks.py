"""Targets of the workflow tests: they record the order in which steps ran."""

from __future__ import annotations

import threading
from typing import Any

order: list[str] = []
failures_left: dict[str, int] = {}
gates: dict[str, threading.Event] = {}
_lock = threading.Lock()


def reset() -> None:
    with _lock:
        order.clear()
        failures_left.clear()
        for gate in gates.values():
            gate.set()
        gates.clear()


def step(tag: str) -> dict[str, Any]:
    with _lock:
        order.append(tag)
    return {"tag": tag}


def fail(tag: str) -> None:
    with _lock:
        order.append(tag)
    raise RuntimeError(f"{tag} failed on purpose")


def flaky(tag: str) -> str:
    """Fails as often as ``failures_left[tag]`` says, then succeeds."""
    with _lock:
        order.append(tag)
        left = failures_left.get(tag, 0)
        failures_left[tag] = max(0, left - 1)
    if left:
        raise RuntimeError(f"{tag} failed ({left} failure(s) left)")
    return tag


def block(tag: str) -> str:
    with _lock:
        order.append(tag)
        gate = gates.setdefault(tag, threading.Event())
    gate.wait(20)
    return tag
