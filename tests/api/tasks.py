"""Targets the API tests run (imported by the scheduler node, never by the API)."""

from __future__ import annotations

import logging
import time
from pathlib import Path


def use_password(password: str, out: str) -> str:
    """Stands for a job that connects to a database: proves it received the password (by
    writing it where the test looks), then prints and returns it, which the executor masks."""
    Path(out).write_text(password, encoding="utf-8")
    print(f"connecting with password={password}")
    return f"connected with {password}"


def log_secret(password: str) -> str:
    """A careless job: logs its secret through ``logging`` (thread executor, server process)."""
    logging.getLogger("tests.api.careless").warning("using password %s", password)
    return "ok"


def slow_logger(lines: int = 4, pause_s: float = 0.6) -> str:
    for i in range(lines):
        print(f"line {i}", flush=True)
        time.sleep(pause_s)
    return "done"


def noop() -> None:
    return None


def record_pid(out: str) -> int:
    """Writes the id of the process it runs in, so a test can tell which process ran it."""
    import os

    Path(out).write_text(str(os.getpid()), encoding="utf-8")
    return os.getpid()


def use_nested_secret(creds: dict[str, object], out: str) -> dict[str, object]:
    """A job whose secret is a mapping: it uses a leaf, prints it, logs it and returns the
    whole mapping (the executor must mask every leaf everywhere)."""
    Path(out).write_text(str(creds["password"]), encoding="utf-8")
    print(f"connecting as {creds['user']} with {creds['password']}")
    logging.getLogger("tests.api.nested").warning("token list %s", creds["tokens"])
    return creds
