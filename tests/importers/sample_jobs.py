"""The Python functions the imported sample jobs name (RuoYi's invoke targets, xxl-job
handlers, APScheduler jobs)."""

from __future__ import annotations

from typing import Any


def clean_logs(days: int = 30, *, dry: bool = False) -> str:
    return f"cleaned {days} {dry}"


def sync_orders(source: str, batch: int, ratio: float, flag: bool, nothing: Any) -> str:
    return f"{source} {batch} {ratio} {flag} {nothing}"


def demo_handler(param: str = "") -> str:
    return param


def report() -> None:
    return None
