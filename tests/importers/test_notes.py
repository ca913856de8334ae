"""An importer's notes: one line per distinct note. A note every entry of a large table
shares (xxl-job's SERIAL_EXECUTION on each of 100,000 jobs printed 100,000 lines) is
printed once, with how many entries it concerns and the first few."""

from __future__ import annotations

from pathlib import Path

import pytest

from tickwork.importers import Imported


def test_a_shared_note_is_one_line_with_the_count_and_the_first_entries() -> None:
    out = Imported()
    out.note("crontab:1", "MAILTO=ops: cron mailed each job's output")
    for i in range(5):
        out.note(f"xxl_job_info id={i}", "SERIAL_EXECUTION queues fires")
    out.note("xxl_job_info id=9", "alarm_email a@b.c: create an alert rule")
    out.note("xxl_job_info id=7", "SERIAL_EXECUTION queues fires")
    assert out.note_lines() == [
        "crontab:1: MAILTO=ops: cron mailed each job's output",
        "SERIAL_EXECUTION queues fires (6 entries: xxl_job_info id=0, xxl_job_info id=1, "
        "xxl_job_info id=2, ... (3 more))",
        "xxl_job_info id=9: alarm_email a@b.c: create an alert rule",
    ]
    out2 = Imported()
    for i in range(3):
        out2.note(f"row {i}", "same")
    assert out2.note_lines() == ["same (3 entries: row 0, row 1, row 2)"]


def test_an_import_prints_a_shared_note_once(
    tmp_path: Path, cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tickwork.cli import main

    rows = ",".join(
        f"({i},1,'job {i}','2024-01-01 00:00:00','2024-01-01 00:00:00','ops',NULL,'CRON',"
        f"'0 5 3 * * ?','DO_NOTHING','FIRST','demoJobHandler','','SERIAL_EXECUTION',0,0,"
        "'BEAN',NULL,NULL,NULL,NULL,1,0,0)"
        for i in range(1, 41)
    )
    sample = Path(__file__).parent / "samples" / "xxl_job.sql"
    head = "".join(
        line for line in sample.read_text().splitlines(keepends=True)
        if not line.startswith("INSERT INTO `xxl_job_info`")
    )  # fmt: skip
    dump = tmp_path / "xxl.sql"
    dump.write_text(head + f"INSERT INTO `xxl_job_info` VALUES {rows};\n")
    status = main(
        ["import", "xxl-job", str(dump), "--dry-run", "--handler",
         "demoJobHandler=tests.importers.sample_jobs:report",
         "--database-url", f"sqlite:///{tmp_path / 'tw.db'}"]
    )  # fmt: skip
    assert status == 0
    err = capsys.readouterr().err
    serial = [line for line in err.splitlines() if "SERIAL_EXECUTION" in line]
    assert len(serial) == 1
    assert "(40 entries: xxl_job_info id=1, xxl_job_info id=2, xxl_job_info id=3, ..." in serial[0]
