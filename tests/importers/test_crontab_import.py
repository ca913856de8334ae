"""``tickwork import crontab``: a user crontab with MAILTO, environment lines, @reboot, a
nickname, a day name and a bare % (refused, as cron would mangle it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.importers.conftest import SAMPLES
from tickwork.cli import main
from tickwork.service import Tickwork
from tickwork.settings import Settings

CRONTAB = str(SAMPLES / "crontab.txt")


def test_dry_run_reports_and_refuses(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import", "crontab", CRONTAB, "--dry-run"]) == 1  # a refused line: nothing
    out, err = capsys.readouterr()
    assert "note: crontab.txt:2: MAILTO=ops@example.com" in err
    assert "note: crontab.txt:3: SHELL is cron's own setting" in err
    assert "note: crontab.txt:7: @reboot '/usr/local/bin/warm-cache': has no schedule" in err
    assert "refused: crontab.txt:12: the command holds an unescaped %" in err
    assert "nothing written: 1 refused, 5 convertible" in err
    assert out == ""

    assert main(["import", "crontab", CRONTAB, "--dry-run", "--skip-refused"]) == 0
    out, _ = capsys.readouterr()
    assert "would create crontab-8: every 15 minutes" in out.lower()
    assert "5 jobs would be created, 1 refused (dry run)" in out
    tw = Tickwork(settings=Settings(data_dir=cli_env))
    try:
        assert tw.get_jobs() == []  # a dry run writes nothing
    finally:
        tw.close()


def test_import_creates_shell_jobs_with_crons_environment(
    cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import", "crontab", CRONTAB, "--skip-refused", "--group", "legacy"]) == 0
    assert "imported 5 jobs: 5 added, 0 replaced" in capsys.readouterr().out
    tw = Tickwork(settings=Settings(data_dir=cli_env))
    try:
        jobs = {j.id: j.record for j in tw.get_jobs()}
        assert sorted(jobs) == ["crontab-10", "crontab-11", "crontab-13", "crontab-8", "crontab-9"]
        backup = jobs["crontab-9"]
        assert backup.group == "legacy"
        assert backup.target_kind == "shell"
        assert backup.target["command"] == 'pg_dump -Fc app > "$BACKUP_DIR/app.dump"'
        assert backup.target["shell"] is True
        assert backup.target["env"] == {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "BACKUP_DIR": "/var/backups/app",  # quotes taken off, as cron does
        }
        assert backup.trigger["expr"] == "30 2 * * 1-5"
        assert jobs["crontab-11"].trigger["expr"] == "@weekly"
        sundays = jobs["crontab-13"]
        assert sundays.target["command"] == "date +%F >> /var/log/sundays.log"  # \% -> %
        nxt = tw.get_job("crontab-13").next_run_time  # type: ignore[union-attr]
        assert nxt is not None
        assert nxt.weekday() == 6
        assert (nxt.hour, nxt.minute) == (4, 5)
        # importing again clashes by id, unless --replace
        assert main(["import", "crontab", CRONTAB, "--skip-refused"]) == 2
        assert "give --replace" in capsys.readouterr().err
    finally:
        tw.close()
