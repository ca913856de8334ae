"""``tickwork forecast``: the upcoming load (fires per bucket), its hot spots and what the
``H`` form would make of them. Reads the triggers only; writes nothing."""

from __future__ import annotations

import argparse
from dataclasses import asdict

from tickwork.cli.common import dump_json, open_client, store_options, table, when

_BARS = " ▁▂▃▄▅▆▇█"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cmd = sub.add_parser(
        "forecast",
        parents=[store_options()],
        help="upcoming fires per minute or hour, hot spots, and the H form's preview",
    )
    cmd.add_argument("--hours", type=int, default=24, help="the window (default 24; 168: 7 days)")
    cmd.add_argument(
        "--bucket", type=int, default=60, metavar="SECONDS", help="bucket size (default 60)"
    )
    cmd.add_argument("--hot", type=int, metavar="N", help="a hot spot has more than N fires")
    cmd.add_argument("--group", metavar="NAME", help="only the jobs of this group")
    cmd.add_argument("--json", action="store_true")
    cmd.set_defaults(handler=_forecast)


def sparkline(values: list[int], width: int = 96) -> str:
    """The heat map as one line of block characters (each the peak of its slice)."""
    if not values:
        return ""
    step = max(1, -(-len(values) // width))
    peaks = [max(values[i : i + step]) for i in range(0, len(values), step)]
    top = max(peaks) or 1
    return "".join(_BARS[0 if v == 0 else 1 + (v * 7) // top] for v in peaks)


def _forecast(args: argparse.Namespace) -> int:
    with open_client(args) as tw:
        fc = tw.forecast(args.hours, args.bucket, hot=args.hot, group=args.group)
    if args.json:
        dump_json(asdict(fc))
        return 0
    print(
        f"{fc.fires:,} fires of {fc.jobs:,} active jobs from {when(fc.start_s * 1_000_000)} "
        f"for {args.hours} h, per {fc.bucket_s} s; peak {fc.peak:,}, hot spot above "
        f"{fc.threshold:,}"
    )
    print(sparkline(fc.buckets))
    if not fc.hot_spots:
        print("no hot spots")
    else:
        rows = [
            [
                when(h.start_s * 1_000_000),
                f"{h.fires:,}",
                f"{100 * h.on_the_hour // max(h.fires, 1)}%",
                f"{h.job_count:,}",
                ", ".join(h.jobs[:5]) + (" ..." if h.job_count > 5 else ""),
            ]
            for h in fc.hot_spots[:20]
        ]
        table(rows, ["BUCKET (UTC)", "FIRES", "AT :00", "JOBS", "E.G."])
    if fc.suggestion is not None:
        s = fc.suggestion
        print(
            f"\nwith H: {s.change_count:,} jobs change, peak {fc.peak:,} -> {s.peak:,}, "
            f"hot spots {len(fc.hot_spots)} -> {s.hot_spots}"
        )
        print(sparkline(s.buckets))
        table([[c.job_id, c.expr, c.suggested] for c in s.changes[:10]], ["JOB", "CRON", "WITH H"])
    if fc.unreadable:
        print(f"\ntriggers that no longer parse: {', '.join(fc.unreadable)}")
    return 0
