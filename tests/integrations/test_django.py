"""Django: the app's settings, Django's DATABASES entry as Tickwork's store (one database for
both), ``manage.py tickwork run`` running jobs that use the ORM, ``manage.py tickwork jobs``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from tests import dbs
from tests.conftest import database_url
from tests.integrations.gunicorn import ROOT, wait_for
from tickwork.errors import InvalidInput
from tickwork.integrations.django.conf import url_of_database
from tickwork.service import Tickwork
from tickwork.settings import Settings
from tickwork.store import Store


def test_database_entries_become_urls(tmp_path: Path) -> None:
    pg = {"ENGINE": "django.db.backends.postgresql", "NAME": "shop", "USER": "app",
          "PASSWORD": "p@ss", "HOST": "db", "PORT": "5433"}  # fmt: skip
    assert url_of_database(pg) == "postgresql+psycopg://app:p%40ss@db:5433/shop"
    my = {"ENGINE": "django.db.backends.mysql", "NAME": "shop", "USER": "root", "HOST": ""}
    assert url_of_database(my) == "mysql+pymysql://root@localhost/shop"
    lite = {"ENGINE": "django.db.backends.sqlite3", "NAME": str(tmp_path / "db.sqlite3")}
    assert url_of_database(lite) == f"sqlite:///{tmp_path / 'db.sqlite3'}"
    for entry, field in (
        ({"ENGINE": "django.db.backends.oracle", "NAME": "x"}, "DATABASES.default.ENGINE"),
        ({"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}, "DATABASES.default.NAME"),
    ):
        with pytest.raises(InvalidInput) as refused:
            url_of_database(entry)
        assert refused.value.field == field


def _django_entry(url: str) -> dict[str, Any]:
    parsed = make_url(url)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": parsed.database,
        "USER": parsed.username,
        "PASSWORD": parsed.password or "",
        "HOST": parsed.host,
        "PORT": str(parsed.port or ""),
    }


def _manage(env: dict[str, str], *words: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "django", *words],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _project(tmp_path: Path, server_database: Any) -> tuple[str, dict[str, str]]:
    """An empty PostgreSQL database migrated by Django (its tables) and by Tickwork."""
    url = database_url("postgres", tmp_path, server_database)
    store = Store(url)
    store.upgrade()
    dbs.empty_tables(store)
    store.close()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "tests.integrations.djproject.settings",
        "TEST_DJANGO_DATABASE": json.dumps(_django_entry(url)),
        "TICKWORK_DATA_DIR": str(tmp_path),
        "TICKWORK_ELECTION_DIR": str(tmp_path / "host"),
    }
    migrated = _manage(env, "migrate", "--noinput")
    assert migrated.returncode == 0, migrated.stderr
    return url, env


def _drop_django_tables(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE IF EXISTS ticks_tick, django_migrations"))
    engine.dispose()


@pytest.mark.slow
@pytest.mark.postgres
def test_manage_py_tickwork_runs_orm_jobs_on_djangos_database(
    tmp_path: Path, server_database: Any
) -> None:
    url, env = _project(tmp_path, server_database)
    engine = sa.create_engine(url)

    def ticks() -> int:
        with engine.connect() as conn:
            return int(conn.execute(sa.text("SELECT count(*) FROM ticks_tick")).scalar_one())

    try:
        with open(tmp_path / "node.log", "ab") as log:
            node = subprocess.Popen(
                [sys.executable, "-m", "django", "tickwork", "run"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=log,
            )
            try:
                wait_for("3 ORM writes by the job", lambda: ticks() >= 3)
                listed = _manage(env, "tickwork", "jobs")
                assert listed.returncode == 0, listed.stderr
                assert listed.stdout.startswith("record_tick\tactive\t")
            finally:
                node.send_signal(signal.SIGTERM)
                assert node.wait(60) == 0
        written = ticks()
        with engine.connect() as conn:  # Django's and Tickwork's tables in one database
            names = set(sa.inspect(conn).get_table_names())
        assert {"ticks_tick", "django_migrations", "tw_job", "tw_run"} <= names
    finally:
        _drop_django_tables(engine)
    tw = Tickwork(settings=Settings(data_dir=tmp_path, database_url=url))
    try:
        runs = tw.get_runs("record_tick", limit=1000)
        job = tw.get_job("record_tick")
    finally:
        tw.close()
    assert job is not None
    assert job.record.owner == "config"  # declared by the setting: changed in settings.py
    succeeded = [r for r in runs if r.status == "succeeded"]
    assert len(succeeded) == written
    assert sorted(int(r.result or 0) for r in succeeded) == list(range(1, written + 1))


@pytest.mark.slow
@pytest.mark.postgres
def test_four_gunicorn_workers_run_each_fire_once(tmp_path: Path, server_database: Any) -> None:
    """wsgi.py calls start() in every worker: one runs the node, each fire writes one row."""
    from tests.integrations.gunicorn import gunicorn

    url, env = _project(tmp_path, server_database)
    engine = sa.create_engine(url)

    def ticks() -> list[tuple[int, int]]:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.text("SELECT id, pid FROM ticks_tick"))]

    try:
        app = "tests.integrations.djproject.wsgi:application"
        with gunicorn(app, env, workers=4, log=tmp_path / "gunicorn.log"):
            wait_for("4 ORM writes", lambda: len(ticks()) >= 4)
        rows = ticks()
    finally:
        _drop_django_tables(engine)
    assert len({pid for _, pid in rows}) == 1  # one elected worker ran the jobs
    tw = Tickwork(settings=Settings(data_dir=tmp_path, database_url=url))
    try:
        runs = tw.get_runs("record_tick", limit=1000)
    finally:
        tw.close()
    assert max(Counter(r.scheduled_for for r in runs).values()) == 1
    succeeded = sorted(int(r.result or 0) for r in runs if r.status == "succeeded")
    assert succeeded == sorted(row_id for row_id, _ in rows)  # each execution is one run
