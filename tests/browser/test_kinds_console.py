"""The console's job kinds (issue 17), in Chromium against a live ``tickwork serve``: the kind
picker and its forms with the API's field errors; a script saved twice, compared and rolled
back; a connection created, tested on the local PostgreSQL and shown masked (and not removable
while a job uses it); a shell job run from the console with its output on the run page; the
settings page; the screenshots of docs/ in both languages. ``kind_pages_in_chinese`` is the
zh-CN walk of these pages (called by test_day_one's walker)."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests import dbs
from tests.browser.conftest import OPERATOR, Console, Server, open_console, serving
from tests.browser.test_console import make_job
from tests.browser.test_day_one import english_on, run_now, wait_run
from tests.conftest import service_missing

pytestmark = pytest.mark.browser

CANARY = "canary-kindsui-Zq7"  # a connection's password: never on a page


def pg_url_with_password() -> str:
    """The local PostgreSQL's URL with a password in it (the server trusts local
    connections, so any password works; the console must never show it)."""
    problem = dbs.reachable("postgres")
    if problem is not None:
        service_missing("PostgreSQL", problem)
    parts = urlsplit(dbs.admin_url("postgres").replace("+psycopg", ""))
    host = parts.hostname or "127.0.0.1"
    netloc = f"{parts.username or 'postgres'}:{CANARY}@{host}:{parts.port or 5432}"
    return parts._replace(netloc=netloc).geturl()


def make_connection(server: Server, name: str) -> None:
    with server.api() as client:
        if client.get(f"/api/connections/{name}").status_code == 200:
            return
        r = client.post(
            "/api/connections",
            json={"name": name, "kind": "database", "fields": {"url": pg_url_with_password()}},
        )
        assert r.status_code == 201, r.text


def make_script(server: Server, name: str, versions: list[str]) -> None:
    with server.api() as client:
        if client.get(f"/api/scripts/{name}").status_code == 200:
            return
        r = client.post(
            "/api/scripts",
            json={"name": name, "language": "python", "code": versions[0], "message": "first"},
        )
        assert r.status_code == 201, r.text
        for i, code in enumerate(versions[1:], start=2):
            r = client.post(
                f"/api/scripts/{name}/versions", json={"code": code, "message": f"change {i}"}
            )
            assert r.status_code == 201, r.text


SHELL_TARGET = {
    "kind": "shell",
    "command": ["sh", "-c", "echo hello-from-shell; echo warn-on-stderr >&2; exit 3"],
    "ok_exit_codes": [0, 3],
}


def choose_kind(console: Console, kind: str) -> None:
    console.page.click(f"[data-target-kind={kind}]")
    console.page.wait_for_selector(f"[data-kind-form={kind}]")


def test_http_job_with_a_bad_url_shows_the_field_error(console: Console) -> None:
    page = console.page
    console.login()
    console.goto("/jobs/new")
    page.fill("input[name=id]", "kindsui-http")
    choose_kind(console, "http")
    page.fill("input[name='t.url']", "ftp://example.com/hook")
    page.click("[data-action=save]")
    error = page.locator("[data-field='t.url'] .field-error")
    error.wait_for()
    assert "http" in error.inner_text().lower(), error.inner_text()
    assert page.url.endswith("/jobs/new")  # nothing was created
    # the form's own check: a header line without a colon names its field
    page.fill("input[name='t.url']", "https://example.com/hook")
    page.fill("textarea[name='t.headers']", "no colon here")
    page.click("[data-action=save]")
    page.locator("[data-field='t.headers'] .field-error", has_text="no colon here").wait_for()
    # "send test request" goes through the SSRF guard: a loopback address is refused
    page.fill("textarea[name='t.headers']", "X-Probe: 1")
    page.fill("input[name='t.url']", "http://127.0.0.1:9/never")
    page.click("[data-action=send-test]")
    result = page.get_by_test_id("http-test-result")
    result.wait_for()
    assert "ssrf" in result.inner_text().lower(), result.inner_text()
    # a good URL is saved as an HTTP target; the job's page says what kind and what it sends
    page.fill("input[name='t.url']", "https://example.com/hook")
    page.click("[data-action=save]")
    page.wait_for_url(re.compile(r"/jobs/kindsui-http$"))
    kind = page.get_by_test_id("target-kind")
    kind.wait_for()
    assert "HTTP request" in kind.inner_text()
    assert page.get_by_test_id("kind-description").inner_text() == "GET https://example.com/hook"
    with console.server.api() as client:
        target = client.get("/api/jobs/kindsui-http").json()["target"]
    assert target["kind"] == "http"
    assert target["headers"] == {"X-Probe": "1"}
    # the editor reads the stored target back into its form
    console.goto("/jobs/kindsui-http/edit")
    page.wait_for_selector("[data-kind-form=http]")
    assert page.locator("input[name='t.url']").input_value() == "https://example.com/hook"
    assert page.locator("textarea[name='t.headers']").input_value() == "X-Probe: 1"


def set_code(console: Console, code: str) -> None:
    """Type ``code`` over the editor's whole text, as a user does (CodeMirror is in a shadow
    root; Playwright's locators reach into it)."""
    editor = console.page.locator(".cm-content")
    editor.wait_for()
    editor.click()
    console.page.keyboard.press("Control+A")
    console.page.keyboard.type(code)


def test_script_saved_twice_compared_and_rolled_back(console: Console, server: Server) -> None:
    page = console.page
    console.login()
    console.goto("/scripts/new")
    page.fill("input[name=name]", "kindsui-report")
    set_code(console, "print('version one')\n")
    page.fill("input[name=message]", "the first take")
    page.click("[data-action=save-script]")
    page.wait_for_url(re.compile(r"/scripts/kindsui-report$"))
    page.locator("[data-testid=script-history] tr[data-version='1']").wait_for()
    page.locator(".cm-content", has_text="version one").wait_for()  # (in a shadow root)
    set_code(console, "print('version two')\nprint('more')\n")
    page.fill("input[name=message]", "say two")
    page.click("[data-action=save-script]")
    page.get_by_test_id("script-saved").filter(has_text="Saved as version 2").wait_for()
    row = page.locator("[data-testid=script-history] tr[data-version='2']")
    row.wait_for()
    assert "say two" in row.inner_text()
    assert "admin" in row.inner_text()
    # the diff between the two versions (from v1 to v2 is the default)
    page.click("[data-action=show-diff]")
    diff = page.get_by_test_id("script-diff")
    diff.wait_for()
    assert diff.locator(".del", has_text="-print('version one')").count() == 1
    assert diff.locator(".add", has_text="+print('version two')").count() == 1
    # roll back to v1: a third version with v1's code, history kept
    page.locator("[data-testid=script-history] tr[data-version='1'] [data-action=rollback]").click()
    page.get_by_role("dialog").get_by_role("button", name="Roll back").click()
    saved = page.get_by_test_id("script-saved")
    saved.filter(has_text="Version 3 holds the code of version 1").wait_for()
    page.locator("[data-testid=script-history] tr[data-version='3']").wait_for()
    page.locator(".cm-content", has_text="version one").wait_for()
    assert page.locator(".cm-content").inner_text().strip() == "print('version one')"
    with server.api() as client:
        latest = client.get("/api/scripts/kindsui-report").json()["latest"]
    assert latest["version"] == 3
    assert latest["code"] == "print('version one')\n"
    # a script job pinned to version 2 (the latest holds version 1's code): run, its output
    console.goto("/jobs/new")
    page.fill("input[name=id]", "kindsui-script-job")
    choose_kind(console, "script")
    scripts = page.locator("select[name='t.script']")
    scripts.locator("option[value=kindsui-report]").wait_for(state="attached")
    scripts.select_option("kindsui-report")
    versions = page.locator("select[name='t.version']")
    versions.locator("option[value='2']").wait_for(state="attached")
    versions.select_option("2")
    page.check("input[name=paused]")
    page.click("[data-action=save]")
    page.wait_for_url(re.compile(r"/jobs/kindsui-script-job$"))
    description = page.get_by_test_id("kind-description").inner_text()
    assert description == "python script kindsui-report v2"
    page.locator(".page-head [data-action=run]").click()
    page.wait_for_url(re.compile(r"/runs/\d+$"))
    run = wait_run(server, int(page.url.rsplit("/", 1)[1]))
    assert run["status"] == "succeeded", run
    page.get_by_test_id("output-process").wait_for()
    assert page.get_by_test_id("exit-code").inner_text() == "0"
    assert page.get_by_test_id("stdout").inner_text().split() == ["version", "two", "more"]
    # an operator reads the script and its history, and changes nothing
    page.context.clear_cookies()
    console.login(OPERATOR)
    console.goto("/scripts/kindsui-report")
    page.locator("[data-testid=script-history] tr[data-version='3']").wait_for()
    assert page.locator("[data-action=save-script]").count() == 0
    assert page.locator("[data-action=rollback]").count() == 0
    assert page.locator("[data-action=delete-script]").count() == 0
    assert page.locator(".cm-content").get_attribute("contenteditable") == "false"
    console.goto("/scripts")
    page.locator("tr[data-script=kindsui-report]").wait_for()
    assert page.get_by_role("link", name="New script").count() == 0


def test_connection_created_tested_masked_and_kept_while_in_use(
    console: Console, server: Server
) -> None:
    url = pg_url_with_password()
    page = console.page
    console.login()
    console.goto("/connections")
    page.click("[data-action=new-connection]")
    form = page.get_by_test_id("connection-form")
    form.locator("input[name=name]").fill("kindsui-pg")
    form.locator("select[name=kind]").select_option("database")
    form.locator("input[name=url]").fill("oracle://nope")  # the API's refusal, at its field
    form.locator("[data-action=save-connection]").click()
    form.locator("[data-field=url] .field-error").wait_for()
    form.locator("input[name=url]").fill(url)
    form.locator("[data-action=save-connection]").click()
    row = page.locator("tr[data-connection=kindsui-pg]")
    row.wait_for()
    assert row.locator("[data-conn-field=password]").inner_text() == "******"
    assert CANARY not in row.locator("[data-conn-field=url]").inner_text()
    row.locator("[data-action=test]").click()
    result = row.get_by_test_id("test-result")
    result.wait_for()
    assert result.get_attribute("data-ok") == "yes", result.inner_text()
    assert "Connected" in result.inner_text()
    assert CANARY not in page.content()
    # editing keeps the secret unless a new one is typed
    row.locator("[data-action=edit]").click()
    form.wait_for()
    assert form.locator("input[name=password]").input_value() == ""
    form.locator("input[name=description]").fill("the local test database")
    form.locator("[data-action=save-connection]").click()
    row.get_by_text("the local test database").wait_for()
    assert row.locator("[data-conn-field=password]").inner_text() == "******"
    # a SQL job on it: its rows on the run page; the connection cannot go while the job uses it
    console.goto("/jobs/new")
    page.fill("input[name=id]", "kindsui-sql")
    choose_kind(console, "sql")
    chooser = page.locator("select[name='t.connection']")
    chooser.locator("option[value=kindsui-pg]").wait_for(state="attached")
    chooser.select_option("kindsui-pg")
    page.fill("textarea[name='t.statement']", "SELECT 41 + :one AS answer, 'x' AS letter")
    page.fill("textarea[name='t.params']", '{"one": 1}')
    page.check("input[name='t.read_only']")
    page.check("input[name=paused]")
    page.click("[data-action=save]")
    page.wait_for_url(re.compile(r"/jobs/kindsui-sql$"))
    with server.api() as client:
        target = client.get("/api/jobs/kindsui-sql").json()["target"]
    assert target["params"] == {"one": 1}
    assert target["read_only"] is True
    run_id = run_now(server, "kindsui-sql")
    assert wait_run(server, run_id)["status"] == "succeeded"
    console.goto(f"/runs/{run_id}")
    page.get_by_test_id("output-sql").wait_for()
    assert page.get_by_test_id("row-count").inner_text() == "1"
    assert page.get_by_test_id("sql-rows").locator("tbody td").all_inner_texts() == ["42", "x"]
    assert CANARY not in page.content()
    console.goto("/connections")
    row.locator("[data-action=delete]").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("button", name="Delete").click()
    dialog.get_by_role("alert").filter(has_text="kindsui-sql").wait_for()
    with server.api() as client:
        assert client.get("/api/connections/kindsui-pg").status_code == 200
        listed = client.get("/api/connections").text
    assert CANARY not in listed
    # an operator sees the connections, masked, and no admin action
    page.context.clear_cookies()
    console.login(OPERATOR)
    console.goto("/connections")
    row.wait_for()
    assert row.locator("[data-conn-field=password]").inner_text() == "******"
    assert page.locator("[data-action=new-connection]").count() == 0
    for action in ("test", "edit", "delete"):
        assert row.locator(f"[data-action={action}]").count() == 0


def test_shell_job_run_from_the_console_shows_its_output(console: Console, server: Server) -> None:
    page = console.page
    console.login()
    console.goto("/jobs/new")
    page.fill("input[name=id]", "kindsui-shell")
    choose_kind(console, "shell")
    argv = ["sh", "-c", SHELL_TARGET["command"][2]]  # type: ignore[index]
    for i, arg in enumerate(argv):
        if i:
            page.click("[data-action=add-arg]")
        page.fill(f"input[name='t.command.{i}']", arg)
    page.fill("input[name='t.ok_exit_codes']", "0, 3")
    page.check("input[name=paused]")
    page.click("[data-action=save]")
    page.wait_for_url(re.compile(r"/jobs/kindsui-shell$"))
    assert "Shell command" in page.get_by_test_id("target-kind").inner_text()
    with server.api() as client:
        target = client.get("/api/jobs/kindsui-shell").json()["target"]
    assert target["command"] == argv
    assert target["ok_exit_codes"] == [0, 3]
    page.locator(".page-head [data-action=run]").click()
    page.wait_for_url(re.compile(r"/runs/\d+$"))
    run = wait_run(server, int(page.url.rsplit("/", 1)[1]))
    assert run["status"] == "succeeded", run
    page.get_by_test_id("output-process").wait_for()
    assert page.get_by_test_id("exit-code").inner_text() == "3"
    assert page.get_by_test_id("stdout").inner_text().strip() == "hello-from-shell"
    assert page.get_by_test_id("stderr").inner_text().strip() == "warn-on-stderr"


def test_settings_page_shows_the_allowlist_and_the_kinds(console: Console) -> None:
    page = console.page
    console.login()
    console.goto("/settings")
    page.get_by_test_id("kinds-table").wait_for()
    assert page.get_by_test_id("ssrf-allow").inner_text() == (
        "Nothing is allowed beyond public addresses."
    )
    for kind in ("python", "shell", "http", "sql", "script"):
        assert page.locator(f"tr[data-kind={kind}] .badge").inner_text() == "on"
    assert "TICKWORK_SHELL=off" in page.locator("tr[data-kind=shell]").inner_text()
    page.context.clear_cookies()
    console.login(OPERATOR)
    console.goto("/settings")
    page.get_by_text("This page is for admins.").wait_for()
    assert page.locator("nav a[href='/settings']").count() == 0


class Receiver(BaseHTTPRequestHandler):
    """A local HTTP service the HTTP kind calls (loopback, allowed by TICKWORK_SSRF_ALLOW)."""

    def do_GET(self) -> None:
        body = b'{"greeting": "hello from the receiver"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Receiver", "kindsui")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def receiver() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="module")
def allowing_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server whose administrator allowed 127.0.0.1 for outbound requests and switched
    scripts off."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TICKWORK_SSRF_ALLOW", "127.0.0.1, *.internal.example")
        mp.setenv("TICKWORK_SCRIPTS", "off")
        with serving(tmp_path_factory.mktemp("kinds-allow")) as srv:
            yield srv


def test_allowlist_switched_off_kind_and_an_http_run(
    browser: Any, allowing_server: Server, receiver: str
) -> None:
    server = allowing_server
    with open_console(browser, server) as console:
        page = console.page
        console.login()
        console.goto("/settings")
        allowed = page.get_by_test_id("ssrf-allow")
        allowed.wait_for()
        assert allowed.locator("li").all_inner_texts() == ["*.internal.example", "127.0.0.1/32"]
        script = page.locator("tr[data-kind=script]")
        assert script.locator(".badge").inner_text() == "switched off"
        assert page.locator("tr[data-kind=shell] .badge").inner_text() == "on"
        # the editor offers no switched-off kind
        console.goto("/jobs/new")
        button = page.locator("[data-target-kind=script]")
        button.wait_for()
        page.wait_for_function("() => document.querySelector('[data-target-kind=script]').disabled")
        assert (
            button.get_attribute("title")
            == "Switched off on this deployment (TICKWORK_SCRIPTS=off)"
        )
        # an HTTP request to the allowed local service: the test request, then a run
        page.fill("input[name=id]", "kindsui-get")
        choose_kind(console, "http")
        page.fill("input[name='t.url']", f"{receiver}/status")
        page.click("[data-action=send-test]")
        tested = page.get_by_test_id("http-test-result")
        tested.get_by_test_id("http-status").wait_for()
        assert tested.get_by_test_id("http-status").inner_text() == "200 OK"
        assert "hello from the receiver" in tested.get_by_test_id("http-body").inner_text()
        page.check("input[name=paused]")
        page.click("[data-action=save]")
        page.wait_for_url(re.compile(r"/jobs/kindsui-get$"))
        page.locator(".page-head [data-action=run]").click()
        page.wait_for_url(re.compile(r"/runs/\d+$"))
        run = wait_run(server, int(page.url.rsplit("/", 1)[1]))
        assert run["status"] == "succeeded", run
        page.get_by_test_id("output-http").wait_for()
        assert page.get_by_test_id("http-status").inner_text() == "200 OK"
        assert "X-Receiver: kindsui" in page.get_by_test_id("http-headers").inner_text()
        assert page.get_by_test_id("http-body").inner_text() == (
            '{"greeting": "hello from the receiver"}'
        )


def kind_setup(server: Server) -> int:
    """A script with two versions, a connection and a shell job with a run; the run's id."""
    make_script(server, "zh-script", ["print('一')\n", "print('二')\n"])
    make_connection(server, "zh-pg")
    with server.api() as client:
        exists = client.get("/api/jobs/zh-shell").status_code == 200
    if not exists:
        make_job(server, "zh-shell", name="备份", target=SHELL_TARGET, paused=True)
    run_id = run_now(server, "zh-shell")
    wait_run(server, run_id)
    return run_id


def kind_pages_in_chinese(console: Console, server: Server) -> list[str]:
    """The job kinds' pages in zh-CN (the console is logged in, in Chinese): what English
    they show outside data and code."""
    run_id = kind_setup(server)
    page = console.page
    found: list[str] = []
    console.goto("/jobs/new")
    page.locator("input[name=id]").wait_for()
    for kind in ("shell", "http", "sql", "script"):
        choose_kind(console, kind)
        if kind == "shell":
            page.click("[data-shell-mode=string]")
        if kind == "http":
            page.click("[data-body-mode=json]")
        found += english_on(console, f"/jobs/new ({kind})")
    choose_kind(console, "http")
    page.fill("input[name=id]", "zh-http-bad")
    page.fill("input[name='t.url']", "ftp://example.com/")
    page.click("[data-action=save]")
    page.locator("[data-field='t.body'] .field-error").wait_for()  # the form's own: not JSON
    found += english_on(console, "/jobs/new (http, body not JSON)")
    page.click("[data-body-mode=none]")
    page.click("[data-action=save]")
    page.locator("[data-field='t.url'] .field-error").wait_for()
    found += english_on(console, "/jobs/new (http, refused)")
    console.goto("/jobs/zh-shell")
    page.get_by_test_id("target-spec").wait_for()
    found += english_on(console, "/jobs/zh-shell")
    console.goto(f"/runs/{run_id}")
    page.get_by_test_id("output-process").wait_for()
    found += english_on(console, f"/runs/{run_id} (shell)")
    console.goto("/scripts")
    page.locator("tr[data-script=zh-script]").wait_for()
    found += english_on(console, "/scripts")
    console.goto("/scripts/zh-script")
    page.locator(".cm-content").wait_for()
    page.click("[data-action=show-diff]")
    page.get_by_test_id("script-diff").wait_for()
    found += english_on(console, "/scripts/zh-script")
    page.locator("[data-action=rollback]").first.click()
    page.get_by_role("dialog").wait_for()
    found += english_on(console, "/scripts/zh-script (rollback dialog)")
    page.get_by_role("dialog").get_by_role("button", name="取消").click()
    console.goto("/scripts/new")
    page.locator(".cm-content").wait_for()
    found += english_on(console, "/scripts/new")
    console.goto("/connections")
    row = page.locator("tr[data-connection=zh-pg]")
    row.locator("[data-action=test]").click()
    row.get_by_test_id("test-result").wait_for()
    found += english_on(console, "/connections")
    row.locator("[data-action=delete]").click()
    page.get_by_role("dialog").wait_for()
    found += english_on(console, "/connections (delete dialog)")
    page.get_by_role("dialog").get_by_role("button", name="取消").click()
    page.click("[data-action=new-connection]")
    form = page.get_by_test_id("connection-form")
    for kind in ("database", "redis", "http", "smtp"):
        form.locator("select[name=kind]").select_option(kind)
        found += english_on(console, f"/connections (new {kind})")
    page.get_by_role("dialog").get_by_role("button", name="取消").click()
    console.goto("/settings")
    page.get_by_test_id("kinds-table").wait_for()
    found += english_on(console, "/settings")
    return found


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_kind_screenshots(browser: Any, server: Server, lang: str) -> None:
    """docs/screenshots of the new pages in both languages (TICKWORK_SCREENSHOTS=1 saves them
    there)."""
    run_id = kind_setup(server)
    suffix = "" if lang == "en" else "-zh-CN"
    with open_console(browser, server, "en-US" if lang == "en" else "zh-CN") as console:
        page = console.page
        console.login()
        console.goto("/jobs/new")
        page.fill("input[name=id]", "nightly-backup")
        page.fill("input[name=name]", "Nightly backup" if lang == "en" else "每日备份")
        choose_kind(console, "shell")
        for i, arg in enumerate(["pg_dump", "-Fc", "-f", "/backups/app.dump", "app"]):
            if i:
                page.click("[data-action=add-arg]")
            page.fill(f"input[name='t.command.{i}']", arg)
        console.screenshot(f"job-editor-shell{suffix}")
        choose_kind(console, "http")
        page.select_option("select[name='t.method']", "POST")
        page.fill("input[name='t.url']", "https://hooks.example.com/nightly")
        page.fill("textarea[name='t.headers']", "X-Source: tickwork")
        page.click("[data-body-mode=json]")
        page.fill("textarea[name='t.body']", '{"report": "nightly"}')
        console.screenshot(f"job-editor-http{suffix}")
        console.goto(f"/runs/{run_id}")
        page.get_by_test_id("output-process").wait_for()
        console.screenshot(f"run-detail-shell{suffix}")
        console.goto("/scripts")
        page.locator("tr[data-script=zh-script]").wait_for()
        console.screenshot(f"scripts{suffix}")
        console.goto("/scripts/zh-script")
        page.locator(".cm-content").wait_for()
        page.click("[data-action=show-diff]")
        page.get_by_test_id("script-diff").wait_for()
        console.screenshot(f"script-editor{suffix}")
        console.goto("/connections")
        row = page.locator("tr[data-connection=zh-pg]")
        row.locator("[data-action=test]").click()
        row.get_by_test_id("test-result").wait_for()
        console.screenshot(f"connections{suffix}")
        console.goto("/settings")
        page.get_by_test_id("kinds-table").wait_for()
        console.screenshot(f"settings{suffix}")
