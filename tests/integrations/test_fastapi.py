"""FastAPI: the lifespan runs the scheduler (async jobs on the asyncio executor) and Tickwork's
API mounted under /tickwork keeps its own login; under ``uvicorn --workers 4`` one worker runs
the scheduler and every fire runs once."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.integrations import ledger
from tests.integrations.fastapi_app import create_app
from tests.integrations.gunicorn import ROOT, free_port, wait_for
from tickwork.accounts.records import Principal
from tickwork.accounts.roles import Role
from tickwork.errors import InvalidInput
from tickwork.integrations.fastapi import mount
from tickwork.service import Tickwork
from tickwork.settings import Settings

pytestmark = pytest.mark.sqlite


def test_lifespan_and_mounted_api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TICKWORK_ELECTION_DIR", str(tmp_path / "host"))
    monkeypatch.setenv("TICKWORK_SECRET_KEY", secrets.token_urlsafe(32))
    book = str(tmp_path / "ledger")
    monkeypatch.setenv("TICKWORK_TEST_LEDGER", book)
    url = f"sqlite:///{tmp_path / 'tw.db'}"
    tw = Tickwork(settings=Settings(data_dir=tmp_path, database_url=url))
    user = tw.accounts.create_user("viewer", secrets.token_urlsafe(16), "viewer", by="test")
    token = tw.accounts.create_token(Principal(user.id, user.username, Role.VIEWER, "test"), "t")[0]
    app = create_app(tw)
    with TestClient(app) as client:
        assert tw.running  # the lifespan started the node here (the only worker)
        wait_for("two async executions", lambda: len(ledger.read(book)) >= 2)
        assert client.get("/hello").status_code == 200  # the app's own route, its own rules
        refused = client.get("/tickwork/api/jobs")
        assert refused.status_code == 401
        assert refused.json()["code"] == "unauthenticated"
        listed = client.get("/tickwork/api/jobs", headers={"Authorization": f"Bearer {token}"})
        assert listed.status_code == 200, listed.text
        assert [j["id"] for j in listed.json()["items"]] == ["atick"]
        write = client.post(
            "/tickwork/api/jobs/atick/pause", headers={"Authorization": f"Bearer {token}"}
        )
        assert write.status_code == 403  # a viewer's token: Tickwork's roles hold
        spec = client.get("/tickwork/api/openapi.json")
        assert spec.status_code == 200
        assert "/api/jobs" in spec.json()["paths"]
        assert "content-security-policy" not in client.get("/hello").headers
    assert not tw.running  # stopped by the lifespan's end
    runs = Tickwork(settings=Settings(data_dir=tmp_path, database_url=url))
    try:
        done = [r for r in runs.get_runs("atick", limit=1000) if r.status == "succeeded"]
    finally:
        runs.close()
    assert len(done) == len(ledger.read(book))


def test_mount_prefix_is_checked(tmp_path: Path) -> None:
    from fastapi import FastAPI

    tw = Tickwork(settings=Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path}/t.db"))
    try:
        with pytest.raises(InvalidInput) as refused:
            mount(FastAPI(), tw, prefix="tickwork/", secret_key=secrets.token_urlsafe(32))
        assert refused.value.field == "prefix"
    finally:
        tw.close()


@pytest.mark.slow
def test_uvicorn_four_workers_fire_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'tw.db'}"
    book = str(tmp_path / "ledger")
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "TICKWORK_DATA_DIR": str(tmp_path),
        "TICKWORK_SECRET_KEY": secrets.token_urlsafe(32),
        "TICKWORK_TEST_LEDGER": book,
        "TICKWORK_ELECTION_DIR": str(tmp_path / "host"),
        "TEST_APP_DATABASE_URL": url,
    }
    argv = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "tests.integrations.fastapi_app:app_from_env",
    ]
    argv += ["--workers", "4", "--port", str(free_port()), "--log-level", "warning"]
    with open(tmp_path / "uvicorn.log", "ab") as log:
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=log)
        try:
            wait_for("4 executions", lambda: len(ledger.read(book)) >= 4)
        finally:
            proc.terminate()
            proc.wait(30)
    lines = ledger.read(book)
    assert len(Counter(line["pid"] for line in lines)) == 1  # one elected worker
    tw = Tickwork(settings=Settings(data_dir=tmp_path, database_url=url))
    try:
        runs = tw.get_runs("atick", limit=10_000)
    finally:
        tw.close()
    fires = Counter(r.scheduled_for for r in runs)
    assert max(fires.values()) == 1
    assert sum(r.status == "succeeded" for r in runs) == len(lines)
