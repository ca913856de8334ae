"""A database server of the test's own, in a temporary directory on a free port, that the test
may stop and start (a database outage) without touching the machine's shared servers, which
other tests (and other test processes) use at the same time.

PostgreSQL: ``initdb`` + ``pg_ctl`` from the installed server (run as the ``postgres`` user
when the tests run as root, as the server refuses root). MariaDB: ``mariadb-install-db`` +
``mariadbd``.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_user(user: str) -> list[str]:
    return ["runuser", "-u", user, "--"] if os.geteuid() == 0 else []


class PrivateServer:
    """Start with :meth:`start`; :meth:`stop` and :meth:`start` again simulate an outage."""

    kind: str

    def __init__(self) -> None:
        self.port = _free_port()
        self.dir = Path(tempfile.mkdtemp(prefix=f"tw_{self.kind}_"))
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        raise NotImplementedError

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        engine = sa.create_engine(self.url, connect_args={"connect_timeout": 2})
        try:
            while True:
                try:
                    with engine.connect() as conn:
                        conn.execute(sa.text("SELECT 1"))
                    return
                except Exception:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)
        finally:
            engine.dispose()

    def close(self) -> None:
        try:
            self.stop()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


class PrivatePostgres(PrivateServer):
    kind = "postgres"

    def __init__(self) -> None:
        super().__init__()
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
        if not found:
            raise RuntimeError("no PostgreSQL server binaries under /usr/lib/postgresql")
        self.bin = Path(found[-1]).parent
        self.data = self.dir / "data"
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        subprocess.run(
            [*_as_user("postgres"), str(self.bin / "initdb"), "-D", str(self.data), "-U",
             "postgres", "-A", "trust", "--no-sync"],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.dir} -c fsync=off"
        subprocess.run(
            [*_as_user("postgres"), str(self.bin / "pg_ctl"), "-D", str(self.data), "-o",
             options, "-l", str(self.dir / "log"), "-w", "start"],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        self.wait_ready()

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            subprocess.run(
                [*_as_user("postgres"), str(self.bin / "pg_ctl"), "-D", str(self.data), "-m",
                 "immediate", "-w", "stop"],
                check=False, capture_output=True, timeout=120,
            )  # fmt: skip


class PrivateMariaDB(PrivateServer):
    kind = "mysql"

    def __init__(self) -> None:
        super().__init__()
        self.data = self.dir / "data"
        subprocess.run(
            ["mariadb-install-db", "--no-defaults", f"--datadir={self.data}", "--user=root",
             "--auth-root-authentication-method=normal", "--skip-test-db"],
            check=True, capture_output=True, timeout=300,
        )  # fmt: skip

    @property
    def url(self) -> str:
        return f"mysql+pymysql://root@127.0.0.1:{self.port}/mysql"

    def start(self) -> None:
        self._proc = subprocess.Popen(
            ["/usr/sbin/mariadbd", "--no-defaults", f"--datadir={self.data}", "--user=root",
             f"--port={self.port}", "--bind-address=127.0.0.1",
             f"--socket={self.dir / 'sock'}", f"--pid-file={self.dir / 'pid'}",
             "--innodb-flush-log-at-trx-commit=2", "--skip-log-bin"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self.wait_ready()

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()  # an outage is abrupt; InnoDB recovers at the next start
            self._proc.wait(60)
        self._proc = None


def private_server(kind: str) -> PrivateServer:
    return PrivatePostgres() if kind == "postgres" else PrivateMariaDB()


def database_on(server: PrivateServer, name: str = "tickwork") -> str:
    """Create a database on the private server and return its URL."""
    engine = sa.create_engine(server.url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        if server.kind == "postgres":
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        else:
            conn.execute(sa.text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
    engine.dispose()
    return str(sa.engine.make_url(server.url).set(database=name).render_as_string(False))
