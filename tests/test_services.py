"""The probes and fixtures of the message servers (tests/services.py): they find the real
servers, and say what is wrong when a server is missing or something else holds its port."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from tests import conftest, services


def test_redis_answers(redis_url: str) -> None:
    assert services.redis_problem(redis_url) is None


def test_rabbitmq_answers(rabbitmq_url: str) -> None:
    assert services.rabbitmq_problem(rabbitmq_url) is None


def test_the_fixtures_mark_their_tests() -> None:
    class Item:
        def __init__(self, *fixturenames: str) -> None:
            self.fixturenames = fixturenames
            self.markers: list[str] = []

        def add_marker(self, marker: pytest.MarkDecorator) -> None:
            self.markers.append(marker.name)

    items = [Item("redis_url", "tmp_path"), Item("rabbitmq_url", "redis_url"), Item("tmp_path")]
    conftest.pytest_collection_modifyitems(items)  # type: ignore[arg-type]
    assert [item.markers for item in items] == [["redis"], ["redis", "rabbitmq"], []]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def chatty_port() -> Iterator[int]:
    """A port whose server answers anything with an HTTP error, like a stray web server."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.05)  # so the loop sees the end of the test
    port = int(server.getsockname()[1])
    done = threading.Event()

    def serve() -> None:
        while not done.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(5)
                conn.recv(4096)
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield port
    done.set()
    thread.join(5)
    server.close()


def test_a_closed_port_is_named_with_the_reason() -> None:
    port = free_port()
    redis = services.redis_problem(f"redis://127.0.0.1:{port}/0", timeout_s=1)
    amqp = services.rabbitmq_problem(f"amqp://guest:guest@127.0.0.1:{port}//", timeout_s=1)
    for problem in (redis, amqp):
        assert problem is not None
        assert f"127.0.0.1:{port}" in problem
        assert "refused" in problem.lower()


def test_another_server_on_the_port_does_not_pass_for_them(chatty_port: int) -> None:
    redis = services.redis_problem(f"redis://127.0.0.1:{chatty_port}/0", timeout_s=2)
    assert redis is not None
    assert "did not answer PING" in redis
    amqp = services.rabbitmq_problem(f"amqp://127.0.0.1:{chatty_port}//", timeout_s=2)
    assert amqp is not None
    assert "AMQP 0-9-1" in amqp
