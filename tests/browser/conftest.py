"""A live ``tickwork serve`` (fresh data directory, the first admin made with the CLI) and
Debian's Chromium driven by Playwright. Without Chromium, Playwright or a built console the
tests skip, naming what is missing; with CI=true they fail instead.

Every page the tests open fails its test on a JavaScript error, a console error, a dialog
(``alert``/``confirm``: the console never uses them, an XSS would) or a Content-Security-Policy
violation the browser reports."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from tests.conftest import service_missing

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "src" / "tickwork" / "web" / "static" / "index.html"
CHROMIUM = os.environ.get("TICKWORK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ADMIN = ("admin", "admin password 42")
OPERATOR = ("oscar", "operator password 42")
SCREENSHOTS = ROOT / "docs" / "screenshots"

pytestmark = pytest.mark.browser


def chromium_path() -> str | None:
    if Path(CHROMIUM).is_file():
        return CHROMIUM
    return shutil.which("chromium")


def missing() -> str | None:
    """What the browser tests need and this machine lacks, or None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package (pip install -e '.[dev]')"
    if chromium_path() is None:
        return "Chromium (apt-get install chromium)"
    if not STATIC.is_file():
        return "the built console (make console)"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    url: str
    data_dir: Path
    process: subprocess.Popen[bytes]
    log: Path

    @contextmanager
    def api(self, user: tuple[str, str] = ADMIN) -> Iterator[httpx.Client]:
        """An HTTP client logged in as ``user``, with its CSRF header (for setting things up)."""
        with httpx.Client(base_url=self.url, timeout=10) as client:
            r = client.post("/api/auth/login", json={"username": user[0], "password": user[1]})
            r.raise_for_status()
            client.headers["X-CSRF-Token"] = r.json()["csrf_token"]
            yield client


def _cli(*args: str, env: dict[str, str], stdin: str | None = None) -> None:
    subprocess.run(
        [sys.executable, "-m", "tickwork.cli", *args],
        env=env,
        input=stdin.encode() if stdin is not None else None,
        check=True,
        capture_output=True,
        timeout=60,
    )


@contextmanager
def serving(data: Path, *args: str) -> Iterator[Server]:
    """`tickwork serve ARGS` on a free port over the data directory ``data`` (made by
    `tickwork init`, with the test admin and operator), until the block ends."""
    problem = missing()
    if problem is not None:
        service_missing("the browser test setup", f"missing {problem}")
    env = {
        **os.environ,
        "TICKWORK_DATA_DIR": str(data),
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(
            os.pathsep
        ),
        "TICKWORK_ALLOWED_TARGETS": "tests",  # what jobs made in the console may target
    }
    for name in ("TICKWORK_DATABASE_URL", "TICKWORK_SECRET_KEY", "TICKWORK_ADMIN_USER"):
        env.pop(name, None)
    _cli("init", env=env)
    _cli("users", "create-admin", ADMIN[0], "--password-stdin", env=env, stdin=ADMIN[1] + "\n")
    port = free_port()
    log = data / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "tickwork.cli", "serve", "--port", str(port), "--quiet", *args],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"tickwork serve did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)
    srv = Server(url=url, data_dir=data, process=process, log=log)
    with srv.api() as client:
        client.post(
            "/api/users",
            json={"username": OPERATOR[0], "password": OPERATOR[1], "role": "operator"},
        ).raise_for_status()
    try:
        yield srv
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serving(tmp_path_factory.mktemp("console-data")) as srv:
        yield srv


@pytest.fixture(scope="module")
def browser(server: Server) -> Iterator[Any]:
    """Chromium, for one test module: Playwright's sync API keeps an asyncio loop running in
    this thread while it is open, which other tests' ``asyncio.run()`` would trip over."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


_HANDLED = re.compile(
    r"Failed to load resource: the server responded with a status of 4(01|03|04|09|22)\b"
)


@dataclass
class Watch:
    """What a page did that a safe console never does."""

    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    csp: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        # Chromium logs every API answer >= 400 as a console error; the refusals the console
        # handles itself (not logged in, forbidden, not found, stale, invalid input) are not
        # problems.
        errors = [e for e in self.errors if not _HANDLED.search(e)]
        return (
            [f"console/page error: {e}" for e in errors]
            + [f"dialog: {d}" for d in self.dialogs]
            + [f"CSP violation: {c}" for c in self.csp]
        )


# Runs before the page's own scripts in every document (init scripts are not subject to the
# page's CSP); reports each violation to the test through an exposed function.
CSP_PROBE = """
document.addEventListener('securitypolicyviolation', (e) => {
  window.__twReportCsp(e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' ' + e.sourceFile);
});
"""


class Console:
    """A Chromium page on the console, with helpers; checks ``Watch`` when closed."""

    def __init__(self, page: Any, server: Server, watch: Watch) -> None:
        self.page = page
        self.server = server
        self.watch = watch

    def goto(self, path: str) -> None:
        self.page.goto(self.server.url + path)

    def login(self, user: tuple[str, str] = ADMIN) -> None:
        self.goto("/login")
        self.page.fill("input[name=username]", user[0])
        self.page.fill("input[name=password]", user[1])
        self.page.click("button[type=submit]")
        self.page.wait_for_selector("header.top")

    def set_lang(self, lang: str) -> None:
        self.page.select_option("[data-testid=lang]", lang)
        self.page.wait_for_function("l => document.documentElement.lang === l", arg=lang)

    def screenshot(self, name: str) -> Path:
        """Into docs/screenshots when TICKWORK_SCREENSHOTS=1 (a machine with CJK fonts),
        else into the test's temporary directory."""
        folder = SCREENSHOTS if os.environ.get("TICKWORK_SCREENSHOTS") == "1" else None
        if folder is None:
            folder = self.server.data_dir / "screenshots"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.png"
        self.page.wait_for_timeout(300)  # let charts settle
        self.page.screenshot(path=str(path), full_page=False)
        return path


@contextmanager
def open_console(browser: Any, server: Server, locale: str = "en-US") -> Iterator[Console]:
    """A fresh browser context and page on ``server``, in ``locale`` and Asia/Shanghai; fails
    on anything ``Watch`` reports when it closes."""
    context = browser.new_context(
        locale=locale,
        viewport={"width": 1280, "height": 860},
        timezone_id="Asia/Shanghai",
        device_scale_factor=1,
    )
    watch = Watch()
    context.expose_function("__twReportCsp", lambda text: watch.csp.append(str(text)))
    context.add_init_script(CSP_PROBE)
    context.set_default_timeout(15_000)
    page = context.new_page()

    def on_console(msg: Any) -> None:
        if msg.type == "error":
            watch.errors.append(msg.text)

    def on_dialog(dialog: Any) -> None:
        watch.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("console", on_console)
    page.on("pageerror", lambda exc: watch.errors.append(f"uncaught: {exc}"))
    page.on("dialog", on_dialog)
    helper = Console(page, server, watch)
    try:
        yield helper
        page.wait_for_timeout(100)  # let late reports arrive
        problems = watch.problems()
        assert not problems, "\n".join(problems)
    finally:
        context.close()


@pytest.fixture
def console(browser: Any, server: Server, request: pytest.FixtureRequest) -> Iterator[Console]:
    with open_console(browser, server, getattr(request, "param", "en-US")) as helper:
        yield helper
