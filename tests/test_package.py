from __future__ import annotations

import subprocess
import sys

import tickwork


def test_version_is_exposed_by_package_and_command() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "tickwork.cli", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == f"tickwork {tickwork.__version__}"
