"""Fixtures of the built-ins' tests: a database of their own (``mnt_...``) on each server, a
way to run a built-in as a worker does (validated spec, connection opened, execution run), and
a user without privileges."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from tests import dbs
from tests.conftest import service_missing
from tickwork.targets import kinds
from tickwork.targets.base import TargetFailed

ENGINES = ("postgres", "mysql")


class Out:
    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str, /) -> None:
        self.text += text


def run_builtin(url: str, **spec: Any) -> dict[str, Any]:
    """The result of one run of a built-in against ``url`` (a TargetFailed's result is
    returned too, with ``failed`` set to its message)."""
    kind = kinds.get("builtin")
    fields = {"connection": "target", **spec} if "connection" not in spec else dict(spec)
    if spec.get("connection") is False:
        fields.pop("connection")
    prepared = kind.validate(fields)
    if "connection" in prepared:
        prepared["_connections"] = {"target": {"url": url}}
    try:
        result: dict[str, Any] = kind.execution(prepared, None).run(Out())
    except TargetFailed as exc:
        result = dict(exc.result or {})
        result["failed"] = exc.message
    return result


def findings(result: dict[str, Any], severity: str | None = None) -> list[dict[str, str]]:
    return [f for f in result["findings"] if severity is None or f["severity"] == severity]


@pytest.fixture(scope="session")
def mnt_databases() -> Iterator[Callable[[str], str]]:
    """``get(engine)``: the URL of a database ``mnt_<hex>`` on that server, made once."""
    made: dict[str, str] = {}
    gens: list[Iterator[str]] = []

    def get(engine: str) -> str:
        if engine not in made:
            problem = dbs.reachable(engine)
            if problem is not None:
                service_missing(dbs.SERVER_NAMES[engine], problem)
            name = f"mnt_{uuid.uuid4().hex[:10]}"
            admin = sa.create_engine(dbs.admin_url(engine), isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                q = f'"{name}"' if engine == "postgres" else f"`{name}`"
                conn.execute(sa.text(f"CREATE DATABASE {q}"))
            admin.dispose()
            made[engine] = (
                make_url(dbs.admin_url(engine)).set(database=name).render_as_string(False)
            )

            def drop(name: str = name, engine: str = engine) -> Iterator[str]:
                yield name
                admin = sa.create_engine(dbs.admin_url(engine), isolation_level="AUTOCOMMIT")
                with admin.connect() as conn:
                    if engine == "postgres":
                        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                    else:
                        conn.execute(sa.text(f"DROP DATABASE IF EXISTS `{name}`"))
                admin.dispose()

            gen = drop()
            next(gen)
            gens.append(gen)
        return made[engine]

    yield get
    for gen in gens:
        next(gen, None)


@pytest.fixture(params=ENGINES)
def engine_name(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    request.applymarker(getattr(pytest.mark, name))
    return name


@pytest.fixture
def target_url(engine_name: str, mnt_databases: Callable[[str], str]) -> str:
    return mnt_databases(engine_name)


@pytest.fixture
def admin(target_url: str) -> Iterator[sa.Engine]:
    """An engine on the test database for planting conditions."""
    engine = sa.create_engine(target_url, isolation_level="AUTOCOMMIT")
    yield engine
    engine.dispose()


@pytest.fixture
def unprivileged_url(engine_name: str, target_url: str) -> Iterator[str]:
    """A user ``mnt_np_<hex>`` that may log in and nothing more."""
    user = f"mnt_np_{uuid.uuid4().hex[:8]}"
    password = uuid.uuid4().hex
    admin = sa.create_engine(dbs.admin_url(engine_name), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if engine_name == "postgres":
            conn.execute(sa.text(f"CREATE ROLE {user} LOGIN PASSWORD '{password}'"))
        else:
            conn.execute(sa.text(f"CREATE USER '{user}'@'%' IDENTIFIED BY '{password}'"))
            conn.execute(sa.text(f"CREATE USER '{user}'@'localhost' IDENTIFIED BY '{password}'"))
            db = make_url(target_url).database
            conn.execute(sa.text(f"GRANT SELECT ON `{db}`.* TO '{user}'@'%'"))
            conn.execute(sa.text(f"GRANT SELECT ON `{db}`.* TO '{user}'@'localhost'"))
    url = make_url(target_url).set(username=user, password=password)
    yield url.render_as_string(hide_password=False)
    with admin.connect() as conn:
        if engine_name == "postgres":
            conn.execute(sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = :u"
            ), {"u": user})  # fmt: skip
            conn.execute(sa.text(f"DROP ROLE IF EXISTS {user}"))
        else:
            conn.execute(sa.text(f"DROP USER IF EXISTS '{user}'@'%'"))
            conn.execute(sa.text(f"DROP USER IF EXISTS '{user}'@'localhost'"))
    admin.dispose()
