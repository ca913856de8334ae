"""vacuum_redis_cache, queue_backlog and cleanup_log_files against a real Redis, a real
RabbitMQ and a real directory: only the right keys and files go, backlogs are counted where
Celery keeps them."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.builtins.conftest import findings, run_builtin
from tickwork.builtins.resp import Redis
from tickwork.errors import InvalidInput
from tickwork.targets import kinds


@pytest.fixture
def redis(redis_url: str) -> Iterator[tuple[Redis, str]]:
    prefix = f"mnt_{uuid.uuid4().hex[:8]}"
    client = Redis(redis_url)
    yield client, prefix
    cursor: object = b"0"
    while True:
        cursor, keys = client.command("SCAN", cursor, "MATCH", f"{prefix}*", "COUNT", 1000)
        if keys:
            client.command("DEL", *keys)
        if cursor == b"0":
            break
    client.close()


def test_only_keys_under_the_patterns_without_ttl_go(redis: tuple[Redis, str],
                                                     redis_url: str) -> None:  # fmt: skip
    client, p = redis
    for i in range(300):
        client.command("SET", f"{p}:dashboard:{i}", "x")  # no TTL: goes
    client.command("SET", f"{p}:stats:ttl", "x", "EX", 3600)  # a TTL, fresh: stays
    client.command("SET", f"{p}:stats:none", "x")  # no TTL: goes
    client.command("SET", f"{p}:session:1", "x")  # outside the patterns: stays
    client.command("SET", f"{p}dashboard:look-alike", "x")  # not under "{p}:dashboard:"
    spec = {"name": "vacuum_redis_cache", "patterns": [f"{p}:dashboard:*", f"{p}:stats:*"],
            "idle_s": 3600}  # fmt: skip
    dry = run_builtin(redis_url, **spec)
    assert dry["metrics"]["keys_matched"] == 301
    assert dry["metrics"]["keys_unlinked"] == 0
    assert client.command("EXISTS", f"{p}:dashboard:0") == 1
    bounded = run_builtin(redis_url, **spec, dry_run=False, max_delete=100)
    assert bounded["metrics"]["keys_unlinked"] == 100
    done = run_builtin(redis_url, **spec, dry_run=False)
    assert done["metrics"]["keys_unlinked"] == 201
    left = sorted(k.decode() for k in client.command("KEYS", f"{p}*"))  # test only
    assert left == sorted([f"{p}:stats:ttl", f"{p}:session:1", f"{p}dashboard:look-alike"])
    # idle_s 0: every key under the patterns is idle long enough, TTL or not
    everything = run_builtin(redis_url, **{**spec, "idle_s": 0}, dry_run=False)
    assert everything["metrics"]["keys_unlinked"] == 1


@pytest.mark.parametrize("pattern", ["*", "**", "?*", "[a-z]*", ""])
def test_a_pattern_without_a_literal_prefix_is_refused(pattern: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        kinds.get("builtin").validate(
            {"name": "vacuum_redis_cache", "connection": "cache", "patterns": [pattern]}
        )
    assert caught.value.field == "target.patterns[0]"


def test_celery_queue_backlog_on_redis(redis: tuple[Redis, str], redis_url: str) -> None:
    client, p = redis
    queue = f"{p}_celery"
    client.command("LPUSH", queue, *["m"] * 700)
    client.command("LPUSH", f"{queue}\x06\x163", *["m"] * 400)  # a priority step's list
    client.command("LPUSH", f"{p}_quiet", "m")
    result = run_builtin(redis_url, name="queue_backlog", queues=[queue, f"{p}_quiet"])
    assert result["metrics"][f"queue.{queue}"] == 1100
    assert result["metrics"][f"queue.{p}_quiet"] == 1
    assert [(f["severity"], f["object"]) for f in result["findings"]] == [("warning", queue)]
    # the built-in's name is the findings' kind: what an alert rule's finding_kind matches
    assert [f["kind"] for f in result["findings"]] == ["queue_backlog"]
    critical = run_builtin(redis_url, name="queue_backlog", queues=[queue], critical=1000)
    assert [f["severity"] for f in critical["findings"]] == ["critical"]


def test_queue_backlog_on_rabbitmq(rabbitmq_url: str) -> None:
    amqp = pytest.importorskip("amqp")
    from urllib.parse import urlsplit

    parts = urlsplit(rabbitmq_url)
    name = f"mnt_q_{uuid.uuid4().hex[:8]}"
    conn = amqp.Connection(host=f"{parts.hostname}:{parts.port or 5672}",
                           userid=parts.username, password=parts.password)  # fmt: skip
    conn.connect()
    channel = conn.channel()
    try:
        channel.queue_declare(queue=name, durable=False, auto_delete=False)
        for _ in range(1200):
            channel.basic_publish(amqp.Message(b"x"), exchange="", routing_key=name)
        result = None
        for _ in range(50):  # the broker counts a publish once it is routed
            result = run_builtin(rabbitmq_url, name="queue_backlog",
                                 queues=[name, f"{name}_missing"])  # fmt: skip
            if result["metrics"].get(f"queue.{name}") == 1200:
                break
        assert result is not None
        assert result["metrics"][f"queue.{name}"] == 1200
        assert ("warning", name) in [(f["severity"], f["object"]) for f in result["findings"]]
        assert ("info", f"{name}_missing") in [(f["severity"], f["object"])
                                               for f in result["findings"]]  # fmt: skip
    finally:
        channel.queue_delete(name)
        conn.close()


def test_old_log_files_inside_the_allowed_root_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "logs"
    root.mkdir()
    old = os.stat(root).st_mtime - 40 * 86_400
    for name in ("app.log", "app.log.1", "notes.txt"):
        (root / name).write_text("x" * 100)
        os.utime(root / name, (old, old))
    (root / "fresh.log").write_text("x")
    outside = tmp_path / "elsewhere.log"
    outside.write_text("x")
    os.utime(outside, (old, old))
    (root / "link.log").symlink_to(outside)
    spec = {"name": "cleanup_log_files", "connection": False, "path": str(root)}
    none = run_builtin("", **spec)
    assert "TICKWORK_MAINTENANCE_ROOTS" in none["failed"]
    monkeypatch.setenv("TICKWORK_MAINTENANCE_ROOTS", str(root))
    escape = run_builtin("", **{**spec, "path": str(root / "..")})
    assert "outside the allowed roots" in escape["failed"]
    dry = run_builtin("", **spec)
    assert dry["metrics"]["files_matched"] == 2
    assert (root / "app.log").exists()
    done = run_builtin("", **spec, dry_run=False)
    assert done["metrics"]["files_removed"] == 2
    assert sorted(p.name for p in root.iterdir()) == ["fresh.log", "link.log", "notes.txt"]
    assert outside.exists()
    assert not findings(done, "warning")
