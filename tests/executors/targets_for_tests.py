"""Targets the executor tests run; importable by the process executor's workers too."""

from __future__ import annotations

import asyncio
import ctypes
import logging
import os
import sys
import threading
import time
from typing import Any

log = logging.getLogger(__name__)
log.setLevel(logging.INFO)  # the root logger stays at WARNING; this logger's INFO is captured


def noop() -> None:
    return None


def add(a: int, b: int) -> int:
    return a + b


def echo(*args: Any, **kwargs: Any) -> dict[str, Any]:
    print("echo", args, kwargs)
    return {"args": list(args), "kwargs": kwargs}


def fail(message: str) -> None:
    print("about to fail")
    raise ValueError(message)


def fail_without_message() -> None:
    raise RuntimeError


def returns_set() -> set[int]:
    return {1, 2, 3}


def returns_text(size: int) -> str:
    return "r" * size


def spam(lines: int) -> None:
    for i in range(lines):
        print(f"line {i:05d}")


def chatter(tag: str, rounds: int, pause_s: float) -> str:
    """Prints, logs and writes to stderr ``rounds`` times, pausing so concurrent runs mix."""
    for i in range(rounds):
        print(f"{tag} out {i}")
        log.info("%s log %d", tag, i)
        sys.stderr.write(f"{tag} err {i}\n")
        time.sleep(pause_s)
    return tag


async def async_chatter(tag: str, rounds: int, pause_s: float) -> str:
    for i in range(rounds):
        print(f"{tag} out {i}")
        log.info("%s log %d", tag, i)
        sys.stderr.write(f"{tag} err {i}\n")
        await asyncio.sleep(pause_s)
    return tag


def leak(secret: str) -> None:
    print(f"the secret is {secret}")
    log.warning("logging the secret %s", secret)
    raise ValueError(f"refused {secret}")


def leak_in_result(secret: str) -> dict[str, str]:
    print(secret)
    return {"token": secret}


def sleep_loop(seconds: float) -> str:
    """Sleeps in short steps: an asynchronous exception reaches it within 10 ms."""
    print("sleeping")
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        time.sleep(0.01)
    return "woke"


def sleep_blocking(seconds: float) -> str:
    """One long C-level sleep: nothing can interrupt it inside the process."""
    time.sleep(seconds)
    return "woke"


def write_pid_and_sleep(path: str, seconds: float) -> None:
    with open(path, "w") as f:
        f.write(str(os.getpid()))
    print("pid written")
    log.warning("going to sleep")
    time.sleep(seconds)


def pid() -> int:
    return os.getpid()


def exit_hard(code: int) -> None:
    print("exiting hard")
    sys.stdout.flush()
    os._exit(code)


def segfault() -> None:
    ctypes.string_at(0)


async def async_add(a: int, b: int) -> int:
    await asyncio.sleep(0)
    return a + b


async def async_fail(message: str) -> None:
    await asyncio.sleep(0)
    raise ValueError(message)


async def async_sleep(seconds: float) -> str:
    print("async sleeping")
    await asyncio.sleep(seconds)
    return "woke"


async def async_ignore_cancel(seconds: float) -> str:
    """Swallows cancellation and goes on sleeping: the run must still end at its deadline."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            await asyncio.sleep(0.01)
        except asyncio.CancelledError:
            print("ignoring the cancel")
    return "stubborn"


_probe_lock = threading.Lock()
_probe = {"now": 0, "max": 0}


async def async_probe(seconds: float) -> int:
    """Counts how many of these run at once; returns the largest number seen."""
    with _probe_lock:
        _probe["now"] += 1
        _probe["max"] = max(_probe["max"], _probe["now"])
    try:
        await asyncio.sleep(seconds)
    finally:
        with _probe_lock:
            _probe["now"] -= 1
    return _probe["max"]


def reset_probe() -> None:
    with _probe_lock:
        _probe.update(now=0, max=0)


class Tasks:
    @staticmethod
    def static_add(a: int, b: int) -> int:
        return a + b


not_callable = 42


def sleep_then_print(seconds: float) -> None:
    """Blocks in C, then prints: after a timeout that print belongs to nobody."""
    time.sleep(seconds)
    print("printed after the deadline")


def ignore_sigterm_and_sleep(path: str, seconds: float) -> None:
    import signal

    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    write_pid_and_sleep(path, seconds)


def spawn_chatty_thread() -> None:
    """A thread the target starts has a fresh context: its output is not the run's."""
    thread = threading.Thread(target=print, args=("from a thread of the target",))
    thread.start()
    thread.join()
    print("from the run")


def touch(path: str) -> None:
    with open(path, "w"):
        pass


def spawn_tree(path: str, seconds: float, ignore_term: bool) -> None:
    """Starts a shell (a child) that starts a ``sleep`` (a grandchild), writes the worker's,
    the child's and the grandchild's pids to ``path``, then sleeps. With ``ignore_term`` the
    shell and its sleep ignore SIGTERM: only SIGKILL ends them."""
    import subprocess

    trap = "trap '' TERM; " if ignore_term else ""
    child = subprocess.Popen(
        ["sh", "-c", f"{trap}sleep {seconds} & echo $!; wait"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    grandchild = int(child.stdout.readline())
    # printed before the pid file exists: the test acts on the file at once, and a cancel
    # between print's two writes (the text, then the newline) kept "tree started" unended
    print("tree started", flush=True)
    with open(path + ".part", "w") as f:
        f.write(f"{os.getpid()} {child.pid} {grandchild}")
    os.replace(path + ".part", path)  # the test never reads a half-written file
    time.sleep(seconds)


def leave_a_child(path: str) -> None:
    """Starts a ``sleep`` and returns without waiting for it; writes its pid to ``path``."""
    import subprocess

    child = subprocess.Popen(["sleep", "1000"], stdin=subprocess.DEVNULL)
    with open(path + ".part", "w") as f:
        f.write(str(child.pid))
    os.replace(path + ".part", path)
