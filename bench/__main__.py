"""Runs benchmark sections: ``python -m bench [SECTION ...] [--quick]`` (all sections by
default).

Each section is a module with ``run() -> dict`` that prints its own table; the runner ends with
ONE JSON line merging every section's dict, for scripts and CI to pick up. ``--quick`` asks the
sections that accept ``run(quick=True)`` for a shorter smoke run.
"""

from __future__ import annotations

import importlib
import inspect
import json
import sys
from typing import Any

# Section name -> module. Other sections register here.
SECTIONS: dict[str, str] = {
    "cron": "bench.cron",
    "engine": "bench.engine",
    "api": "bench.api",
    "console": "bench.console",
    "kinds": "bench.kinds",
    "maintenance": "bench.maintenance",
    "bulk": "bench.bulk",
    "workflows": "bench.workflows",
    "forecast": "bench.forecast",
    "celery": "bench.celery_section",  # issue 14
    "scaleout": "bench.scaleout",  # issue 14: 1 vs 3 scheduler nodes
    "retention": "bench.retention",
}


def main(argv: list[str]) -> int:
    flags = {a for a in argv if a.startswith("--")}
    unknown_flags = flags - {"--quick"}
    if unknown_flags:
        print(f"unknown option(s): {', '.join(sorted(unknown_flags))}; known: --quick")
        return 2
    names = [a for a in argv if not a.startswith("--")] or list(SECTIONS)
    unknown = [n for n in names if n not in SECTIONS]
    if unknown:
        print(f"unknown section(s): {', '.join(unknown)}; known: {', '.join(SECTIONS)}")
        return 2
    merged: dict[str, Any] = {}
    for name in names:
        print(f"== {name} ==", flush=True)
        module = importlib.import_module(SECTIONS[name])
        kwargs = {}
        if "--quick" in flags and "quick" in inspect.signature(module.run).parameters:
            kwargs["quick"] = True
        merged.update(module.run(**kwargs))
        print(flush=True)
    print(json.dumps(merged, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
