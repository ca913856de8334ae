"""Names and ids are checked by patterns anchored at both ends. Python's ``$`` also matches
before a final newline, so a pattern ending in ``$`` let ``"nightly\\n"`` through as a job
id, a user name, an HTTP header name or an SQL identifier of a maintenance job. Every
anchored pattern of the package ends in ``\\Z``; the checks that use them refuse a name
with a trailing newline."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tickwork.errors import InvalidInput
from tickwork.jobspec import JobSpec, build_record

SOURCE = Path(__file__).resolve().parents[1] / "src" / "tickwork"
_COMPILED = re.compile(r"re\.compile\(\s*r?([\"'])\^(.*?)\1")


def test_no_anchored_pattern_ends_in_a_dollar() -> None:
    offenders = []
    for path in sorted(SOURCE.rglob("*.py")):
        for match in _COMPILED.finditer(path.read_text()):
            if match.group(2).endswith("$"):
                offenders.append(f"{path.relative_to(SOURCE)}: ^{match.group(2)}")
    assert offenders == []


def test_a_job_id_with_a_trailing_newline_is_refused() -> None:
    for job_id in ("nightly\n", "nightly"):
        spec = JobSpec(target="tests.importers.sample_jobs:report", trigger="@daily", id=job_id)
        if job_id == "nightly":
            assert build_record(spec, now_us=0, default_tz="UTC", by=None).id == "nightly"
            continue
        with pytest.raises(InvalidInput) as caught:
            build_record(spec, now_us=0, default_tz="UTC", by=None)
        assert caught.value.field == "id"


@pytest.mark.parametrize(
    ("module", "name", "good"),
    [
        ("tickwork.accounts.service", "USERNAME", "admin"),
        ("tickwork.targets.http", "_HEADER_NAME", "X-Trace"),
        ("tickwork.builtins.params", "IDENT", "tw_run"),
        ("tickwork.connections.kinds", "NAME", "warehouse"),
        ("tickwork.workflows.graph", "STEP_PATTERN", "extract"),
        ("tickwork.net.ssrf", "_HOST_NAME", "example.org"),
    ],
)
def test_a_name_with_a_trailing_newline_does_not_match(module: str, name: str, good: str) -> None:
    import importlib

    pattern = getattr(importlib.import_module(module), name)
    assert pattern.match(good)
    assert pattern.match(good + "\n") is None
