"""Scripts in their sandbox (issue 17): a script that tries to read the secret key, the
database URL, the data directory's database file or the server's /proc/<pid>/environ gets
nothing; resource limits hold; the environment is clean. Each layer (Landlock; the switch to
an unprivileged user when the node runs as root) is proved on its own and together."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tickwork.targets import sandbox_boot
from tickwork.targets.base import TargetFailed
from tickwork.targets.script import KIND

LANDLOCK = sandbox_boot.landlock_abi() >= 1
ROOT = os.geteuid() == 0
SECRET_KEY = "canary-secret-key-4b1d-0123456789abcdef"
DB_PASSWORD = "canary-db-password-77"


class Out:
    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str, /) -> None:
        self.text += text


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data directory as `tickwork init` makes it: 0700, a secret key and a database 0600
    holding a canary; the server's environment holds the key and a database URL."""
    folder = tmp_path / "data"
    folder.mkdir(mode=0o700)
    key = folder / "secret_key"
    key.write_text(SECRET_KEY)
    key.chmod(0o600)
    db = folder / "tickwork.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE t (v TEXT)")
        conn.execute("INSERT INTO t VALUES (?)", (SECRET_KEY,))
    db.chmod(0o600)
    monkeypatch.setenv("TICKWORK_SECRET_KEY", SECRET_KEY)
    monkeypatch.setenv("TICKWORK_DATABASE_URL", f"postgresql://tw:{DB_PASSWORD}@db/tickwork")
    return folder


def run_script(
    code: str, data_dir: Path, language: str = "python", **sandbox: Any
) -> tuple[Any, str]:
    spec = KIND.validate({"language": language, "script": "probe", **sandbox.pop("spec", {})})
    spec["_code"] = code
    spec["_version"] = 1
    spec["_sandbox"] = {"mode": "auto", "protect": [str(data_dir)], **sandbox}
    out = Out()
    try:
        result = KIND.execution(spec, 30).run(out)
    except TargetFailed as exc:
        result = {"failed": exc.message, **(exc.result or {})}
    return result, out.text


# The script tries everything it should not get, and says what it got.
PROBE = """
import os, json, sys
got = {}
got["env_key"] = os.environ.get("TICKWORK_SECRET_KEY")
got["env_db"] = os.environ.get("TICKWORK_DATABASE_URL")
got["env_tickwork"] = sorted(k for k in os.environ if k.startswith("TICKWORK"))
def read(path):
    try:
        with open(path, "rb") as fh:
            return fh.read().decode("utf-8", "replace")
    except OSError as exc:
        return "DENIED " + type(exc).__name__
got["key_file"] = read(sys.argv[0] and "{data}/secret_key")
got["db_file"] = read("{data}/tickwork.db")
got["server_environ"] = read("/proc/{pid}/environ")
got["server_cmdline"] = read("/proc/{pid}/cmdline")
got["listing"] = None
try:
    got["listing"] = os.listdir("{data}")
except OSError as exc:
    got["listing"] = "DENIED " + type(exc).__name__
got["uid"] = os.getuid()
got["cwd_writable"] = True
with open("scratch.txt", "w") as fh:
    fh.write("ok")
print(json.dumps(got))
"""


def probe(data_dir: Path) -> str:
    return PROBE.replace("{data}", str(data_dir)).replace("{pid}", str(os.getpid()))


def got_nothing(text: str, *, fenced: bool = True) -> dict[str, Any]:
    """``fenced``: Landlock is on, so /proc is out of reach altogether (without it, another
    process's cmdline is world-readable, as always on Unix: Tickwork puts no secret there)."""
    got: dict[str, Any] = json.loads(text.strip().splitlines()[-1])
    assert got["env_key"] is None
    assert got["env_db"] is None
    assert got["env_tickwork"] == []
    names = ["key_file", "db_file", "server_environ"] + (["server_cmdline"] if fenced else [])
    for name in names:
        assert str(got[name]).startswith("DENIED"), (name, got[name])
    assert str(got["listing"]).startswith("DENIED")
    assert SECRET_KEY not in text
    assert DB_PASSWORD not in text
    return got


@pytest.mark.skipif(not (LANDLOCK or ROOT), reason="needs Landlock or root for a sandbox")
def test_a_script_gets_none_of_the_servers_secrets(data_dir: Path) -> None:
    result, text = run_script(probe(data_dir), data_dir)
    assert result.get("exit_code") == 0, result
    got = got_nothing(text)
    if ROOT:
        assert got["uid"] != 0  # switched to the unprivileged user


@pytest.mark.skipif(not LANDLOCK, reason="the kernel has no Landlock")
def test_landlock_alone_fences_the_filesystem(data_dir: Path) -> None:
    """No user switch (as on a node that does not run as root): Landlock alone keeps the
    data directory and /proc out of reach, even for root."""
    result, text = run_script(probe(data_dir), data_dir, user="")
    assert result.get("exit_code") == 0, result
    got = got_nothing(text)
    assert got["uid"] == os.getuid()


@pytest.mark.skipif(not ROOT, reason="the user switch needs a node running as root")
def test_the_user_switch_alone_protects_the_servers_files(data_dir: Path) -> None:
    result, text = run_script(probe(data_dir), data_dir, landlock=False)
    assert result.get("exit_code") == 0, result
    got_nothing(text, fenced=False)


def test_without_a_sandbox_the_environment_is_still_clean(data_dir: Path) -> None:
    """TICKWORK_SCRIPTS_SANDBOX=none (documented: scripts then read what the scheduler's
    user can) still never hands the server's environment to a script."""
    code = "import os, json; print(json.dumps(sorted(os.environ)))"
    result, text = run_script(code, data_dir, mode="none")
    assert result["exit_code"] == 0
    names = json.loads(text.strip().splitlines()[-1])
    assert not [n for n in names if n.startswith("TICKWORK")]
    assert set(names) <= {"PATH", "LANG", "LC_ALL", "HOME", "TMPDIR", "TZ", "PYTHONUNBUFFERED",
                          "PYTHONDONTWRITEBYTECODE", "LC_CTYPE"}  # fmt: skip


@pytest.mark.skipif(not (LANDLOCK or ROOT), reason="needs Landlock or root for a sandbox")
@pytest.mark.parametrize(
    ("limits", "code", "expect"),
    [
        ({"file_mb": 1}, "open('big','wb').write(b'x' * 5_000_000)", "File too large"),
        ({"cpu_s": 1}, "while True: pass", "killed by SIG"),  # SIGXCPU (or SIGKILL: hard limit)
        ({"memory_mb": 64}, "x = bytearray(512 * 1024 * 1024)", "MemoryError"),
        ({"open_files": 16}, "fs = [open('/dev/null') for _ in range(64)]", "Too many open files"),
    ],
)
def test_resource_limits_hold(
    data_dir: Path, limits: dict[str, int], code: str, expect: str
) -> None:
    result, text = run_script(code, data_dir, spec={"limits": limits})
    assert "failed" in result, result
    assert expect in result["failed"] + result["stderr"], (result, text)


@pytest.mark.skipif(not (LANDLOCK or ROOT), reason="needs Landlock or root for a sandbox")
def test_no_core_dumps_and_a_fresh_directory(data_dir: Path) -> None:
    code = (
        "import os, resource, json; "
        "print(json.dumps([resource.getrlimit(resource.RLIMIT_CORE), os.getcwd(), "
        "os.environ['HOME'], os.listdir('.')]))"
    )
    _result, text = run_script(code, data_dir)
    core, cwd, home, listing = json.loads(text.strip().splitlines()[-1])
    assert core == [0, 0]
    assert cwd == home
    assert Path(cwd).name.startswith("tickwork-script-")
    assert listing == ["script.py"]
    assert not Path(cwd).exists()  # removed after the run


@pytest.mark.skipif(not (LANDLOCK or ROOT), reason="needs Landlock or root for a sandbox")
def test_a_bash_script(data_dir: Path) -> None:
    code = f"echo hello from bash; cat {data_dir}/secret_key || echo denied; exit 4"
    result, text = run_script(code, data_dir, language="bash")
    assert result["exit_code"] == 4
    assert "hello from bash" in text
    assert "denied" in text
    assert SECRET_KEY not in text


def test_a_protected_path_inside_what_scripts_may_read_is_refused(tmp_path: Path) -> None:
    """A data directory under /etc or /usr would be readable through Landlock's allowed
    paths: such a node refuses to run scripts rather than run them unprotected."""
    if not LANDLOCK:
        pytest.skip("the kernel has no Landlock")
    result, _ = run_script("print(1)", tmp_path, protect=["/etc/tickwork"], user="")
    assert "is inside /etc" in result["failed"]
