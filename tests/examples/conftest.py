"""Fixtures of the examples' tests: load an example's module from its folder, and a database
``ex_<hex>`` of its own on a server."""

from __future__ import annotations

import importlib.util
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from tests import dbs
from tests.conftest import service_missing
from tickwork.targets.python import clear_cache

# the examples' modules that import each other by short name
SIBLINGS = ("tasks", "app", "main", "services", "scheduling", "tracker", "schedule", "start")
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def load(example: str, module: str) -> ModuleType:
    """``examples/<example>/<module>.py`` imported as its folder's ``python <module>.py`` does
    (the folder first on sys.path, so its sibling modules import by their short names)."""
    folder = EXAMPLES / example
    for cached in [name for name in sys.modules if name in SIBLINGS]:
        del sys.modules[cached]  # another example's sibling of the same name
    clear_cache()  # functions resolved from a sibling loaded before are other objects now
    sys.path.insert(0, str(folder))
    try:
        name = f"example_{example.replace('-', '_')}_{module}"
        spec = importlib.util.spec_from_file_location(name, folder / f"{module}.py")
        assert spec is not None
        assert spec.loader is not None
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        spec.loader.exec_module(mod)
        return mod
    finally:
        sys.path.remove(str(folder))


@pytest.fixture
def example_database() -> Iterator[Callable[[str], str]]:
    """``get(engine)``: the URL of a new database ``ex_<hex>`` on that server, dropped after."""
    made: list[tuple[str, str]] = []

    def get(engine: str) -> str:
        problem = dbs.reachable(engine)
        if problem is not None:
            service_missing(dbs.SERVER_NAMES[engine], problem)
        name = f"ex_{uuid.uuid4().hex[:10]}"
        admin = sa.create_engine(dbs.admin_url(engine), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            if engine == "postgres":
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
            else:
                conn.execute(sa.text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
        admin.dispose()
        made.append((engine, name))
        return make_url(dbs.admin_url(engine)).set(database=name).render_as_string(False)

    yield get
    for engine, name in made:
        admin = sa.create_engine(dbs.admin_url(engine), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            if engine == "postgres":
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            else:
                conn.execute(sa.text(f"DROP DATABASE IF EXISTS `{name}`"))
        admin.dispose()
