"""examples/task-tracker (seed 001): the administrator told on failure. A job that fails for
good raises the example's `failed` rule and the mail reaches a real SMTP server (aiosmtpd on
127.0.0.1) addressed to ADMIN_EMAILS; a job that fails and then succeeds on a retry tells
nobody."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.alerts.conftest import Mailbox
from tests.alerts.conftest import smtp_server as start_smtp_server  # aiosmtpd on 127.0.0.1
from tests.examples.conftest import load
from tests.integrations.gunicorn import wait_for
from tickwork import Tickwork
from tickwork.clock import FakeClock

pytestmark = pytest.mark.postgres


@pytest.fixture
def smtp_server() -> Iterator[Mailbox]:
    with start_smtp_server() as box:
        yield box


def broken() -> None:
    raise RuntimeError("tasks table is locked")


def test_the_administrator_is_mailed_when_a_job_fails_for_good(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, example_database: Any,
    smtp_server: Mailbox,
) -> None:  # fmt: skip
    url = example_database("postgres").replace("postgresql://", "postgresql+psycopg://", 1)
    for key, value in {
        "APP_DATABASE_URL": url, "TICKWORK_DATA_DIR": str(tmp_path / "data"),
        "TICKWORK_ELECTION_DIR": str(tmp_path / "host"), "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_server.port), "ADMIN_EMAILS": "admin@example.com",
        "TICKWORK_SSRF_ALLOW": "127.0.0.1",  # the test's SMTP server is on loopback
    }.items():  # fmt: skip
        monkeypatch.setenv(key, value)
    mod = load("task-tracker", "app")
    clock = FakeClock(int(datetime(2026, 3, 4, 10, 0).timestamp()) * 1_000_000)
    tw = Tickwork(url, timezone="Asia/Shanghai", clock=clock, job_defaults=mod.JOB_DEFAULTS)
    app = mod.create_app(tw)
    sched = app.extensions["tickwork"]
    try:
        (rule,) = tw.alert_rules()
        assert (rule.kind, rule.scope, rule.channels) == ("failed", "all", ("admin-email",))
        sched.add_job("broken", f"{__name__}:broken", trigger="date",
                      run_date="2099-01-01 00:00:00", **mod.RETRY)  # fmt: skip
        sched.run_job("broken")
        for attempt in (1, 2, 3):  # each failure is retried: nobody is told yet
            wait_for(f"attempt {attempt}",
                     lambda a=attempt: [r.status for r in tw.get_runs("broken")
                                        if r.attempt == a] == ["failed"])  # fmt: skip
            assert tw.alert_history(rule_id="job-failed") == []
            clock.advance(10)
        wait_for("attempt 4", lambda: len(tw.get_runs("broken")) == 4
                 and all(r.status == "failed" for r in tw.get_runs("broken")))  # fmt: skip
        last = max(tw.get_runs("broken"), key=lambda r: r.attempt)
        wait_for("the alert", lambda: len(tw.alert_history(rule_id="job-failed")) == 1)
        (alert,) = tw.alert_history(rule_id="job-failed")
        assert (alert["job_id"], alert["run_id"]) == ("broken", last.id)
        tw.deliver_alerts()
        wait_for("the mail", lambda: len(smtp_server.messages) == 1)
        (mail,) = smtp_server.messages
        assert smtp_server.rcpt == [["admin@example.com"]]
        assert "broken" in str(mail["Subject"])
        body = mail.get_body(preferencelist=("plain",))
        assert body is not None
        assert "tasks table is locked" in body.get_content()
    finally:
        sched.shutdown()
        tw.close()
        mod.tracker.engine().dispose()
