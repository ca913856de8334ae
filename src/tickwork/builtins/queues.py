"""queue_backlog: messages waiting in Redis lists / Celery queues (on Redis or RabbitMQ)
against a threshold (seed 003's queue monitor, 1,000 by default).

On Redis a Celery queue is a list named after it, plus one list per priority step
(``name\\x06\\x16N``, kombu's separator); on RabbitMQ the count comes from a passive
``queue.declare`` (it never creates a queue), through the ``amqp`` library that Celery
installs (``pip install tickwork[celery]``)."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlsplit

from tickwork.builtins.context import Context
from tickwork.builtins.db import Refused
from tickwork.builtins.resp import RedisError

PRIORITY_SEP = "\x06\x16"
PRIORITY_STEPS = range(1, 10)


def _redis_counts(ctx: Context, queues: list[str]) -> list[tuple[str, int | None, str]]:
    redis = ctx.redis
    commands: list[tuple[str, ...]] = []
    for name in queues:
        commands.append(("LLEN", name))
        commands += [("LLEN", f"{name}{PRIORITY_SEP}{p}") for p in PRIORITY_STEPS]
    replies = redis.pipeline(commands)
    out: list[tuple[str, int | None, str]] = []
    per = 1 + len(PRIORITY_STEPS)
    for i, name in enumerate(queues):
        part = replies[i * per : (i + 1) * per]
        errors = [r for r in part if isinstance(r, RedisError)]
        if errors:
            out.append((name, None, f"not a list: {errors[0]}"))
        else:
            out.append((name, sum(int(r) for r in part), ""))
    return out


def _amqp_counts(ctx: Context, queues: list[str]) -> list[tuple[str, int | None, str]]:
    try:
        import amqp  # type: ignore[import-untyped]
    except ImportError:
        raise Refused(
            "connection: counting RabbitMQ queues needs the amqp library: pip install "
            "'tickwork[celery]'"
        ) from None
    parts = urlsplit(str(ctx.fields["url"]))
    vhost = unquote(parts.path[1:]) if len(parts.path) > 1 else "/"
    try:
        conn = amqp.Connection(
            host=f"{parts.hostname or '127.0.0.1'}:{parts.port or 5672}",
            userid=unquote(parts.username or "guest"),
            password=unquote(parts.password or "guest"),
            virtual_host=vhost, connect_timeout=10, read_timeout=10, write_timeout=10,
            ssl=parts.scheme == "amqps",
        )  # fmt: skip
        conn.connect()
    except Exception as exc:
        raise ConnectionError(f"RabbitMQ: {exc}") from None
    out: list[tuple[str, int | None, str]] = []
    try:
        for name in queues:
            channel = conn.channel()
            try:
                _, count, consumers = channel.queue_declare(queue=name, passive=True)
                out.append((name, int(count), f"{consumers} consumer(s)"))
            except amqp.exceptions.NotFound:
                out.append((name, None, "no such queue"))
                continue  # the server closed the channel
            channel.close()
    finally:
        conn.close()
    return out


def queue_backlog(ctx: Context) -> None:
    report = ctx.report
    queues = list(ctx.param("queues"))
    threshold, critical = int(ctx.param("threshold")), int(ctx.param("critical"))
    if ctx.kind == "redis":
        counts = _redis_counts(ctx, queues)
    elif ctx.kind == "amqp":
        counts = _amqp_counts(ctx, queues)
    else:
        raise Refused(f"connection: queue_backlog needs a Redis or AMQP connection, not a "
                      f"{ctx.kind or 'missing'} one")  # fmt: skip
    rows: list[list[Any]] = []
    for name, count, note in counts:
        rows.append([name, count, note])
        if count is None:
            report.finding("info", name, f"queue {name!r}: {note}", "check the queue's name")
            continue
        report.metric(f"queue.{name}", count)
        if count >= critical or count >= threshold:
            report.finding(
                "critical" if count >= critical else "warning", name,
                f"queue {name!r} has {count} messages waiting (threshold {threshold})",
                "add workers for this queue or find why they stopped consuming",
            )  # fmt: skip
    report.metric("messages", sum(c or 0 for _, c, _ in counts))
    report.table("queues", ["queue", "messages", "note"], rows)
    ctx.log(", ".join(f"{n}={c}" for n, c, _ in counts))
