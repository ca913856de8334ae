"""A scheduler node in its own process for the alerts' cluster test; its settings (the SSRF
allowlist that lets channels reach the test's receivers, the alert worker's poll) come from
the environment like a deployment's.

python -m tests.alerts.node_main URL --until EPOCH_SECONDS
"""

from __future__ import annotations

import argparse
import logging
import time

from tickwork import Tickwork
from tickwork.engine.node import NodeOptions
from tickwork.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--until", type=float, required=True, help="epoch seconds to stop at")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(process)d %(name)s: %(message)s")
    settings = Settings.from_env().with_overrides(database_url=args.url, timezone="UTC")
    options = NodeOptions(workers={"thread": 8, "process": 1, "asyncio": 4}, poll_s=0.5)
    tw = Tickwork(settings=settings, node_options=options)
    tw.start()
    while time.time() < args.until:
        time.sleep(0.1)
    tw.shutdown(wait=True)
    tw.close()
    print("node stopped", flush=True)


if __name__ == "__main__":
    main()
