"""Shell commands in every executor (issue 17): a timed-out or cancelled command leaves no
process of its group behind, a background child does not outlive its command, the command's
environment is clean, output reaches the run's log and its result."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.executors.helpers import KINDS, Recorder
from tickwork.engine.requests import KIND_RESULT_LIMIT
from tickwork.executors.base import Executor, RunRequest
from tickwork.models import RunStatus
from tickwork.targets.shell import KIND

StartExecutor = Callable[..., Executor]


def shell(run_id: int, command: str | list[str], **fields: Any) -> RunRequest:
    spec = KIND.validate(
        {"command": command, "shell": isinstance(command, str), **fields.pop("spec", {})}
    )
    fields.setdefault("result_limit", KIND_RESULT_LIMIT)  # as the dispatcher asks
    return RunRequest(
        run_id=run_id, job_id="job", target="shell", kind="shell", spec=spec, **fields
    )


def running(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie waiting for its parent is not)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            state = fh.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state not in ("Z", "X")


def pids_in(path: Path) -> list[int]:
    """The pids a command wrote to ``path`` (polled: the command writes them as it starts)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if path.exists():
            words = path.read_text().split()
            if len(words) >= 2:
                return [int(w) for w in words]
        time.sleep(0.01)
    raise AssertionError(f"the command never wrote its pids to {path}")


def gone(pids: list[int], within_s: float = 15.0) -> list[int]:
    """The pids still running after waiting up to ``within_s`` for them to end."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline and any(running(p) for p in pids):
        time.sleep(0.02)
    return [p for p in pids if running(p)]


# A command that starts `sleep 1000 &` in the background, writes its own pid and the sleep's,
# and waits. With "trap '' TERM" both ignore SIGTERM: only SIGKILL ends them.
def tree(pid_file: Path, ignore_term: bool = False) -> str:
    trap = "trap '' TERM; " if ignore_term else ""
    return f"{trap}sleep 1000 & echo $$ $! > {pid_file}; wait"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")
@pytest.mark.parametrize("ignore_term", [False, True], ids=["plain", "ignoring-sigterm"])
@pytest.mark.parametrize("how", ["timeout", "cancel"])
@pytest.mark.parametrize("kind", KINDS)
def test_a_stopped_shell_job_leaves_no_process_behind(
    kind: str,
    how: str,
    ignore_term: bool,
    start_executor: StartExecutor,
    recorder: Recorder,
    tmp_path: Path,
) -> None:
    executor = start_executor(kind, 2)
    pid_file = tmp_path / "pids"
    timeout = {"timeout_s": 1.0} if how == "timeout" else {}
    executor.submit(shell(1, tree(pid_file, ignore_term), **timeout), *recorder.callbacks())
    shell_pid, sleep_pid = pids_in(pid_file)
    assert running(shell_pid)
    assert running(sleep_pid)
    assert os.getpgid(sleep_pid) == os.getpgid(shell_pid) == shell_pid  # its own group
    if how == "cancel":
        assert executor.cancel(1, "cancelled by the operator")
    outcome = recorder.wait(1, 30)
    assert outcome.status == (RunStatus.TIMED_OUT if how == "timeout" else RunStatus.CANCELLED)
    assert gone([shell_pid, sleep_pid]) == []


@pytest.mark.parametrize("kind", KINDS)
def test_a_background_child_does_not_outlive_its_command(
    kind: str, start_executor: StartExecutor, recorder: Recorder, tmp_path: Path
) -> None:
    """Cronicle, Rundeck and Dkron leave grandchildren running; the command's group ends with
    the command."""
    executor = start_executor(kind, 1)
    pid_file = tmp_path / "pids"
    command = f"sleep 1000 & echo $$ $! > {pid_file}; echo started"
    executor.submit(shell(1, command), *recorder.callbacks())
    outcome = recorder.wait(1, 30)
    assert outcome.status == RunStatus.SUCCEEDED, outcome
    assert gone(pids_in(pid_file)) == []
    assert "started\n" in outcome.log


@pytest.mark.parametrize("kind", KINDS)
def test_exit_code_and_output_in_the_run_record(
    kind: str, start_executor: StartExecutor, recorder: Recorder
) -> None:
    executor = start_executor(kind, 2)
    executor.submit(shell(1, "echo out; echo err >&2; exit 3"), *recorder.callbacks())
    executor.submit(
        shell(2, ["/bin/sh", "-c", "echo fine; exit 3"], spec={"ok_exit_codes": [0, 3]}),
        *recorder.callbacks(),
    )
    failed, succeeded = recorder.wait_all([1, 2], 30)
    assert failed.status == RunStatus.FAILED
    assert failed.error == "the command exited with code 3 (accepted: 0)"
    import json

    assert json.loads(failed.result or "") == {"exit_code": 3, "stdout": "out\n", "stderr": "err\n"}
    assert "out\n" in failed.log
    assert "err\n" in failed.log
    assert succeeded.status == RunStatus.SUCCEEDED
    assert json.loads(succeeded.result or "")["exit_code"] == 3


def test_output_is_bounded_with_the_tail_kept(
    start_executor: StartExecutor, recorder: Recorder
) -> None:
    executor = start_executor("thread", 1)
    command = "i=0; while [ $i -lt 20000 ]; do echo line-$i; i=$((i+1)); done"
    executor.submit(shell(1, command, log_limit=4096), *recorder.callbacks())
    outcome = recorder.wait(1, 60)
    assert outcome.status == RunStatus.SUCCEEDED
    assert outcome.log.endswith("line-19999\n")
    assert len(outcome.log.encode()) <= 4096
    import json

    result = json.loads(outcome.result or "")
    assert result["stdout"].endswith("line-19999\n")
    assert len(result["stdout"]) <= 4000


def test_a_result_too_long_for_its_limit_stays_valid_json(
    start_executor: StartExecutor, recorder: Recorder
) -> None:
    """Output full of characters JSON escapes (control bytes) is cut from the head of the
    longest text until the result fits, never cut into invalid JSON."""
    executor = start_executor("thread", 1)
    command = ["python3", "-c", "import sys; sys.stdout.write(chr(1) * 9000 + 'END')"]
    executor.submit(shell(1, command, result_limit=2000), *recorder.callbacks())
    outcome = recorder.wait(1, 60)
    import json

    assert outcome.result is not None
    assert len(outcome.result) <= 2000
    result = json.loads(outcome.result)
    assert result["exit_code"] == 0
    assert result["stdout"].endswith("END")


@pytest.mark.parametrize("kind", KINDS)
def test_the_command_gets_a_clean_environment(
    kind: str,
    start_executor: StartExecutor,
    recorder: Recorder,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The scheduler's own environment (its secret key, its database URL, cloud credentials)
    never reaches a command; only PATH, the locale and what the job gives."""
    monkeypatch.setenv("TICKWORK_SECRET_KEY", "canary-secret-key-0123456789")
    monkeypatch.setenv("TICKWORK_DATABASE_URL", "postgresql://u:canary-db-password@h/db")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "canary-aws")
    executor = start_executor(kind, 1)
    executor.submit(shell(1, "env", spec={"env": {"GREETING": "hello"}}), *recorder.callbacks())
    outcome = recorder.wait(1, 30)
    assert outcome.status == RunStatus.SUCCEEDED
    assert "GREETING=hello" in outcome.log
    for canary in ("canary-secret-key", "canary-db-password", "canary-aws", "TICKWORK_"):
        assert canary not in outcome.log


def test_connection_secrets_handed_to_a_command_are_masked_in_its_record(
    start_executor: StartExecutor, recorder: Recorder
) -> None:
    executor = start_executor("thread", 1)
    spec = KIND.validate({"command": ["env"], "connections": ["warehouse"]})
    spec["_connections"] = {"warehouse": {"url": "postgresql://u:canary-pw-77@h/db"}}
    request = RunRequest(
        run_id=1, job_id="j", target="shell", kind="shell", spec=spec,
        secrets=("canary-pw-77", "postgresql://u:canary-pw-77@h/db"),
    )  # fmt: skip
    executor.submit(request, *recorder.callbacks())
    outcome = recorder.wait(1, 30)
    assert "TW_CONN_WAREHOUSE=" in outcome.log
    assert "canary-pw-77" not in outcome.log
    assert "canary-pw-77" not in (outcome.result or "")


def test_a_command_that_cannot_start_fails_saying_so(
    start_executor: StartExecutor, recorder: Recorder
) -> None:
    executor = start_executor("thread", 1)
    executor.submit(shell(1, ["/no/such/program"]), *recorder.callbacks())
    outcome = recorder.wait(1, 30)
    assert outcome.status == RunStatus.FAILED
    assert outcome.error is not None
    assert "could not start" in outcome.error
