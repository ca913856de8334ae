"""``tickwork groups list|show|add|grant|pause|resume|run`` (issue 11, item 3), in process
against a real SQLite database in the test's directory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tickwork.cli import main
from tickwork.service import Tickwork
from tickwork.settings import Settings

PASSWORD = "correct horse battery staple"


def run(capsys: pytest.CaptureFixture[str], data_dir: Path, *args: str) -> tuple[int, str, str]:
    try:
        status = main([*args[:2], "--data-dir", str(data_dir), *args[2:]])
    except SystemExit as exc:  # argparse refusing the command line
        status = int(exc.code or 0)
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    with Tickwork(settings=Settings(data_dir=tmp_path, timezone="UTC")) as tw:
        tw.accounts.create_user("alice", PASSWORD, "viewer", by="test")
        for job_id, group in (("n1", "nightly"), ("n2", "nightly"), ("o1", "other")):
            tw.add_job(
                "tests.api.tasks:noop", "cron", hour=3, id=job_id, group=group, owner="python"
            )
    return tmp_path


def test_add_show_and_list(capsys: pytest.CaptureFixture[str], data_dir: Path) -> None:
    status, out, _ = run(
        capsys, data_dir, "groups", "add", "nightly",
        "--description", "夜间批处理", "--owner", "alice", "--timezone", "Asia/Shanghai",
        "--default", "timeout_s=600", "--default", "misfire_policy=skip",
    )  # fmt: skip
    assert (status, out.strip()) == (0, "declared group 'nightly'")
    status, out, _ = run(capsys, data_dir, "groups", "list")
    lines = out.splitlines()
    assert lines[0].split() == ["GROUP", "JOBS", "PAUSED", "TIMEZONE", "OWNER", "DESCRIPTION"]
    assert lines[1].split() == ["nightly", "2", "0", "Asia/Shanghai", "alice", "夜间批处理"]
    assert lines[2].split() == ["other", "1", "0", "-", "-"]
    status, out, _ = run(capsys, data_dir, "groups", "show", "nightly", "--json")
    shown = json.loads(out)
    assert shown["defaults"] == {"timeout_s": 600, "misfire_policy": "skip"}
    assert (shown["declared"], shown["job_ids"], shown["members"]) == (True, ["n1", "n2"], [])
    status, out, _ = run(capsys, data_dir, "groups", "show", "other")
    assert "(only named by jobs)" in out
    # a new job of the group takes its defaults where the command line gives none
    status, out, err = run(
        capsys, data_dir, "jobs", "add", "n3", "tests.api.tasks:noop", "--cron", "0 4 * * *",
        "--group", "nightly",
    )  # fmt: skip
    assert status == 0, err
    with Tickwork(settings=Settings(data_dir=data_dir, timezone="UTC")) as tw:
        job = tw.get_job("n3")
        assert job is not None
        record = job.record
    assert (record.timezone, record.timeout_s, record.misfire_policy) == (
        "Asia/Shanghai",
        600,
        "skip",
    )


def test_bad_input_names_the_field_and_writes_nothing(
    capsys: pytest.CaptureFixture[str], data_dir: Path
) -> None:
    for args, field in (
        (("--default", "timeout_s=-5"), "defaults.timeout_s"),
        (("--default", "colour=blue"), "defaults.colour"),
        (("--timezone", "Mars/Olympus"), "timezone"),
        (("--owner", "nobody"), "owner"),
    ):
        status, _, err = run(capsys, data_dir, "groups", "add", "nightly", *args)
        assert status == 2, (args, err)
        assert err.startswith(f"error: {field}:"), (args, err)
    status, out, _ = run(capsys, data_dir, "groups", "show", "nightly", "--json")
    assert json.loads(out)["declared"] is False
    status, _, err = run(capsys, data_dir, "groups", "show", "nowhere")
    assert status == 1
    assert "does not exist" in err


def test_grant_and_revoke(capsys: pytest.CaptureFixture[str], data_dir: Path) -> None:
    status, out, _ = run(capsys, data_dir, "groups", "grant", "nightly", "alice", "operator")
    assert (status, out.strip()) == (0, "'alice' is operator in group 'nightly'")
    status, out, _ = run(capsys, data_dir, "groups", "show", "nightly")
    assert "alice   operator" in out or "alice  operator" in out
    with Tickwork(settings=Settings(data_dir=data_dir, timezone="UTC")) as tw:
        user = tw.accounts.find_user("alice")
        assert tw.accounts.list_grants(user.id) == {"nightly": "operator"}
        events = tw.audit.page(limit=5)
        assert any(e.action == "user.grant" and e.actor.startswith("cli:") for e in events)
    status, _, err = run(capsys, data_dir, "groups", "grant", "nightly", "alice", "owner")
    assert status == 2
    assert "invalid choice" in err
    status, out, _ = run(capsys, data_dir, "groups", "grant", "nightly", "alice", "--revoke")
    assert "global role (viewer)" in out
    status, _, err = run(capsys, data_dir, "groups", "grant", "nightly", "bob", "viewer")
    assert status == 1
    assert "user 'bob' does not exist" in err


def test_pause_with_dry_run_first(capsys: pytest.CaptureFixture[str], data_dir: Path) -> None:
    status, out, _ = run(capsys, data_dir, "groups", "pause", "nightly", "--dry-run")
    assert out.strip() == "would pause 2 jobs of group 'nightly' (2 would change)"
    with Tickwork(settings=Settings(data_dir=data_dir, timezone="UTC")) as tw:
        assert not any(j.paused for j in tw.get_jobs())
    status, out, _ = run(capsys, data_dir, "groups", "pause", "nightly")
    assert out.strip() == "paused 2 jobs of group 'nightly' (2 changed)"
    with Tickwork(settings=Settings(data_dir=data_dir, timezone="UTC")) as tw:
        assert {j.id: j.paused for j in tw.get_jobs()} == {"n1": True, "n2": True, "o1": False}
    status, out, _ = run(capsys, data_dir, "groups", "run", "nightly")
    assert status == 0
    assert out.startswith("queued 2 runs of group 'nightly'")
