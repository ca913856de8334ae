"""Canary secrets: a database password in a job kwarg marked secret, and an API token, never
appear in logs, run records, audit records or API responses, while the job really receives
the password when it runs."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.api.conftest import Api, job_body
from tickwork.store.tables import metadata

CANARY = "Canary-DB-Pa55word-7f3a9c"


class Recorder:
    """Every response body the test saw (except the one that shows a new token once)."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def __call__(self, response: Any) -> Any:
        self.texts.append(f"{response.status_code} {dict(response.headers)} {response.text}")
        return response


def dump_tables(api: Api) -> dict[str, str]:
    out = {}
    with api.tw.store.db.read() as conn:
        for table in metadata.sorted_tables:
            rows = conn.execute(sa.select(table)).mappings().all()
            out[table.name] = str([dict(r) for r in rows])
    return out


def test_secrets_stay_secret_but_reach_the_job(
    api: Api, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    seen = Recorder()
    admin = api.client("admin")
    out = tmp_path / "received.txt"
    body = job_body(
        "db-backup",
        target={"ref": "tests.api.tasks:use_password",
                "kwargs": {"password": CANARY, "out": str(out)}},
        secret_keys=["password"],
    )  # fmt: skip
    seen(admin.post("/api/jobs", json=body))
    created = admin.post("/api/tokens", json={"name": "automation", "role": "operator"})
    token = created.json()["token"]  # this response is the one place the token appears
    bot = api.client()
    bot.headers["Authorization"] = f"Bearer {token}"
    api.tw.start()
    try:
        run_id = seen(bot.post("/api/jobs/db-backup/run")).json()["run_id"]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            run = seen(bot.get(f"/api/runs/{run_id}")).json()
            if run["status"] not in ("scheduled", "running"):
                break
            time.sleep(0.1)
        assert run["status"] == "succeeded", run
        assert out.read_text() == CANARY  # the job got the real password
        log = seen(bot.get(f"/api/runs/{run_id}/log")).text
        assert "connecting with password=******" in log
        assert run["result"] is not None
        assert "******" in run["result"]
        seen(bot.get(f"/api/runs/{run_id}/log/stream"))
        for path in ("/api/jobs", "/api/jobs/db-backup", "/api/runs", "/api/stats",
                     "/api/jobs/db-backup/stats", "/api/jobs/db-backup/history",
                     "/api/scheduler", "/metrics", "/api/me", "/api/tokens"):  # fmt: skip
            seen(bot.get(path))
        for path in ("/api/audit", "/api/tokens?all=true", "/api/users"):
            seen(admin.get(path))
        # an edit that sends the masked value back, and a removal: audited, still masked
        job = seen(admin.get("/api/jobs/db-backup")).json()
        seen(
            admin.patch("/api/jobs/db-backup", json={"target": {"kwargs": job["target"]["kwargs"]}})
        )
        stored = api.tw.get_job("db-backup")
        assert stored is not None
        assert stored.kwargs["password"] == CANARY
        seen(admin.delete("/api/jobs/db-backup"))
        seen(admin.get("/api/audit"))
    finally:
        api.tw.shutdown(wait=True)

    responses = "\n".join(seen.texts)
    assert CANARY not in responses
    assert token not in responses
    tables = dump_tables(api)
    for name in ("tw_run", "tw_audit_event", "tw_api_token", "tw_session", "tw_user"):
        assert CANARY not in tables[name], name
    assert token not in str(tables)
    logged = caplog.text + "\n".join(r.getMessage() for r in caplog.records)
    assert CANARY not in logged
    assert token not in logged
