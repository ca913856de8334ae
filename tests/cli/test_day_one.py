"""A new user's first day with the `tickwork` command, as they would type it: their own module
run by `tickwork serve` from its folder (or --app-dir), one database for `make run` and the CLI
(and a note when a command creates a new, empty one), tables aligned with Chinese names,
`jobs list --json` re-imported with progress, `make run PORT=...`."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx2 as httpx

ROOT = Path(__file__).resolve().parents[2]
TICKWORK = str(Path(sys.executable).with_name("tickwork"))  # the installed command
USER_MODULE = """
from pathlib import Path

def work(out: str) -> str:
    Path(out).write_text("ran")
    return "ok from evaltasks"
"""


def run(cwd: Path, *args: str, home: Path, env: dict[str, str] | None = None,
        check: bool = True) -> subprocess.CompletedProcess[str]:  # fmt: skip
    """`tickwork ARGS` in ``cwd`` as a user runs it: no PYTHONPATH, no TICKWORK_* settings."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TICKWORK_")}
    clean.pop("PYTHONPATH", None)
    clean.update({"HOME": str(home), "XDG_DATA_HOME": str(home / ".local" / "share")})
    # what the deployment lets the CLI schedule (the target rules of issue 9)
    clean["TICKWORK_ALLOWED_TARGETS"] = "tickwork.demo"
    clean.update(env or {})
    result = subprocess.run(
        [TICKWORK, *args], cwd=cwd, capture_output=True, text=True, env=clean, timeout=90,
        check=False,
    )  # fmt: skip
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve_and_run(cwd: Path, home: Path, data: Path, out: Path, *serve_args: str) -> str:
    """Start `tickwork serve` in ``cwd``, run the job once, stop; the run's final status."""
    env = {"TICKWORK_DATA_DIR": str(data)}
    run(cwd, "init", home=home, env=env)
    port = free_port()
    log = data / "serve.log"
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TICKWORK_")}
    clean.pop("PYTHONPATH", None)
    clean.update({"HOME": str(home), **env})
    with log.open("w") as sink:
        server = subprocess.Popen(
            [TICKWORK, "serve", "--port", str(port), "--quiet", *serve_args],
            cwd=cwd, env=clean, stdout=sink, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert server.poll() is None, f"tickwork serve stopped:\n{log.read_text()}"
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        # the scheduler process syncs the job file once it has started
        while run(cwd, "jobs", "show", "mine", home=home, env=env, check=False).returncode:
            assert server.poll() is None, f"tickwork serve stopped:\n{log.read_text()}"
            assert time.monotonic() < deadline + 30, log.read_text()
            time.sleep(0.2)
        waited = run(cwd, "jobs", "run", "mine", "--wait", "--timeout", "30", home=home,
                     env=env, check=False)  # fmt: skip
        assert waited.stdout, waited.stderr + log.read_text()
        return waited.stdout.splitlines()[-1] + "\n" + log.read_text()
    finally:
        server.terminate()
        server.wait(timeout=30)


def write_project(folder: Path, out: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "evaltasks.py").write_text(USER_MODULE)
    jobs = folder / "jobs.yaml"
    jobs.write_text(
        "jobs:\n  - id: mine\n    target: evaltasks:work\n    interval: {hours: 1}\n"
        f"    kwargs: {{out: {json.dumps(str(out))}}}\n"
    )
    return jobs


def test_serve_imports_the_users_module_from_the_working_directory(tmp_path: Path) -> None:
    project, out = tmp_path / "project", tmp_path / "ran.txt"
    jobs = write_project(project, out)
    status = serve_and_run(project, tmp_path, tmp_path / "data", out, "--jobs", str(jobs))
    assert status.startswith("succeeded"), status
    assert out.read_text() == "ran"
    assert f"job modules are imported from: {project}" in status


def test_serve_app_dir_names_where_the_module_is(tmp_path: Path) -> None:
    project, out = tmp_path / "code", tmp_path / "ran.txt"
    jobs = write_project(project, out)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    status = serve_and_run(
        elsewhere, tmp_path, tmp_path / "data", out, "--jobs", str(jobs), "--app-dir", str(project)
    )
    assert status.startswith("succeeded"), status
    missing = run(elsewhere, "serve", "--app-dir", str(tmp_path / "nope"), home=tmp_path,
                  env={"TICKWORK_DATA_DIR": str(tmp_path / "data")}, check=False)  # fmt: skip
    assert missing.returncode == 2
    assert "--app-dir" in missing.stderr


def test_the_cli_uses_the_database_of_make_run_and_says_when_it_creates_one(
    tmp_path: Path,
) -> None:
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    # `make run` keeps its database in ./.tickwork (TICKWORK_DATA_DIR=$(CURDIR)/.tickwork)
    make_run_env = {"TICKWORK_DATA_DIR": str(checkout / ".tickwork")}
    made = run(checkout, "jobs", "add", "nightly", "tickwork.demo:heartbeat", "--cron",
               "0 2 * * *", home=tmp_path, env=make_run_env)  # fmt: skip
    assert "created a new, empty database" in made.stderr  # the first command made it
    # later commands in the same directory, with no option, find it and say nothing
    listed = run(checkout, "jobs", "list", home=tmp_path)
    assert "nightly" in listed.stdout
    assert listed.stderr == ""
    runs = run(checkout, "runs", "list", home=tmp_path)
    assert runs.stderr == ""
    # elsewhere, a command that has to create an empty database says so and where
    other = tmp_path / "other"
    other.mkdir()
    empty = run(other, "runs", "list", home=tmp_path)
    user_db = tmp_path / ".local" / "share" / "tickwork" / "tickwork.db"
    assert f"note: created a new, empty database {user_db}" in empty.stderr
    assert "--data-dir" in empty.stderr
    assert run(other, "runs", "list", home=tmp_path).stderr == ""  # once


def test_make_run_takes_the_port() -> None:
    dry = subprocess.run(
        ["make", "-n", "run", "PORT=8123"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    serve = [line for line in dry.stdout.splitlines() if "tickwork serve" in line]
    assert serve, dry.stdout
    assert "--port 8123" in serve[-1], dry.stdout
    assert "TICKWORK_DATA_DIR" in serve[-1]
    assert ".tickwork" in serve[-1]


def display_column(line: str, start: int) -> int:
    """The terminal column where the character at ``start`` is drawn (wide characters such
    as 中 take two columns)."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line[:start])


def test_tables_align_with_chinese_names(tmp_path: Path) -> None:
    env = {"TICKWORK_DATA_DIR": str(tmp_path / "data")}
    for job_id, name in (
        ("a", "每日清理任务"),
        ("bb", "Nightly cleanup"),
        ("c", "混合 mixed 名称"),
    ):
        run(tmp_path, "jobs", "add", job_id, "tickwork.demo:heartbeat", "--cron", "0 2 * * *",
            "--name", name, "--tz", "UTC", home=tmp_path, env=env)  # fmt: skip
    lines = run(tmp_path, "jobs", "list", home=tmp_path, env=env).stdout.splitlines()
    columns = {display_column(line, line.index("At 02:00")) for line in lines[1:]}
    assert len(columns) == 1, "\n".join(lines)
    assert display_column(lines[0], lines[0].index("TRIGGER")) in columns


def test_json_listing_reimports_with_progress(tmp_path: Path) -> None:
    source = {"TICKWORK_DATA_DIR": str(tmp_path / "source")}
    run(tmp_path, "jobs", "add", "nightly", "tickwork.demo:report", "--cron", "0 2 * * *",
        "--tz", "Asia/Shanghai", "--name", "每日报表", "--kwargs", '{"kind": "daily"}',
        "--retries", "2", home=tmp_path, env=source)  # fmt: skip
    every = run(tmp_path, "jobs", "add", "beat", "tickwork.demo:heartbeat", "--every", "90",
                home=tmp_path, env=source).stdout  # fmt: skip
    start = every.split("from ", 1)[1].split(";")[0]  # 2026-...:SS, no microseconds
    assert "." not in start, every
    # many more, to see progress
    bulk = [
        {"id": f"bulk-{i}", "target": "tickwork.demo:heartbeat", "cron": "0 3 * * *"}
        for i in range(1200)
    ]
    (tmp_path / "bulk.json").write_text(json.dumps(bulk))
    run(tmp_path, "jobs", "import", "bulk.json", home=tmp_path, env=source)
    exported = run(tmp_path, "jobs", "list", "--json", home=tmp_path, env=source).stdout
    (tmp_path / "jobs.json").write_text(exported)

    target = {"TICKWORK_DATA_DIR": str(tmp_path / "target"), "TICKWORK_PROGRESS": "1"}
    imported = run(tmp_path, "jobs", "import", "jobs.json", home=tmp_path, env=target)
    assert imported.stdout.strip() == "imported 1202 jobs from jobs.json: 1202 added, 0 replaced"
    steps = [line for line in imported.stderr.splitlines() if line.startswith("importing jobs")]
    assert steps[0] == "importing jobs: 500/1,202 (41%)"
    assert steps[-1].endswith("1,202/1,202 (100%)")
    again = json.loads(run(tmp_path, "jobs", "list", "--json", home=tmp_path, env=target).stdout)
    before = {j["id"]: j for j in json.loads(exported)}
    for job in again:  # the same definitions and schedules come back
        old = before[job["id"]]
        assert {k: v for k, v in job.items() if k != "info"} == {
            k: v for k, v in old.items() if k != "info"
        }
        assert job["info"]["next_run"] == old["info"]["next_run"]
    # existing ids are refused unless --replace, before anything is written
    refused = run(tmp_path, "jobs", "import", "jobs.json", home=tmp_path, env=target, check=False)
    assert refused.returncode == 2
    assert "--replace" in refused.stderr
    replaced = run(tmp_path, "jobs", "import", "jobs.json", "--replace", home=tmp_path, env=target)
    assert replaced.stdout.strip().endswith("0 added, 1202 replaced")


def test_exported_secrets_are_masked_and_kept_on_reimport(tmp_path: Path) -> None:
    from tickwork import Tickwork
    from tickwork.settings import Settings

    source = {"TICKWORK_DATA_DIR": str(tmp_path / "source")}
    (tmp_path / "secret.json").write_text(json.dumps([{
        "id": "backup", "target": "tickwork.demo:report", "cron": "0 2 * * *",
        "kwargs": {"kind": "daily", "dsn": "postgres://u:hunter2-secret@db/app"},
        "secret_keys": ["dsn"],
        "parameters": [{"name": "kind", "type": "string", "choices": ["daily", "weekly"]}],
    }]))  # fmt: skip
    run(tmp_path, "jobs", "import", "secret.json", home=tmp_path, env=source)
    exported = run(tmp_path, "jobs", "list", "--json", home=tmp_path, env=source).stdout
    assert "hunter2-secret" not in exported
    (entry,) = json.loads(exported)
    assert entry["kwargs"] == {"kind": "daily", "dsn": "******"}
    assert entry["parameters"] == [
        {"name": "kind", "type": "string", "choices": ["daily", "weekly"]}
    ]
    (tmp_path / "jobs.json").write_text(exported)
    # back into the same database: the stored secret stays
    run(tmp_path, "jobs", "import", "jobs.json", "--replace", home=tmp_path, env=source)
    tw = Tickwork(settings=Settings(data_dir=tmp_path / "source"), check_targets=False)
    try:
        job = tw.get_job("backup")
        assert job is not None
        assert job.kwargs["dsn"] == "postgres://u:hunter2-secret@db/app"
    finally:
        tw.close()
    # into another one: a masked secret would become the secret, so it is refused
    other = {"TICKWORK_DATA_DIR": str(tmp_path / "other")}
    refused = run(tmp_path, "jobs", "import", "jobs.json", home=tmp_path, env=other, check=False)
    assert refused.returncode == 2
    assert "kwargs.dsn" in refused.stderr
    assert "masked" in refused.stderr
