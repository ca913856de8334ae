"""A scheduler node in its own process, for the cluster, kill -9 and restart tests.

python -m tests.cluster.node_main URL --until EPOCH_SECONDS [--heartbeat S --dead-after S]
    [--stop-file PATH]  (stops early, cleanly, once PATH exists)
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
import time
from pathlib import Path

from tickwork import Tickwork
from tickwork.engine.node import NodeOptions
from tickwork.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--until", type=float, required=True, help="epoch seconds to stop at")
    parser.add_argument("--heartbeat", type=float, default=5.0)
    parser.add_argument("--dead-after", type=float, default=20.0)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--poll", type=float, default=0.5)
    parser.add_argument("--stop-file", type=Path, default=None)
    args = parser.parse_args()
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(process)d %(name)s: %(message)s"
    )
    options = NodeOptions(
        workers={"thread": args.threads, "process": 1, "asyncio": 10},
        heartbeat_s=args.heartbeat,
        dead_after_s=args.dead_after,
        poll_s=args.poll,
    )
    tw = Tickwork(settings=Settings(database_url=args.url, timezone="UTC"), node_options=options)
    tw.start()
    assert tw.node is not None
    # SIGTERM stops cleanly, as `tickwork run` does: without a handler Python dies at once,
    # leaving a run that was running at that moment `running` with no node left to reap it.
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print(f"node {tw.node.node_id} started", flush=True)
    while time.time() < args.until and not (args.stop_file and args.stop_file.exists()):
        if stop.wait(0.1):
            break
    tw.shutdown(wait=True)
    tw.close()
    print("node stopped", flush=True)


if __name__ == "__main__":
    main()
