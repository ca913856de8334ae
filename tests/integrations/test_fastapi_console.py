"""The console under a prefix of the user's FastAPI app, in a real browser: the login page at
/tickwork/login, the dashboard after login, a job listed, every request under /tickwork."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import httpx2 as httpx
import pytest

from tests.browser.conftest import CHROMIUM_ARGS, chromium_path, missing
from tests.conftest import requirement_missing
from tests.integrations.gunicorn import ROOT, free_port, wait_for
from tickwork.service import Tickwork
from tickwork.settings import Settings

pytestmark = [pytest.mark.browser, pytest.mark.sqlite]


def test_console_mounted_under_a_prefix(tmp_path: Path) -> None:
    lacking = missing()
    if lacking:
        requirement_missing(f"the browser test needs {lacking}")
    url = f"sqlite:///{tmp_path / 'tw.db'}"
    password = secrets.token_urlsafe(16)
    tw = Tickwork(settings=Settings(data_dir=tmp_path, database_url=url))
    try:
        tw.accounts.set_secret_key(secrets.token_urlsafe(32))  # the users' hashes need no key
        tw.accounts.create_user("admin", password, "admin", by="test")
    finally:
        tw.close()
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "TICKWORK_DATA_DIR": str(tmp_path),
        "TICKWORK_SECRET_KEY": secrets.token_urlsafe(32),
        "TICKWORK_TEST_LEDGER": str(tmp_path / "ledger"),
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
    argv += ["--port", str(port), "--log-level", "warning"]
    base = f"http://127.0.0.1:{port}"
    with open(tmp_path / "uvicorn.log", "ab") as log:
        server = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=log)
        try:

            def up() -> bool:
                try:
                    return httpx.get(f"{base}/hello", timeout=2).status_code == 200
                except httpx.HTTPError:
                    return False

            wait_for("the app", up)
            _drive(base, password)
        finally:
            server.terminate()
            server.wait(30)


def _drive(base: str, password: str) -> None:
    from playwright.sync_api import sync_playwright

    outside: list[str] = []
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(locale="en-US").new_page()
            page.on(
                "request", lambda r: outside.append(r.url) if "/tickwork" not in r.url else None
            )
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto(f"{base}/tickwork/jobs")  # a deep link: the login page, then back here
            page.wait_for_url(re.compile(r"/tickwork/login\?next="))
            page.fill("input[name=username]", "admin")
            page.fill("input[name=password]", password)
            page.click("button[type=submit]")
            page.wait_for_selector("header.top")
            page.wait_for_url(re.compile(r"/tickwork/jobs$"))
            page.get_by_text("atick").first.wait_for()
            page.click("a[href='/runs']")
            page.wait_for_url(re.compile(r"/tickwork/runs$"))
        finally:
            browser.close()
    assert outside == []  # every page, script, style and API call stayed under the prefix
    assert [e for e in errors if "401" not in e] == []
