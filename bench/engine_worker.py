"""One measurement of the engine benchmark in its own process:
``python -m bench.engine_worker '{"fn": "tickwork_peer.lateness", ...}'``.

Prints one line ``RESULT {json}`` (the measurement) as its last line of output."""

from __future__ import annotations

import importlib
import json
import sys
import traceback


def main(argv: list[str]) -> int:
    params = json.loads(argv[0])
    module_name, _, fn_name = params["fn"].rpartition(".")
    fn = getattr(importlib.import_module(f"bench.peers.{module_name}"), fn_name)
    try:
        out = fn(params)
    except Exception as exc:
        traceback.print_exc()
        out = {"error": f"{type(exc).__name__}: {exc}"}
    print("RESULT " + json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
