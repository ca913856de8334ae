"""Four gunicorn workers each load a Flask app configured the Flask-APScheduler way (seed
000's setup, which fired every job once per worker): with Tickwork every fire runs once. One
worker per host is elected to run the scheduler; killing it hands the node to another worker.
Two gunicorn masters (two "hosts") on one PostgreSQL database run two nodes, and the store
still runs each fire once. The ledger counts executions, the run table counts fires."""

from __future__ import annotations

import json
import os
import secrets
import signal
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests import dbs
from tests.conftest import database_url
from tests.integrations import ledger
from tests.integrations.gunicorn import gunicorn, wait_for
from tickwork.accounts.records import Principal
from tickwork.accounts.roles import Role
from tickwork.service import Tickwork
from tickwork.settings import Settings

APP = "tests.integrations.flask_app:create_app()"


def _get(port: int, path: str, token: str | None) -> tuple[int, Any]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _by_pid(lines: list[dict[str, Any]]) -> Counter[int]:
    return Counter(int(line["pid"]) for line in lines)


def _setup(url: str, data_dir: Path, key: str) -> str:
    """An admin's API token in the database (the scheduler routes need one)."""
    tw = Tickwork(settings=Settings(data_dir=data_dir, database_url=url))
    try:
        tw.accounts.set_secret_key(key)
        user = tw.accounts.create_user("ops", secrets.token_urlsafe(16), "operator", by="test")
        principal = Principal(user.id, user.username, Role.OPERATOR, via="test")
        token: str = tw.accounts.create_token(principal, "flask test")[0]
        return token
    finally:
        tw.close()


def _check_ledger_against_runs(url: str, data_dir: Path, lines: list[dict[str, Any]]) -> None:
    tw = Tickwork(settings=Settings(data_dir=data_dir, database_url=url))
    try:
        runs = tw.get_runs("tick", limit=100_000)
    finally:
        tw.close()
    fires = Counter(r.scheduled_for for r in runs if r.reason == "schedule")
    assert fires, "no scheduled run recorded"
    assert max(fires.values()) == 1, "a fire was recorded twice"
    statuses = Counter(r.status for r in runs)
    succeeded, lost = statuses["succeeded"], statuses["lost"]
    # Every recorded success is one execution; a worker killed mid-run may leave one execution
    # whose run ends `lost` (its start was recorded): never more executions than that.
    assert succeeded <= len(lines) <= succeeded + lost, (statuses, len(lines))
    assert lost <= 1, statuses
    assert all(line["app_context"] is True and line["app"] == "seed_app" for line in lines)


@pytest.mark.slow
@pytest.mark.sqlite
def test_four_workers_on_sqlite_one_scheduler_and_failover(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'tickwork.db'}"
    key = secrets.token_urlsafe(32)
    token = _setup(url, tmp_path, key)
    book = str(tmp_path / "ledger")
    env = {
        "TICKWORK_DATA_DIR": str(tmp_path),
        "TICKWORK_SECRET_KEY": key,
        "TEST_FLASK_DATABASE_URL": url,
        "TICKWORK_TEST_LEDGER": book,
        "TICKWORK_ELECTION_DIR": str(tmp_path / "host"),
        "TICKWORK_ELECTION_RETRY_S": "0.5",
    }
    with gunicorn(APP, env, workers=4, log=tmp_path / "gunicorn.log") as (_, port):
        wait_for("4 executions", lambda: len(ledger.read(book)) >= 4)
        first = _by_pid(ledger.read(book))
        assert len(first) == 1, f"several workers ran the job: {first}"
        elected = next(iter(first))

        # Flask-APScheduler's routes, behind Tickwork's tokens, from whichever worker answers
        assert _get(port, "/scheduler/jobs", None)[0] == 401
        status, jobs = _get(port, "/scheduler/jobs", token)
        assert status == 200
        assert [j["id"] for j in jobs] == ["tick"]
        assert jobs[0]["func"] == "tests.integrations.ledger:tick"

        os.kill(elected, signal.SIGKILL)  # the elected worker dies; another takes over
        wait_for(
            "3 executions by another worker",
            lambda: sum(n for p, n in _by_pid(ledger.read(book)).items() if p != elected) >= 3,
        )
    lines = ledger.read(book)
    pids = [int(line["pid"]) for line in lines]
    assert len(set(pids)) == 2, _by_pid(lines)
    switch = pids.index(next(p for p in pids if p != elected))
    assert set(pids[:switch]) == {elected}
    assert elected not in pids[switch:], "two workers ran the scheduler at once"
    _check_ledger_against_runs(url, tmp_path, lines)


@pytest.mark.slow
@pytest.mark.postgres
def test_two_hosts_of_four_workers_on_postgres_fire_once(
    tmp_path: Path, server_database: Any
) -> None:
    from tickwork.store import Store

    url = database_url("postgres", tmp_path, server_database)
    store = Store(url)
    store.upgrade()
    dbs.empty_tables(store)
    store.close()
    key = secrets.token_urlsafe(32)
    _setup(url, tmp_path, key)
    book = str(tmp_path / "ledger")
    env = {
        "TICKWORK_DATA_DIR": str(tmp_path),
        "TICKWORK_SECRET_KEY": key,
        "TEST_FLASK_DATABASE_URL": url,
        "TICKWORK_TEST_LEDGER": book,
    }
    host_a = {**env, "TICKWORK_ELECTION_DIR": str(tmp_path / "a")}
    host_b = {**env, "TICKWORK_ELECTION_DIR": str(tmp_path / "b")}
    with gunicorn(APP, host_a, workers=4, log=tmp_path / "a.log"):
        wait_for("host a's first execution", lambda: len(ledger.read(book)) >= 1)
        with gunicorn(APP, host_b, workers=4, log=tmp_path / "b.log"):
            start = len(ledger.read(book))
            wait_for("8 more executions", lambda: len(ledger.read(book)) >= start + 8)
    lines = ledger.read(book)
    assert 1 <= len(_by_pid(lines)) <= 2, _by_pid(lines)  # one elected worker per host
    _check_ledger_against_runs(url, tmp_path, lines)
