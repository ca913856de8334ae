"""vacuum_redis_cache: SCAN + UNLINK of the keys under configured patterns that have no TTL
or have been idle longer than ``idle_s``; never ``KEYS``, never a bare ``*`` (refused when the
job is saved), never more than ``max_scan`` keys looked at or ``max_delete`` unlinked in a
run. ``dry_run`` (the default) only counts."""

from __future__ import annotations

from typing import Any

from tickwork.builtins.context import Context
from tickwork.builtins.resp import RedisError

SCAN_COUNT = 500
UNLINK_BATCH = 200


def vacuum_redis_cache(ctx: Context) -> None:
    redis, report = ctx.redis, ctx.report
    idle_s = int(ctx.param("idle_s"))
    max_scan, max_delete = int(ctx.param("max_scan")), int(ctx.param("max_delete"))
    dry_run = bool(ctx.param("dry_run"))
    scanned = matched = unlinked = 0  # totals over every pattern so far
    idle_unknown = bounded = False
    rows: list[list[Any]] = []
    for pattern in ctx.param("patterns"):
        row = [pattern, 0, 0, 0]  # scanned, matched, unlinked
        cursor: Any = b"0"
        while not bounded:
            ctx.sleep(0)
            cursor, keys = redis.command("SCAN", cursor, "MATCH", pattern, "COUNT", SCAN_COUNT)
            scanned += len(keys)
            row[1] += len(keys)
            chosen, unknown = _choose(redis, keys, idle_s)
            idle_unknown |= unknown
            room = max_delete - matched
            if len(chosen) >= room:
                chosen, bounded = chosen[:room], True
            matched += len(chosen)
            row[2] += len(chosen)
            if chosen and not dry_run:
                for at in range(0, len(chosen), UNLINK_BATCH):
                    count = int(redis.command("UNLINK", *chosen[at : at + UNLINK_BATCH]))
                    unlinked += count
                    row[3] += count
            if cursor in (b"0", "0"):
                break
            if scanned >= max_scan:
                bounded = True
        rows.append(row)
        if bounded:
            break
    report.metric("keys_scanned", scanned)
    report.metric("keys_matched", matched)
    report.metric("keys_unlinked", unlinked)
    report.table("patterns", ["pattern", "scanned", "matched", "unlinked"], rows)
    if idle_unknown:
        report.finding("info", "maxmemory-policy", "the server keeps no idle times (LFU "
                       "policy): only keys without a TTL were chosen", "")  # fmt: skip
    if bounded:
        report.finding("info", "bounds", f"stopped at max_scan ({max_scan}) or max_delete "
                       f"({max_delete})", "the next run continues")  # fmt: skip
    if dry_run and matched:
        report.finding(
            "info",
            "dry_run",
            f"{matched} key(s) would be unlinked",
            "set dry_run: false to unlink them",
        )
    ctx.log(f"{scanned} key(s) scanned, {matched} matched, {unlinked} unlinked")


def _choose(redis: Any, keys: list[bytes], idle_s: int) -> tuple[list[bytes], bool]:
    """The keys to unlink: no TTL, or idle at least ``idle_s``; and whether the server
    keeps no idle times."""
    if not keys:
        return [], False
    replies = redis.pipeline([c for k in keys for c in (("TTL", k), ("OBJECT", "IDLETIME", k))])
    chosen, unknown = [], False
    for i, key in enumerate(keys):
        ttl, idle = replies[2 * i], replies[2 * i + 1]
        if isinstance(idle, RedisError):  # an LFU maxmemory-policy keeps no idle time
            unknown, idle = True, None
        if ttl == -2:  # expired meanwhile
            continue
        if ttl == -1 or (idle is not None and int(idle) >= idle_s):
            chosen.append(key)
    return chosen, unknown
