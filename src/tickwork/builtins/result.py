"""What a built-in returns: metrics and findings, the contract alert rules and the console read.

``{"metrics": {name: number | text}, "findings": [{"severity": "info|warning|critical",
"object": "...", "message": "...", "action": "..."}], "tables": {name: {"columns": [...],
"rows": [[...]]}}}``. ``metrics`` and ``findings`` are the contract (the alerts' ``finding``
rule reads findings, ``/metrics`` reads metrics); ``tables`` holds the details the run page
shows as tables. Everything is bounded so a result stays far below a run record's limit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

SEVERITIES = ("info", "warning", "critical")
MAX_FINDINGS = 100
MAX_TABLE_ROWS = 50
MAX_TABLES = 8
TEXT = 500  # characters of a message, an object, an action, a cell


def cut(value: Any, limit: int = TEXT) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def cell(value: Any) -> Any:
    """A table cell as JSON: numbers stay numbers, the rest is bounded text."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return round(value, 3)
    try:
        import decimal

        if isinstance(value, decimal.Decimal):
            return float(value)
    except ImportError:  # pragma: no cover
        pass
    return cut(value, 200)


class Report:
    """A built-in's result under construction."""

    def __init__(self, kind: str = "") -> None:
        self.kind = kind  # the built-in's name: an alert rule's finding_kind matches it
        self.metrics: dict[str, Any] = {}
        self.findings: list[dict[str, str]] = []
        self.tables: dict[str, dict[str, Any]] = {}
        self.dropped = 0

    def metric(self, name: str, value: Any) -> None:
        if isinstance(value, float):
            value = round(value, 3)
        elif not (value is None or isinstance(value, bool | int | str)):
            value = cell(value)
        self.metrics[name] = value

    def finding(self, severity: str, obj: str, message: str, action: str = "") -> None:
        assert severity in SEVERITIES, severity
        if len(self.findings) >= MAX_FINDINGS:
            self.dropped += 1
            return
        found = {"severity": severity, "object": cut(obj, 200), "message": cut(message),
                 "action": cut(action)}  # fmt: skip
        if self.kind:
            found["kind"] = self.kind
        self.findings.append(found)

    def table(self, name: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        if len(self.tables) >= MAX_TABLES and name not in self.tables:
            return
        kept = [[cell(v) for v in row] for row in rows[:MAX_TABLE_ROWS]]
        entry: dict[str, Any] = {"columns": list(columns), "rows": kept}
        if len(rows) > MAX_TABLE_ROWS:
            entry["total"] = len(rows)
        self.tables[name] = entry

    def worst(self) -> str | None:
        found = {f["severity"] for f in self.findings}
        for severity in reversed(SEVERITIES):
            if severity in found:
                return severity
        return None

    def as_result(self) -> dict[str, Any]:
        if self.dropped:
            self.metrics["findings_dropped"] = self.dropped
        out: dict[str, Any] = {"metrics": self.metrics, "findings": self.findings}
        if self.tables:
            out["tables"] = self.tables
        return out
