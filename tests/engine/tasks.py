"""Targets for engine tests. They run in the test process (thread executor), so they report
through module state that tests reset."""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from typing import Any

calls: dict[str, list[dict[str, Any]]] = defaultdict(list)
gates: dict[str, threading.Event] = defaultdict(threading.Event)
_lock = threading.Lock()


def reset() -> None:
    with _lock:
        calls.clear()
        gates.clear()


def ok(tag: str = "ok", **kwargs: Any) -> dict[str, Any]:
    with _lock:
        calls[tag].append({"at": time.time(), **kwargs})
    print(f"ran {tag}")
    logging.getLogger("tests.engine").warning("logged %s", tag)
    return {"tag": tag, **kwargs}


def fail(tag: str = "fail") -> None:
    with _lock:
        calls[tag].append({"at": time.time()})
    raise RuntimeError(f"{tag} failed on purpose")


def block(tag: str = "block", timeout: float = 10.0) -> str:
    """Runs until the test opens the gate named ``tag``."""
    with _lock:
        calls[tag].append({"at": time.time()})
    gates[tag].wait(timeout)
    return "released"


def sleep(seconds: float) -> str:
    time.sleep(seconds)
    return "slept"


async def coro(tag: str = "coro") -> str:
    import asyncio

    await asyncio.sleep(0)
    with _lock:
        calls[tag].append({"at": time.time()})
    return tag


def not_json() -> object:
    return object()


def chatty(tag: str = "chatty") -> str:
    """Prints a line, then waits for the gate: a run whose log can be followed live."""
    print(f"working on {tag}", flush=True)
    with _lock:
        calls[tag].append({"at": time.time()})
    gates[tag].wait(10)
    print("done", flush=True)
    return "finished"


async def asleep(seconds: float, tag: str = "asleep") -> str:
    """A coroutine that sleeps (cancellable at its await)."""
    import asyncio

    with _lock:
        calls[tag].append({"at": time.time()})
    await asyncio.sleep(seconds)
    return "slept"


def sleep_marked(seconds: float, marker: str) -> str:
    """Writes ``marker`` (a path) when it starts, then sleeps: for other processes' runs."""
    from pathlib import Path

    Path(marker).write_text("started", encoding="utf-8")
    time.sleep(seconds)
    return "slept"
