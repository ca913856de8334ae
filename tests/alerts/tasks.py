"""Targets of the alert tests: a job that fails, one that succeeds, one whose result holds
findings (the shape of the maintenance built-ins)."""

from __future__ import annotations

import json
from typing import Any

state: dict[str, Any] = {"fail": True}


def flaky() -> str:
    if state["fail"]:
        raise RuntimeError("the database is unreachable")
    return "fine"


def ok() -> str:
    return "fine"


def findings() -> str:
    return json.dumps(
        {
            "findings": [
                {
                    "severity": "critical",
                    "object": "db.users",
                    "message": "disk 91% full",
                    "action": "grow the volume",
                },
                {"severity": "info", "object": "db.logs", "message": "vacuumed"},
            ],
            "metrics": {"queue_backlog": 1500},
        }
    )
