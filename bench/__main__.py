"""Runs benchmark sections: ``python -m bench [SECTION ...]`` (all sections by default).

Each section is a module with ``run() -> dict`` that prints its own table; the runner ends with
ONE JSON line merging every section's dict, for scripts and CI to pick up.
"""

from __future__ import annotations

import importlib
import json
import sys
from typing import Any

# Section name -> module. Other sections register here.
SECTIONS: dict[str, str] = {"cron": "bench.cron"}


def main(argv: list[str]) -> int:
    names = argv or list(SECTIONS)
    unknown = [n for n in names if n not in SECTIONS]
    if unknown:
        print(f"unknown section(s): {', '.join(unknown)}; known: {', '.join(SECTIONS)}")
        return 2
    merged: dict[str, Any] = {}
    for name in names:
        print(f"== {name} ==", flush=True)
        module = importlib.import_module(SECTIONS[name])
        merged.update(module.run())
        print(flush=True)
    print(json.dumps(merged, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
