"""Every job kind end to end through a real scheduler node, on SQLite, PostgreSQL and MariaDB
stores (issue 17): a shell command, an HTTP request to a server of the test's own on
127.0.0.1 (allowed for the test), SQL on a named connection to each database, a stored
script. Connection secrets are canaries: they never appear in a run record."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.engine.conftest import wait_for
from tests.targets.local_http import LocalServer, local_server
from tickwork import Tickwork
from tickwork.clock import FakeClock
from tickwork.engine.node import NodeOptions
from tickwork.settings import Settings
from tickwork.store.records import RunRecord

CANARY = "canary-c0nn-secret-5eb1"
pytestmark = pytest.mark.usefixtures("backend")


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with local_server() as s:
        yield s


@pytest.fixture
def tw(db_url: str, tmp_path: Path, clock: FakeClock) -> Iterator[Tickwork]:
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=db_url,
        timezone="UTC",
        ssrf_allow=("127.0.0.1/32",),
    )
    node = NodeOptions(workers={"thread": 4, "process": 2, "asyncio": 4}, shutdown_wait_s=5)
    t = Tickwork(settings=settings, clock=clock, node_options=node)
    yield t
    t.close()


def run_now(tw: Tickwork, job_id: str, **params: Any) -> RunRecord:
    assert isinstance(tw.clock, FakeClock)
    tw.clock.advance(1)  # each manual run at its own instant
    run_id = tw.run_job(job_id, params={"kwargs": params} if params else None, by="test")
    done: list[RunRecord] = []

    def ended() -> bool:
        run = tw.get_run(run_id)
        if run.status in ("scheduled", "running"):
            return False
        done.append(run)
        return True

    wait_for(ended, timeout=60, what=f"run {run_id} of {job_id}")
    return done[0]


def assert_no_canary(tw: Tickwork, *runs: RunRecord) -> None:
    for run in runs:
        for text in (run.result, run.error, run.log, run.traceback):
            assert CANARY not in (text or ""), text


@pytest.mark.parametrize("executor", ["thread", "process", "asyncio"])
def test_a_shell_job(tw: Tickwork, executor: str) -> None:
    tw.add_job(
        {"kind": "shell", "command": ["/bin/sh", "-c", "echo out-$GREETING; echo err >&2"],
         "env": {"GREETING": "hi"}},
        "@daily", id="sh", executor=executor,
    )  # fmt: skip
    tw.add_job({"kind": "shell", "command": "exit 7", "shell": True}, "@daily", id="sh-bad")
    tw.start()
    run = run_now(tw, "sh")
    assert run.status == "succeeded", run.error
    assert json.loads(run.result or "") == {"exit_code": 0, "stdout": "out-hi\n", "stderr": "err\n"}
    assert "out-hi" in (run.log or "")
    bad = run_now(tw, "sh-bad")
    assert (bad.status, bad.error) == ("failed", "the command exited with code 7 (accepted: 0)")
    assert json.loads(bad.result or "")["exit_code"] == 7


def test_an_http_job_with_a_named_connection(
    tw: Tickwork, server: LocalServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # the scheduler's own log, at its most talkative
    tw.add_connection(
        "local-api",
        "http",
        {"base_url": server.url, "auth_value": f"Bearer {CANARY}"},
    )
    tw.add_job({"kind": "http", "url": f"{server.url}/ok"}, "@daily", id="plain")
    tw.add_job(
        {"kind": "http", "method": "POST", "url": "/echo", "connection": "local-api",
         "json": {"n": 1}, "params": {"q": "x"}},
        "@daily", id="with-auth", parameters=[{"name": "day", "type": "string"}],
    )  # fmt: skip
    tw.add_job({"kind": "http", "url": f"{server.url}/status/503"}, "@daily", id="down")
    tw.start()
    plain = run_now(tw, "plain")
    assert plain.status == "succeeded", plain.error
    assert json.loads(plain.result or "")["status"] == 200
    echoed = run_now(tw, "with-auth", day="monday")
    assert echoed.status == "succeeded", echoed.error
    result = json.loads(echoed.result or "")
    body = json.loads(result["body"].replace("******", "MASKED"))
    assert body["method"] == "POST"
    assert body["body"] == '{"n":1}'
    assert body["path"] == "/echo?q=x&day=monday"  # a declared parameter: a query value
    assert body["headers"]["Authorization"] == "MASKED"  # sent, and masked in the record
    seen = server.seen[-1]
    assert seen.headers["Authorization"] == f"Bearer {CANARY}"
    down = run_now(tw, "down")
    assert down.status == "failed"
    assert down.error == "HTTP 503 Service Unavailable (expected 200-299)"
    assert_no_canary(tw, plain, echoed, down)
    assert CANARY not in caplog.text


def test_an_http_job_to_a_refused_address_fails_without_connecting(
    tw: Tickwork, server: LocalServer
) -> None:
    """localhost resolves to 127.0.0.1, which the test allows only as an address: a name is
    refused unless allowed by name (a name may resolve anywhere tomorrow)."""
    tw.add_job({"kind": "http", "url": "http://169.254.169.254.nip.test/"}, "@daily", id="x")
    tw.start()
    run = run_now(tw, "x")
    assert run.status == "failed"
    assert (run.error or "").startswith("refused by the SSRF guard") or "does not resolve" in (
        run.error or ""
    )
    assert server.seen == []


@pytest.mark.parametrize("target_backend", ["sqlite", "postgres", "mysql"])
def test_a_sql_job_on_each_database(
    tw: Tickwork, target_backend: str, tmp_path: Path, server_database: Any
) -> None:
    from tests.conftest import database_url

    url = database_url(target_backend, tmp_path / "target", server_database)
    if target_backend == "sqlite":
        (tmp_path / "target").mkdir(exist_ok=True)
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE IF EXISTS kinds_probe"))
        conn.execute(sa.text("CREATE TABLE kinds_probe (id INTEGER PRIMARY KEY, name VARCHAR(50))"))
        conn.execute(sa.text("INSERT INTO kinds_probe VALUES (1, 'a'), (2, 'b'), (3, 'c')"))
    engine.dispose()
    # the password of a server database is the canary (PostgreSQL trusts, MariaDB ignores it
    # for root@127.0.0.1 without one: the URL without a password is what connects)
    tw.add_connection("target", "database", {"url": url})
    injection = "x' OR '1'='1"
    tw.add_job(
        {"kind": "sql", "connection": "target",
         "statement": "SELECT id, name FROM kinds_probe WHERE name = :name OR id >= :low "
                      "ORDER BY id",
         "params": {"name": injection, "low": 2}},
        "@daily", id="query", parameters=[{"name": "low", "type": "integer", "minimum": 1}],
    )  # fmt: skip
    tw.add_job(
        {"kind": "sql", "connection": "target",
         "statement": "UPDATE kinds_probe SET name = 'z' WHERE id <= 2"},
        "@daily", id="update",
    )  # fmt: skip
    tw.add_job(
        {"kind": "sql", "connection": "target", "read_only": True,
         "statement": "DELETE FROM kinds_probe"},
        "@daily", id="read-only",
    )  # fmt: skip
    tw.start()
    query = run_now(tw, "query")
    assert query.status == "succeeded", query.error
    assert json.loads(query.result or "") == {
        "row_count": 2, "columns": ["id", "name"], "rows": [[2, "b"], [3, "c"]],
    }  # fmt: skip
    low = run_now(tw, "query", low=3)  # the operator binds a value; the statement is fixed
    assert json.loads(low.result or "")["rows"] == [[3, "c"]]
    update = run_now(tw, "update")
    assert json.loads(update.result or "") == {"row_count": 2}
    refused = run_now(tw, "read-only")
    assert refused.status == "failed"
    assert refused.error
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM kinds_probe")).scalar_one() == 3
        # the servers' test databases are shared by the session: leave no table behind
        conn.execute(sa.text("DROP TABLE kinds_probe"))
    engine.dispose()


def test_a_script_job_follows_the_latest_version_or_a_pinned_one(tw: Tickwork) -> None:
    tw.push_script("greet", "print('version one')\n", language="python", message="first")
    tw.push_script("greet", "print('version two')\n", message="second")
    tw.add_job({"kind": "script", "language": "python", "script": "greet"}, "@daily", id="latest")
    tw.add_job(
        {"kind": "script", "language": "python", "script": "greet", "version": 1},
        "@daily", id="pinned",
    )  # fmt: skip
    tw.start()
    latest = run_now(tw, "latest")
    assert latest.status == "succeeded", (latest.error, latest.result)
    assert "version two" in (latest.log or "")
    pinned = run_now(tw, "pinned")
    assert "version one" in (pinned.log or "")
    tw.push_script("greet", "print('version three')\n", message="third")
    wait_for(lambda: "version three" in (run_now(tw, "latest").log or ""), timeout=30)


def test_a_switched_off_kind_is_recorded_failed_saying_why(
    db_url: str, tmp_path: Path, clock: FakeClock
) -> None:
    """Jobs that exist when the deployment turns shell jobs off are recorded failed."""
    base = Settings(data_dir=tmp_path / "d", database_url=db_url, timezone="UTC")
    first = Tickwork(settings=base, clock=clock)
    first.add_job({"kind": "shell", "command": ["true"]}, "@daily", id="old-shell", owner="python")
    first.close()
    from dataclasses import replace

    off = Tickwork(settings=replace(base, kinds_off=frozenset({"shell"})), clock=clock)
    try:
        off.start()
        run = run_now(off, "old-shell")
        assert run.status == "failed"
        assert "shell jobs are switched off" in (run.error or "")
        assert "TICKWORK_SHELL=off" in (run.error or "")
    finally:
        off.close()
