"""Issue 9, item 8: small things with a real edge. Malformed cursors and a year-0 date range
answered 500 (now 400 naming the parameter); a database outage answered 500 (now 503 with
Retry-After); the SQLite single-scheduler lock was bypassed through a hard link."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.conftest import Api, job_body
from tickwork.engine.single_node_lock import SchedulerAlreadyRunning
from tickwork.service import Tickwork
from tickwork.settings import Settings


def cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


BAD_INT_CURSORS = [
    cursor("9999999999999999999"),  # 19 digits, beyond a 64-bit row id
    cursor("²³"),  # superscript digits: str.isdigit() says yes, int() says no
    cursor("٣"),  # an Arabic-Indic digit
    cursor("-5"),
    cursor("0"),
    "%%%",
]
BAD_KEY_CURSORS = [
    cursor(json.dumps([1.5, "a"])),
    cursor(json.dumps([[1], "a"])),
    cursor(json.dumps(["x", 5])),
    cursor(json.dumps([True, "a"])),
    cursor(json.dumps([10**30, "a"])),
    cursor(json.dumps(["a"])),
    cursor(json.dumps({"a": 1})),
    cursor("9" * 19),
]


@pytest.mark.parametrize("value", BAD_INT_CURSORS)
@pytest.mark.parametrize("path", ["/api/runs", "/api/audit", "/api/jobs/j/history"])
def test_a_malformed_id_cursor_is_400_naming_it(lite_api: Api, path: str, value: str) -> None:
    admin = lite_api.client("admin")
    admin.post("/api/jobs", json=job_body("j"))
    response = admin.get(path, params={"cursor": value})
    assert response.status_code == 400, response.text
    assert response.json()["field"] == "cursor"


@pytest.mark.parametrize("value", BAD_KEY_CURSORS)
@pytest.mark.parametrize("sort", ["name", "-group", "next_fire_at", "-next_fire_at"])
def test_a_malformed_sort_cursor_is_400_naming_it(lite_api: Api, sort: str, value: str) -> None:
    admin = lite_api.client("admin")
    admin.post("/api/jobs", json=job_body("j"))
    response = admin.get("/api/jobs", params={"cursor": value, "sort": sort})
    assert response.status_code == 400, response.text
    assert response.json()["field"] == "cursor"


EDGE_INSTANTS = [
    ("since", "0001-01-01T00:00:00+01:00"),  # before year 1 in UTC
    ("until", "9999-12-31T23:59:59-01:00"),  # after year 9999 in UTC
]


@pytest.mark.parametrize(("name", "moment"), EDGE_INSTANTS)
@pytest.mark.parametrize("path", ["/api/runs", "/api/audit", "/api/stats", "/api/jobs/j/stats"])
def test_dates_beyond_the_calendar_are_400_naming_the_parameter(
    lite_api: Api, path: str, name: str, moment: str
) -> None:
    admin = lite_api.client("admin")
    admin.post("/api/jobs", json=job_body("j"))
    response = admin.get(path, params={name: moment})
    assert response.status_code == 400, response.text
    assert response.json()["field"] == name


def test_a_token_expiring_beyond_the_calendar_is_refused(lite_api: Api) -> None:
    response = lite_api.client("viewer").post(
        "/api/tokens", json={"name": "far", "expires_at": "9999-12-31T23:59:59-01:00"}
    )
    assert response.status_code in (400, 422), response.text
    assert response.json()["field"] == "expires_at"


# -- a database outage -------------------------------------------------------------------------
class Proxy:
    """A TCP proxy from a free port of 127.0.0.1 to the test PostgreSQL server: closing it is a
    database outage for whoever connects through it (the shared server itself is untouched)."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(32)
        self.port = self.listener.getsockname()[1]
        self.sockets: list[socket.socket] = []
        self.open = True
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while self.open:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.open:
                client.close()
                return
            server = socket.create_connection(self.upstream)
            self.sockets += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        """The outage: no new connections, and every open one is cut."""
        self.open = False
        self.listener.close()
        for s in self.sockets:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()


@pytest.fixture
def outage_api(
    server_database: object, tmp_path: Path, api_factory: object
) -> Iterator[tuple[Api, Proxy]]:
    from sqlalchemy.engine import make_url

    from tests.api.conftest import fresh_url

    url = make_url(fresh_url("postgres", tmp_path, server_database))
    proxy = Proxy((url.host or "127.0.0.1", url.port or 5432))
    through = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    api = api_factory(through)  # type: ignore[operator]
    yield api, proxy
    proxy.cut()


@pytest.mark.postgres
def test_a_database_outage_is_503_with_retry_after(outage_api: tuple[Api, Proxy]) -> None:
    api, proxy = outage_api
    admin = api.client("admin")
    assert admin.post("/api/jobs", json=job_body("before")).status_code == 201
    proxy.cut()
    for method, path, body in (
        ("GET", "/api/jobs", None),
        ("GET", "/api/runs", None),
        ("POST", "/api/jobs", job_body("during")),
        ("POST", "/api/jobs/before/run", None),
    ):
        response = admin.request(method, path, json=body)
        assert response.status_code == 503, (path, response.text)
        assert int(response.headers["Retry-After"]) >= 1
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["code"] == "database_unavailable", response.text
        assert response.json()["params"] == {"seconds": int(response.headers["Retry-After"])}
    ready = api.client().get("/readyz")
    assert ready.status_code == 503


# -- the SQLite scheduler lock -----------------------------------------------------------------
def test_a_hard_link_in_another_directory_meets_the_same_scheduler_lock(tmp_path: Path) -> None:
    first_dir, other_dir = tmp_path / "a", tmp_path / "b"
    first_dir.mkdir()
    other_dir.mkdir()
    first = Tickwork(settings=Settings(data_dir=first_dir, timezone="UTC"))
    first.start()
    try:
        raw = first.store.db.engine.raw_connection()  # the other name sees no WAL: checkpoint
        try:
            raw.driver_connection.execute("PRAGMA wal_checkpoint(PASSIVE)")  # type: ignore[union-attr]
        finally:
            raw.close()
        os.link(first_dir / "tickwork.db", other_dir / "tickwork.db")
        second = Tickwork(settings=Settings(data_dir=other_dir, timezone="UTC"))
        try:
            with pytest.raises(SchedulerAlreadyRunning, match="SQLite supports one scheduler"):
                second.start()
        finally:
            second.close()
    finally:
        first.close()
    # released with the first node: the linked name may run one now
    third = Tickwork(settings=Settings(data_dir=other_dir, timezone="UTC"))
    try:
        third.start()
        assert third.running
    finally:
        third.close()
