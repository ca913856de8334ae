"""Done-when of issue 11 item 2: a backup job made from the db-backup template produces a
restorable dump of a real PostgreSQL and MariaDB database. The job runs on a scheduler node
(the shell kind, the named connection's password handed over in the environment or a private
defaults file), the test restores the dump into a fresh database and compares the rows; the
password appears in no command line, run record or job definition."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from tests import dbs
from tests.api.conftest import Api
from tests.api.test_hardening_secrets import run_to_end
from tests.conftest import service_missing

PASSWORD = "Templates-Bk-Pa55-9f3e"
ROWS = [(i, f"行 {i} — row", i * 1.5) for i in range(300)]


def _admin(kind: str) -> sa.Engine:
    problem = dbs.reachable(kind)
    if problem is not None:
        service_missing(dbs.SERVER_NAMES[kind], problem)
    return sa.create_engine(dbs.admin_url(kind), isolation_level="AUTOCOMMIT")


@pytest.fixture
def pg_source() -> Iterator[tuple[str, str]]:
    """(connection URL of a filled database owned by a user with a password, restore URL)."""
    if shutil.which("pg_dump") is None:
        pytest.skip("pg_dump is not installed")
    tag = uuid.uuid4().hex[:8]
    src, dst, user = f"templates_src_{tag}", f"templates_restore_{tag}", f"templates_bk_{tag}"
    admin = _admin("postgres")
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE ROLE {user} LOGIN PASSWORD '{PASSWORD}'"))
        conn.execute(sa.text(f'CREATE DATABASE "{src}" OWNER {user}'))
        conn.execute(sa.text(f'CREATE DATABASE "{dst}" OWNER {user}'))
    base = make_url(dbs.admin_url("postgres"))
    url = base.set(database=src, username=user).render_as_string(hide_password=False)
    restore = base.set(database=dst).render_as_string(hide_password=False)
    try:
        yield url, restore
    finally:
        with admin.connect() as conn:
            for name in (src, dst):
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(sa.text(f"DROP ROLE IF EXISTS {user}"))
        admin.dispose()


@pytest.fixture
def mysql_source() -> Iterator[tuple[str, str]]:
    if shutil.which("mariadb-dump") is None and shutil.which("mysqldump") is None:
        pytest.skip("neither mariadb-dump nor mysqldump is installed")
    tag = uuid.uuid4().hex[:8]
    src, dst, user = f"templates_src_{tag}", f"templates_restore_{tag}", f"templates_bk_{tag}"
    admin = _admin("mysql")
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE `{src}` CHARACTER SET utf8mb4"))
        conn.execute(sa.text(f"CREATE DATABASE `{dst}` CHARACTER SET utf8mb4"))
        conn.execute(sa.text(f"CREATE USER '{user}'@'%' IDENTIFIED BY '{PASSWORD}'"))
        conn.execute(sa.text(f"CREATE USER '{user}'@'localhost' IDENTIFIED BY '{PASSWORD}'"))
        for host in ("%", "localhost"):
            conn.execute(sa.text(f"GRANT ALL ON `{src}`.* TO '{user}'@'{host}'"))
    base = make_url(dbs.admin_url("mysql"))
    url = base.set(database=src, username=user).render_as_string(hide_password=False)
    restore = base.set(database=dst).render_as_string(hide_password=False)
    try:
        yield url, restore
    finally:
        with admin.connect() as conn:
            for name in (src, dst):
                conn.execute(sa.text(f"DROP DATABASE IF EXISTS `{name}`"))
            for host in ("%", "localhost"):
                conn.execute(sa.text(f"DROP USER IF EXISTS '{user}'@'{host}'"))
        admin.dispose()


def _fill(url: str) -> None:
    engine = sa.create_engine(make_url(url).set(password=PASSWORD))
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE item (id INTEGER PRIMARY KEY, label VARCHAR(100), "
                             "amount FLOAT)"))  # fmt: skip
        conn.execute(
            sa.text("INSERT INTO item VALUES (:i, :l, :a)"),
            [{"i": i, "l": label, "a": amount} for i, label, amount in ROWS],
        )
    engine.dispose()


def _rows(url: str) -> list[tuple[object, ...]]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(sa.text("SELECT * FROM item ORDER BY id"))]
    engine.dispose()
    return rows


def _backup_with_template(api: Api, name: str, url: str, directory: Path) -> Path:
    api.tw.add_connection(name, "database", {"url": url, "password": PASSWORD}, by="test")
    admin = api.client("admin")
    made = admin.post(
        "/api/templates/db-backup/jobs",
        json={"id": f"bk-{name}", "params": {"connection": name, "directory": str(directory),
                                             "keep": 2}},
    )  # fmt: skip
    assert made.status_code == 201, made.text
    job = admin.get(f"/api/jobs/bk-{name}").json()
    assert job["target"]["kind"] == "shell"
    link = admin.get(f"/api/jobs/bk-{name}/template").json()
    assert (link["template"], link["version"]) == ("db-backup", 1)
    api.tw.start()
    try:
        run = run_to_end(api, f"bk-{name}")
        log = api.client("viewer").get(f"/api/runs/{run['id']}/log").text
    finally:
        api.tw.shutdown(wait=True)
    assert run["status"] == "succeeded", (run, log)
    everything = f"{run}{log}{job}{admin.get('/api/audit').text}"
    assert PASSWORD not in everything
    dumps = sorted(p for p in directory.iterdir() if not p.name.endswith(".sha256"))
    assert len(dumps) == 1, dumps
    assert (directory / (dumps[0].name + ".sha256")).exists()
    return dumps[0]


@pytest.mark.postgres
def test_postgres_backup_from_the_template_restores(
    lite_api_factory: Callable[..., Api], pg_source: tuple[str, str], tmp_path: Path
) -> None:
    url, restore = pg_source
    _fill(url)
    dump = _backup_with_template(lite_api_factory(), "templates-pg", url, tmp_path / "bk")
    assert dump.suffix == ".dump"
    assert dump.read_bytes()[:5] == b"PGDMP"
    target = make_url(restore)
    subprocess.run(
        ["pg_restore", "--no-owner", "-h", target.host or "", "-p", str(target.port or 5432),
         "-U", target.username or "", "-d", target.database or "", str(dump)],
        check=True, capture_output=True,
    )  # fmt: skip
    assert _rows(restore) == ROWS


@pytest.mark.mysql
def test_mariadb_backup_from_the_template_restores(
    lite_api_factory: Callable[..., Api], mysql_source: tuple[str, str], tmp_path: Path
) -> None:
    url, restore = mysql_source
    _fill(url)
    dump = _backup_with_template(lite_api_factory(), "templates-maria", url, tmp_path / "bk")
    text = dump.read_text()
    assert "-- Dump completed" in text[-200:]
    assert PASSWORD not in text
    target = make_url(restore)
    client = shutil.which("mariadb") or shutil.which("mysql") or "mysql"
    subprocess.run(
        [client, "-h", target.host or "", "-P", str(target.port or 3306),
         "-u", target.username or "", target.database or ""],
        input=dump.read_bytes(), check=True, capture_output=True,
    )  # fmt: skip
    assert _rows(restore) == ROWS


@pytest.mark.mysql
def test_a_failed_dump_leaves_no_backup_and_rotates_nothing(
    mysql_source: tuple[str, str], tmp_path: Path
) -> None:
    from datetime import UTC, datetime

    from tickwork.templates.tools.backup import BackupError, backup, backups

    url, _ = mysql_source
    _fill(url)
    out = tmp_path / "bk"
    good = backup("m", {"url": url, "password": PASSWORD}, out,
                  now=datetime(2026, 1, 1, tzinfo=UTC), keep=1, max_age_s=0)  # fmt: skip
    with pytest.raises(BackupError, match="exited with") as failed:
        backup("m", {"url": url, "password": "wrong-password"}, out,
               now=datetime(2026, 1, 2, tzinfo=UTC), keep=1, max_age_s=0)  # fmt: skip
    assert "wrong-password" not in str(failed.value)
    assert [p for _, p in backups(out, "m")] == [good.path]  # the good one stays
    assert sorted(p.name for p in out.iterdir()) == [good.path.name, good.path.name + ".sha256"]
