"""Issue 9, item 7: secrets stay secret.

A secret whose value was a dict or list was not masked in run results, logs, the live log
stream or the server log; the SQLite database and its WAL were created world-readable (0644)
and held job secrets in clear. Now every piece of a secret is masked, whatever its shape; the
data directory is 0700 and its files 0600; job secrets are encrypted at rest (AES-256-GCM, the
vault of tickwork.connections) and decrypted only when a node hands them to the job."""

from __future__ import annotations

import logging
import stat
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.api.conftest import Api, job_body
from tests.api.test_canary import dump_tables
from tickwork.executors.capture import MaskRunSecrets
from tickwork.service import Tickwork
from tickwork.settings import Settings

LEAF = "Nested-Leaf-Pa55-4e1b"
TOKEN = "tok-Nested-Canary-77aa"
CLEAR = "Clear-Text-Canary-31c9"


def run_to_end(api: Api, job_id: str) -> dict[str, object]:
    run_id = api.client("operator").post(f"/api/jobs/{job_id}/run").json()["run_id"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        run = api.client("viewer").get(f"/api/runs/{run_id}").json()
        if run["status"] not in ("scheduled", "running"):
            return run  # type: ignore[no-any-return]
        time.sleep(0.05)
    raise AssertionError("the run did not end")


def test_a_secret_of_any_shape_is_masked_everywhere(
    api: Api, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.handler.addFilter(MaskRunSecrets())  # what `tickwork serve` puts on its handlers
    out = tmp_path / "received.txt"
    creds = {"user": "svc", "password": LEAF, "tokens": [TOKEN, {"deep": [TOKEN + "-2"]}]}
    body = job_body(
        "nested",
        target={"ref": "tests.api.tasks:use_nested_secret",
                "kwargs": {"creds": creds, "out": str(out)}},
        secret_keys=["creds"],
    )  # fmt: skip
    assert api.client("admin").post("/api/jobs", json=body).status_code == 201
    api.tw.start()
    try:
        run = run_to_end(api, "nested")
        viewer = api.client("viewer")
        texts = [
            str(run),
            viewer.get(f"/api/runs/{run['id']}").text,
            viewer.get(f"/api/runs/{run['id']}/log").text,
            viewer.get(f"/api/runs/{run['id']}/log/stream").text,
            viewer.get("/api/jobs/nested").text,
            viewer.get("/api/jobs/nested/history").text,
            api.client("admin").get("/api/audit").text,
        ]
    finally:
        api.tw.shutdown(wait=True)
    assert run["status"] == "succeeded", run
    assert out.read_text() == LEAF  # the job got the real value
    assert "connecting as svc with ******" in texts[2]
    everything = "\n".join(texts) + caplog.text
    for secret in (LEAF, TOKEN):
        assert secret not in everything
    tables = dump_tables(api)
    for name in ("tw_run", "tw_audit_event"):
        assert LEAF not in tables[name], name
        assert TOKEN not in tables[name], name


def test_job_secrets_are_encrypted_at_rest(api: Api, tmp_path: Path) -> None:
    out = tmp_path / "received.txt"
    body = job_body(
        "vaulted",
        target={"ref": "tests.api.tasks:use_password",
                "kwargs": {"password": CLEAR, "out": str(out)}},
        secret_keys=["password"],
    )  # fmt: skip
    assert api.client("admin").post("/api/jobs", json=body).status_code == 201
    assert CLEAR not in dump_tables(api)["tw_job"]
    job = api.tw.get_job("vaulted")
    assert job is not None
    assert job.kwargs["password"] == CLEAR  # the Python API opens it
    api.tw.start()
    try:
        assert run_to_end(api, "vaulted")["status"] == "succeeded"
    finally:
        api.tw.shutdown(wait=True)
    assert out.read_text() == CLEAR
    # an edit that sends the mask back keeps the stored secret, still encrypted
    admin = api.client("admin")
    shown = admin.get("/api/jobs/vaulted").json()["target"]["kwargs"]
    assert (
        admin.patch(
            "/api/jobs/vaulted", json={"description": "x", "target": {"kwargs": shown}}
        ).status_code
        == 200
    )
    assert CLEAR not in dump_tables(api)["tw_job"]
    job = api.tw.get_job("vaulted")
    assert job is not None
    assert job.kwargs["password"] == CLEAR


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_data_directory_and_its_files_are_private(tmp_path: Path) -> None:
    data = tmp_path / "fresh" / "tickwork"
    tw = Tickwork(settings=Settings(data_dir=data, timezone="UTC"))
    try:
        tw.add_job("tests.api.tasks:noop", "cron", hour=3, id="perm", kwargs={}, owner="python")
        with tw.store.db.read() as conn:
            conn.execute(sa.text("SELECT 1"))
        assert mode(data) == 0o700
        files = [data / "tickwork.db", data / "tickwork.db-wal", data / "tickwork.db-shm"]
        for path in files:
            assert path.exists(), path
            assert mode(path) == 0o600, (path, oct(mode(path)))
    finally:
        tw.close()


def test_an_existing_world_readable_database_is_tightened(tmp_path: Path) -> None:
    tw = Tickwork(settings=Settings(data_dir=tmp_path, timezone="UTC"))
    tw.close()
    (tmp_path / "tickwork.db").chmod(0o644)
    tw = Tickwork(settings=Settings(data_dir=tmp_path, timezone="UTC"))
    try:
        assert mode(tmp_path / "tickwork.db") == 0o600
    finally:
        tw.close()
