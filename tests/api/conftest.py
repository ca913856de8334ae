"""API fixtures: a Tickwork facade on a real database, the app over it, users of every role
with API tokens, and clients that talk real HTTP to the app (TestClient) or to uvicorn."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests import dbs
from tests.conftest import database_url
from tickwork.accounts.records import Principal
from tickwork.accounts.roles import Role
from tickwork.api import ApiSettings, create_app
from tickwork.service import Tickwork
from tickwork.settings import Settings
from tickwork.store import Store

KEY = "test-key-0123456789-abcdefghijklmnopqrstuvwxyz"
PASSWORD = "correct horse battery staple"
ROLES = ("viewer", "operator", "admin")


def fresh_url(kind: str, tmp_path: Path, server_database: Any) -> str:
    url = database_url(kind, tmp_path, server_database)
    store = Store(url)
    store.upgrade()
    dbs.empty_tables(store)
    store.close()
    return url


@pytest.fixture(params=["sqlite", "postgres"])
def api_db(request: pytest.FixtureRequest, tmp_path: Path, server_database: Any) -> str:
    """SQLite and PostgreSQL: the API's behaviour does not depend on the dialect; the store
    contract suite covers MariaDB."""
    kind: str = request.param
    request.applymarker(getattr(pytest.mark, kind))
    return fresh_url(kind, tmp_path, server_database)


@pytest.fixture
def sqlite_db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'tickwork.db'}"


@dataclass
class Api:
    tw: Tickwork
    app: FastAPI
    tokens: dict[str, str]  # role -> bearer token of a user with that role
    users: dict[str, int]  # role -> user id

    def client(self, role: str | None = None) -> TestClient:
        client = TestClient(self.app)
        if role is not None:
            client.headers["Authorization"] = f"Bearer {self.tokens[role]}"
        return client

    def session(self, role: str = "admin") -> tuple[TestClient, str]:
        """A client logged in with a cookie session, and its CSRF token."""
        client = TestClient(self.app)
        response = client.post(
            "/api/auth/login", json={"username": f"{role}-user", "password": PASSWORD}
        )
        assert response.status_code == 200, response.text
        return client, response.json()["csrf_token"]


# What the API tests' jobs may target (TICKWORK_ALLOWED_TARGETS of a deployment).
ALLOWED = ("tests",)


def api_over(
    url: str, data_dir: Path, tokens: dict[str, str], users: dict[str, int], **options: Any
) -> Api:
    tw = Tickwork(
        settings=Settings(
            data_dir=data_dir, database_url=url, timezone="UTC", allowed_targets=ALLOWED
        ),
        check_targets=False,
        **options,
    )
    return Api(tw, create_app(tw, ApiSettings(secret_key=KEY), console=False), tokens, users)


def make_api(url: str, data_dir: Path, **options: Any) -> Api:
    tw = Tickwork(
        settings=Settings(
            data_dir=data_dir, database_url=url, timezone="UTC", allowed_targets=ALLOWED
        ),
        check_targets=False,
        **options,
    )
    app = create_app(tw, ApiSettings(secret_key=KEY), console=False)
    tokens: dict[str, str] = {}
    users: dict[str, int] = {}
    for role in ROLES:
        user = tw.accounts.find_user(f"{role}-user") or tw.accounts.create_user(
            f"{role}-user", PASSWORD, role, by="test"
        )
        users[role] = user.id
        principal = Principal(user.id, user.username, Role(role), via="test")
        tokens[role] = tw.accounts.create_token(principal, f"{role} token")[0]
    return Api(tw, app, tokens, users)


@pytest.fixture
def api_factory(tmp_path: Path) -> Iterator[Callable[..., Api]]:
    made: list[Api] = []

    def factory(url: str, **options: Any) -> Api:
        api = make_api(url, tmp_path, **options)
        made.append(api)
        return api

    yield factory
    for api in made:
        api.tw.close()


@pytest.fixture
def api(api_db: str, api_factory: Callable[..., Api]) -> Api:
    return api_factory(api_db)


@pytest.fixture(scope="session")
def lite_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Api]:
    """A migrated SQLite database with the three users and their tokens, made once: each
    test gets a copy (argon2id hashing and migrations are most of an API test's setup)."""
    folder = tmp_path_factory.mktemp("lite-template")
    api = make_api(f"sqlite:///{folder / 'tickwork.db'}", folder)
    api.tw.close()  # the last connection checkpoints the WAL into the file
    return folder / "tickwork.db", api


@pytest.fixture
def lite_api_factory(
    tmp_path: Path, lite_template: tuple[Path, Api]
) -> Iterator[Callable[..., Api]]:
    """Apps over copies of the template, with Tickwork options (``clock=`` a FakeClock)."""
    import shutil

    template, made = lite_template
    apis: list[Api] = []

    def factory(**options: Any) -> Api:
        copy = tmp_path / f"tickwork-{len(apis)}.db"
        shutil.copyfile(template, copy)
        api = api_over(f"sqlite:///{copy}", tmp_path, made.tokens, made.users, **options)
        apis.append(api)
        return api

    yield factory
    for api in apis:
        api.tw.close()


@pytest.fixture
def lite_api(lite_api_factory: Callable[..., Api]) -> Api:
    return lite_api_factory()


def job_body(job_id: str, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": job_id,
        "target": {"ref": "tests.api.tasks:noop"},
        "trigger": {"kind": "cron", "expr": "0 2 * * *"},
        "timezone": "Europe/Berlin",
    }
    body.update(changes)
    return body
