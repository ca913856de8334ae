"""``tickwork cron next|explain`` through a real subprocess."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from tickwork.cli.cron import default_lang

ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$")


def tickwork(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "tickwork.cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=full_env,
        check=False,
    )


def test_next_prints_iso_instants_with_offsets() -> None:
    out = tickwork(
        "cron", "next", "30 2 * * *", "--tz", "Europe/Berlin",
        "--after", "2026-03-28T12:00:00+01:00", "--count", "2",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert out.stdout == "2026-03-29T03:00:00+02:00\n2026-03-30T02:30:00+02:00\n"
    assert out.stderr == ""


def test_next_defaults_to_five_from_now_in_utc() -> None:
    # The command reads the real clock in its own process: whenever it ran between these two
    # readings, its first fire is the next whole minute after that moment.
    before = datetime.now(UTC)
    out = tickwork("cron", "next", "* * * * *")
    after = datetime.now(UTC)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert len(lines) == 5
    assert all(ISO.match(line) for line in lines)
    assert all(line.endswith("+00:00") for line in lines)
    fires = [datetime.fromisoformat(line) for line in lines]
    assert fires[0].second == fires[0].microsecond == 0
    assert before < fires[0] <= after.replace(second=0, microsecond=0) + timedelta(minutes=1)
    assert fires == [fires[0] + timedelta(minutes=k) for k in range(5)]


def test_naive_after_is_in_the_given_zone_and_fold_is_respected() -> None:
    out = tickwork(
        "cron", "next", "0 * * * *", "--tz", "Europe/Berlin",
        "--after", "2026-10-25T01:30:00", "--count", "3",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [
        "2026-10-25T02:00:00+02:00",
        "2026-10-25T02:00:00+01:00",
        "2026-10-25T03:00:00+01:00",
    ]


def test_next_stops_when_the_schedule_ends() -> None:
    out = tickwork("cron", "next", "0 0 0 1 1 ? 2030", "--after", "2029-06-01T00:00:00Z")
    assert out.returncode == 0, out.stderr
    assert out.stdout == "2030-01-01T00:00:00+00:00\n"


def test_seed_spreads_h() -> None:
    a = tickwork("cron", "next", "H H * * *", "--seed", "job-1", "--after", "2026-01-01T00:00Z")
    assert a.returncode == 0, a.stderr
    assert a.stdout.splitlines()[0] == "2026-01-01T08:52:00+00:00"


@pytest.mark.parametrize(
    ("args", "stderr"),
    [
        (["cron", "next", "0 0 32 * *"], "error: day-of-month: 32 is out of range 1-31\n"),
        (["cron", "next", "* * *"], "error: expression: expected 5, 6 or 7 fields, got 3\n"),
        (
            ["cron", "next", "* * * * *", "--tz", "Mars/Base"],
            "error: timezone: unknown time zone 'Mars/Base'\n",
        ),
        (
            ["cron", "next", "* * * * *", "--after", "soon"],
            "error: after: not an ISO 8601 date/time: 'soon'\n",
        ),
        (
            ["cron", "explain", "0 0 30 2 *"],
            "error: expression: never fires (day-of-month 30 does not occur in February)\n",
        ),
    ],
)
def test_invalid_input_exits_2_with_the_field_named(args: list[str], stderr: str) -> None:
    out = tickwork(*args)
    assert out.returncode == 2
    assert out.stdout == ""
    assert out.stderr == stderr


@pytest.mark.parametrize(
    "args",
    [
        ["cron", "next"],
        ["cron", "next", "* * * * *", "--count", "0"],
        ["cron", "next", "* * * * *", "--count", "x"],
        ["cron", "explain", "* * * * *", "--lang", "fr"],
        ["cron"],
    ],
)
def test_usage_errors_exit_2(args: list[str]) -> None:
    out = tickwork(*args)
    assert out.returncode == 2
    assert "usage:" in out.stderr


def test_explain_en() -> None:
    out = tickwork("cron", "explain", "0 9 * * MON-FRI", "--lang", "en", "--tz", "Asia/Shanghai")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "At 09:00, Monday through Friday (Asia/Shanghai)"
    assert lines[1] == "Next 5 fire times:"
    assert len(lines) == 7
    for line in lines[2:]:
        assert line.startswith("  ")
        moment = datetime.fromisoformat(line.strip())
        assert (moment.hour, moment.minute, moment.isoweekday() <= 5) == (9, 0, True)
        assert line.endswith("+08:00")


def test_explain_zh() -> None:
    out = tickwork("cron", "explain", "0 9 * * MON-FRI", "--lang", "zh")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "周一至周五 09:00"
    assert lines[1] == "接下来 5 次执行时间："
    assert all(ISO.match(line.strip()) for line in lines[2:])
    assert len(lines) == 7


def test_explain_language_follows_the_environment() -> None:
    zh = tickwork("cron", "explain", "@daily", env={"LANG": "zh_CN.UTF-8", "LC_ALL": ""})
    assert zh.stdout.splitlines()[0] == "每天 00:00"
    en = tickwork("cron", "explain", "@daily", env={"LANG": "C.UTF-8", "LC_ALL": ""})
    assert en.stdout.splitlines()[0] == "At 00:00"
    both = tickwork("cron", "explain", "@daily", env={"LANG": "en_US.UTF-8", "LC_ALL": "zh_TW"})
    assert both.stdout.splitlines()[0] == "每天 00:00"


def test_default_lang_rules() -> None:
    assert default_lang({}) == "en"
    assert default_lang({"LANG": "zh_CN.UTF-8"}) == "zh"
    assert default_lang({"LANG": "zh_CN.UTF-8", "LC_ALL": "C"}) == "en"
    assert default_lang({"LC_ALL": "ZH_cn"}) == "zh"


def test_explain_and_next_agree() -> None:
    # A yearly schedule: both commands run within the same year, so "now" is the same answer.
    explain = tickwork("cron", "explain", "0 0 1 1 *", "--lang", "en")
    nxt = tickwork("cron", "next", "0 0 1 1 *")
    assert [line.strip() for line in explain.stdout.splitlines()[2:]] == nxt.stdout.splitlines()
