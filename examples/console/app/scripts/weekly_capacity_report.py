"""A code job kept as a script (stored and versioned by Tickwork, run in a sandboxed child
process): the week's capacity report, printed to the run's log."""

from __future__ import annotations

import json
import os

params = {
    k[len("TW_PARAM_") :].lower(): v for k, v in os.environ.items() if k.startswith("TW_PARAM_")
}
print(json.dumps({"report": "weekly capacity", "params": params}, ensure_ascii=False))
