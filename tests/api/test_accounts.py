"""Accounts: the first admin, the secret key, argon2id hashes, tokens (shown once, stored as
digests, scoped, revocable, expiring), the login rate limit shared through the database,
sessions ending on a password change, and user management."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.api.conftest import KEY, PASSWORD, Api, fresh_url, job_body, make_api
from tickwork.accounts import keys
from tickwork.accounts.records import Principal
from tickwork.accounts.roles import Role
from tickwork.api import ApiSettings
from tickwork.clock import FakeClock
from tickwork.errors import InvalidInput
from tickwork.store.tables_auth import api_token, session, user

ROOT = Path(__file__).resolve().parents[2]


def cli(data_dir: Path, *args: str, stdin: str = "", env: dict[str, str] | None = None) -> Any:
    environ = {**os.environ, "TICKWORK_DATA_DIR": str(data_dir), "PYTHONPATH": str(ROOT)}
    environ.pop("TICKWORK_DATABASE_URL", None)
    environ.pop("TICKWORK_SECRET_KEY", None)
    environ.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "tickwork.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=environ,
        timeout=60,
        check=False,
    )


# -- secret key ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "value", ["", "   ", "changeme", "secret", "tickwork", "short-key", "a" * 64, "changeme" * 8]
)
def test_empty_default_or_weak_secret_keys_are_refused(value: str) -> None:
    with pytest.raises(InvalidInput):
        ApiSettings(secret_key=value)


def test_key_file_is_created_0600_and_loaded(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="tickwork init"):
        keys.load_secret_key(tmp_path, env={})
    path, created = keys.create_key_file(tmp_path)
    assert created
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert keys.create_key_file(tmp_path) == (path, False)
    assert keys.load_secret_key(tmp_path, env={}) == path.read_text().strip()
    path.chmod(0o644)
    with pytest.raises(InvalidInput, match="chmod 600"):
        keys.load_secret_key(tmp_path, env={})
    assert keys.load_secret_key(tmp_path, env={"TICKWORK_SECRET_KEY": KEY}) == KEY
    with pytest.raises(InvalidInput):
        keys.load_secret_key(tmp_path, env={"TICKWORK_SECRET_KEY": ""})


def test_serve_refuses_to_start_without_a_usable_key(tmp_path: Path) -> None:
    missing = cli(tmp_path, "serve", "--port", "0")
    assert missing.returncode == 2
    assert "tickwork init" in missing.stderr
    default = cli(tmp_path, "serve", "--port", "0", env={"TICKWORK_SECRET_KEY": "changeme"})
    assert default.returncode == 2
    assert "well-known default" in default.stderr


# -- first admin ---------------------------------------------------------------------------------
def test_first_admin_from_the_cli_with_password_stdin(tmp_path: Path) -> None:
    init = cli(tmp_path, "init")
    assert init.returncode == 0, init.stderr
    assert "create-admin" in init.stdout
    made = cli(tmp_path, "users", "create-admin", "Root", "--password-stdin", stdin=PASSWORD + "\n")
    assert made.returncode == 0, made.stderr
    again = cli(tmp_path, "users", "create-admin", "root", "--password-stdin", stdin=PASSWORD)
    assert again.returncode == 1
    assert "already exists" in again.stderr
    weak = cli(tmp_path, "users", "create-admin", "other", "--password-stdin", stdin="short\n")
    assert weak.returncode == 2
    assert "password" in weak.stderr
    listed = cli(tmp_path, "users", "list")
    assert "root" in listed.stdout
    assert "admin" in listed.stdout
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'tickwork.db'}")
    with engine.connect() as conn:
        hashes = list(conn.execute(sa.select(user.c.password_hash)).scalars())
    engine.dispose()
    assert len(hashes) == 1
    assert hashes[0].startswith("$argon2id$")
    assert PASSWORD not in hashes[0]


def test_first_admin_from_the_environment_only_when_no_user_exists(
    tmp_path: Path, api_factory: Callable[..., Api]
) -> None:
    from tickwork.cli.serve import _first_admin

    url = f"sqlite:///{tmp_path / 'tw.db'}"
    api = api_factory(url)  # creates three users
    os.environ["TICKWORK_ADMIN_USER"] = "envadmin"
    os.environ["TICKWORK_ADMIN_PASSWORD"] = PASSWORD
    try:
        _first_admin(api.tw, demo=False, url="")
        assert api.tw.accounts.find_user("envadmin") is None  # users exist: ignored
        empty = tmp_path / "empty.db"
        from tickwork.service import Tickwork
        from tickwork.settings import Settings

        with Tickwork(settings=Settings(data_dir=tmp_path, database_url=f"sqlite:///{empty}"),
                      check_targets=False) as tw:  # fmt: skip
            _first_admin(tw, demo=False, url="")
            made = tw.accounts.find_user("envadmin")
            assert made is not None
            assert made.role.value == "admin"
            _first_admin(tw, demo=False, url="")  # second start: nothing more
            assert tw.accounts.count_users() == 1
    finally:
        del os.environ["TICKWORK_ADMIN_USER"], os.environ["TICKWORK_ADMIN_PASSWORD"]


def test_demo_creates_admin_with_a_random_password_printed_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tickwork.cli.serve import _first_admin
    from tickwork.service import Tickwork
    from tickwork.settings import Settings

    with Tickwork(settings=Settings(data_dir=tmp_path), check_targets=False) as tw:
        _first_admin(tw, demo=True, url="http://127.0.0.1:8080/")
        err = capsys.readouterr().err
        assert "as  admin  with password  " in err
        password = err.split("with password  ")[1].split()[0]
        assert len(password) >= 12
        tw.accounts.set_secret_key(KEY)
        assert tw.accounts.login("admin", password, "127.0.0.1").user.username == "admin"
        _first_admin(tw, demo=True, url="")
        assert capsys.readouterr().err == ""  # never again


# -- tokens --------------------------------------------------------------------------------------
def test_token_shown_once_stored_as_a_digest_and_revocable(api: Api) -> None:
    client = api.client("operator")
    created = client.post("/api/tokens", json={"name": "ci", "role": "viewer"})
    assert created.status_code == 201, created.text
    token = created.json()["token"]
    info = created.json()["info"]
    assert token.startswith("tw_")
    assert (info["role"], info["active"], info["username"]) == ("viewer", True, "operator-user")
    listed = client.get("/api/tokens").json()
    assert token not in str(listed)
    assert {t["id"] for t in listed} >= {info["id"]}
    with api.tw.store.db.read() as conn:
        stored = conn.execute(sa.select(api_token)).mappings().all()
    assert token not in str([dict(r) for r in stored])
    assert all(len(r["digest"]) == 64 for r in stored)
    bearer = api.client()
    headers = {"Authorization": f"Bearer {token}"}
    assert bearer.get("/api/jobs", headers=headers).status_code == 200
    assert bearer.post("/api/scheduler/pause", headers=headers).status_code == 403  # viewer
    assert client.get("/api/tokens").json()[0]["last_used_at"] is not None
    assert client.delete(f"/api/tokens/{info['id']}").status_code == 204
    assert bearer.get("/api/jobs", headers=headers).status_code == 401
    assert not client.get("/api/tokens").json()[0]["active"]


def test_token_roles_never_exceed_their_creator(api: Api) -> None:
    operator = api.client("operator")
    too_high = operator.post("/api/tokens", json={"name": "x", "role": "admin"})
    assert too_high.status_code == 403
    viewer_made = api.client("viewer").post("/api/tokens", json={"name": "v"}).json()
    assert viewer_made["info"]["role"] == "viewer"
    admin = api.client("admin")
    # others' tokens: invisible to non-admins, revocable by admins
    theirs = api.client("viewer").get("/api/tokens").json()
    assert all(t["username"] == "viewer-user" for t in theirs)
    everyone = admin.get("/api/tokens", params={"all": "true"}).json()
    assert {t["username"] for t in everyone} >= {"viewer-user", "operator-user", "admin-user"}
    op_token = next(t for t in everyone if t["username"] == "operator-user")
    assert api.client("viewer").delete(f"/api/tokens/{op_token['id']}").status_code == 404
    assert admin.delete(f"/api/tokens/{op_token['id']}").status_code == 204
    assert api.client("operator").get("/api/jobs").status_code == 401


def test_a_token_is_capped_by_its_users_current_role(api: Api) -> None:
    """A token keeps the role it was made with, but acts with no more than its user has now:
    demoting a user demotes their tokens at once, promoting them back restores them."""
    admin = api.client("admin")
    demote_self = admin.patch(f"/api/users/{api.users['admin']}", json={"role": "viewer"})
    assert demote_self.status_code == 409  # nobody changes their own role: another admin must
    kept = admin.post("/api/tokens", json={"name": "admin-made"}).json()
    assert kept["info"]["role"] == "admin"
    holder = api.client()
    holder.headers["Authorization"] = f"Bearer {kept['token']}"
    assert holder.get("/api/me").json()["role"] == "admin"
    assert holder.post("/api/jobs", json=job_body("before")).status_code == 201

    boss = api.tw.accounts.create_user("boss", PASSWORD, "admin", by="t")
    boss_client = api.client()
    boss_client.headers["Authorization"] = f"Bearer {token_of(api, boss.id, 'boss', 'admin')}"
    demote = boss_client.patch(f"/api/users/{api.users['admin']}", json={"role": "viewer"})
    assert demote.status_code == 200, demote.text
    assert demote.json()["role"] == "viewer"
    me = holder.get("/api/me").json()
    assert (me["role"], me["user"]["role"]) == ("viewer", "viewer")
    assert holder.post("/api/jobs", json=job_body("after")).status_code == 403
    assert holder.post("/api/scheduler/pause").status_code == 403
    assert holder.get("/api/users").status_code == 403
    assert holder.get("/api/jobs").status_code == 200  # still a viewer
    listed = holder.get("/api/tokens").json()
    assert next(t for t in listed if t["id"] == kept["info"]["id"])["role"] == "admin"

    promote = boss_client.patch(f"/api/users/{api.users['admin']}", json={"role": "operator"})
    assert promote.status_code == 200, promote.text
    assert holder.get("/api/me").json()["role"] == "operator"
    assert holder.post("/api/scheduler/pause").status_code == 200
    assert holder.post("/api/jobs", json=job_body("after")).status_code == 403
    # and a token made with a lower role stays there when its user is promoted
    assert (
        boss_client.patch(f"/api/users/{api.users['admin']}", json={"role": "admin"}).json()["role"]
        == "admin"
    )
    assert holder.get("/api/me").json()["role"] == "admin"
    operator_token = api.client("operator").post("/api/tokens", json={"name": "op"}).json()
    assert (
        boss_client.patch(f"/api/users/{api.users['operator']}", json={"role": "admin"}).status_code
        == 200
    )
    op_holder = api.client()
    op_holder.headers["Authorization"] = f"Bearer {operator_token['token']}"
    assert op_holder.get("/api/me").json()["role"] == "operator"
    assert op_holder.post("/api/jobs", json=job_body("still-not")).status_code == 403


def token_of(api: Api, user_id: int, username: str, role: str) -> str:
    """A new API token of a user made in the test (the fixture's users have theirs)."""
    principal = Principal(user_id, username, Role(role), via="test")
    return api.tw.accounts.create_token(principal, f"{username} token")[0]


def test_expired_tokens_are_refused(
    api_db: str, api_factory: Callable[..., Api], fake_clock: FakeClock
) -> None:
    api = api_factory(api_db, clock=fake_clock)
    client = api.client("admin")
    past = client.post("/api/tokens", json={"name": "old", "expires_at": "2000-01-01T00:00:00Z"})
    assert past.status_code == 422
    assert past.json()["field"] == "expires_at"
    admin = api.tw.accounts.authenticate_token(api.tokens["admin"])
    assert admin is not None
    soon = api.tw.accounts.create_token(admin, "soon", expires_at=fake_clock.now_us() + 200_000)[0]
    bearer = {"Authorization": f"Bearer {soon}"}
    fake_clock.advance(0.199_999)
    assert api.client().get("/api/jobs", headers=bearer).status_code == 200
    fake_clock.advance(0.000_001)  # its expiry instant: no longer valid
    assert api.client().get("/api/jobs", headers=bearer).status_code == 401
    listed = client.get("/api/tokens").json()
    assert next(t for t in listed if t["name"] == "soon")["active"] is False


# -- sessions, passwords, users ------------------------------------------------------------------
def test_password_change_ends_old_sessions(api: Api) -> None:
    first, _ = api.session("viewer")
    second, csrf = api.session("viewer")
    wrong = second.post(
        "/api/me/password",
        json={"current_password": "not it at all", "new_password": "a brand new secret"},
        headers={"X-CSRF-Token": csrf},
    )
    assert wrong.status_code == 422
    assert wrong.json()["field"] == "current_password"
    changed = second.post(
        "/api/me/password",
        json={"current_password": PASSWORD, "new_password": "a brand new secret"},
        headers={"X-CSRF-Token": csrf},
    )
    assert changed.status_code == 204, changed.text
    assert first.get("/api/me").status_code == 401
    assert second.get("/api/me").status_code == 401
    old = api.client().post(
        "/api/auth/login", json={"username": "viewer-user", "password": PASSWORD}
    )
    assert old.status_code == 401
    new = api.client().post(
        "/api/auth/login", json={"username": "viewer-user", "password": "a brand new secret"}
    )
    assert new.status_code == 200
    assert api.client("viewer").get("/api/me").status_code == 200  # tokens stay valid
    with api.tw.store.db.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(session)).scalar_one() == 1


def test_users_crud_and_the_last_admin(api: Api) -> None:
    admin = api.client("admin")
    made = admin.post(
        "/api/users", json={"username": "Ann", "password": PASSWORD, "role": "operator"}
    )
    assert made.status_code == 201, made.text
    ann = made.json()
    assert (ann["username"], ann["role"]) == ("ann", "operator")
    assert (
        admin.post("/api/users", json={"username": "ann", "password": PASSWORD}).status_code == 409
    )
    weak = admin.post("/api/users", json={"username": "bob", "password": "short"})
    assert (weak.status_code, weak.json()["field"]) == (422, "password")
    bad_name = admin.post("/api/users", json={"username": "no spaces", "password": PASSWORD})
    assert (bad_name.status_code, bad_name.json()["field"]) == (422, "username")
    assert [u["username"] for u in admin.get("/api/users").json()] == [
        "admin-user", "ann", "operator-user", "viewer-user"]  # fmt: skip
    ann_client = api.client()
    assert (
        ann_client.post(
            "/api/auth/login", json={"username": "ann", "password": PASSWORD}
        ).status_code
        == 200
    )
    disabled = admin.patch(f"/api/users/{ann['id']}", json={"disabled": True})
    assert disabled.json()["disabled"] is True
    assert ann_client.get("/api/me").status_code == 401  # sessions ended
    assert admin.delete(f"/api/users/{ann['id']}").status_code == 204
    assert admin.get(f"/api/users/{ann['id']}").status_code == 404
    assert admin.delete(f"/api/users/{api.users['admin']}").status_code == 409
    # the last admin cannot be demoted by someone else either
    boss = api.tw.accounts.create_user("boss", PASSWORD, "admin", by="t")
    from tickwork.accounts.records import Principal
    from tickwork.accounts.roles import Role

    as_boss = Principal(boss.id, "boss", Role.ADMIN, via="test")
    api.tw.accounts.update_user(api.users["admin"], by=as_boss, role="viewer")
    with pytest.raises(Exception, match="last active admin"):
        api.tw.accounts.update_user(
            boss.id, by=Principal(0, "x", Role.ADMIN, via="t"), role="viewer"
        )
    actions = [e.action for e in api.tw.audit.page()]
    assert {"user.create", "user.update", "user.delete", "token.create"} <= set(actions)


# -- rate limit ----------------------------------------------------------------------------------
@pytest.mark.postgres
def test_login_rate_limit_is_shared_by_two_api_nodes(
    tmp_path: Path, server_database: Any, api_factory: Callable[..., Api]
) -> None:
    from tickwork.clock import FakeClock

    clock = FakeClock(1_767_607_200_000_000)  # delays are counted on it, not on the wall
    url = fresh_url("postgres", tmp_path, server_database)
    one = api_factory(url, clock=clock).client()
    two = make_api(url, tmp_path, clock=clock).client()  # a second app on the same database
    wrong = {"username": "admin-user", "password": "wrong password here"}
    for i in range(4):  # three free failures, the fourth starts the delays
        client = one if i % 2 == 0 else two
        assert client.post("/api/auth/login", json=wrong).status_code == 401
    for client in (one, two):
        limited = client.post("/api/auth/login", json={"username": "admin-user",
                                                         "password": PASSWORD})  # fmt: skip
        assert limited.status_code == 429, limited.text
        assert 0 < int(limited.headers["Retry-After"]) <= 900
        assert limited.json()["retry_after_s"] == int(limited.headers["Retry-After"])
    clock.advance(int(limited.headers["Retry-After"]))
    assert one.post("/api/auth/login", json={"username": "admin-user", "password": PASSWORD}
                    ).status_code == 200  # fmt: skip
    # another account from the same address is not slowed until the address limit (20)
    assert one.post("/api/auth/login", json={"username": "viewer-user", "password": PASSWORD}
                    ).status_code == 200  # fmt: skip
    statuses = []
    for i in range(25):  # one address trying many accounts
        name = f"nobody-{i}"
        statuses.append(
            (one if i % 2 else two)
            .post("/api/auth/login", json={"username": name, "password": "x" * 12})
            .status_code
        )
    assert 429 in statuses
    assert statuses.index(429) >= 15  # 20 failures from the address are free
    address_limited = two.post(
        "/api/auth/login", json={"username": "operator-user", "password": PASSWORD}
    )
    assert address_limited.status_code == 429
    assert "address" in address_limited.json()["detail"]


def test_a_success_clears_the_account_failures(lite_api: Api) -> None:
    client = lite_api.client()
    for _ in range(2):
        for _ in range(3):  # the free failures of this account from this address
            bad = client.post(
                "/api/auth/login", json={"username": "admin-user", "password": "no no no no"}
            )
            assert bad.status_code == 401
        ok = client.post("/api/auth/login", json={"username": "admin-user", "password": PASSWORD})
        assert ok.status_code == 200


def test_unknown_users_and_wrong_passwords_look_the_same(lite_api: Api) -> None:
    client = lite_api.client()
    unknown = client.post("/api/auth/login", json={"username": "ghost", "password": "x" * 12})
    wrong = client.post("/api/auth/login", json={"username": "admin-user", "password": "x" * 12})
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json() == wrong.json()


def test_roles_gate_what_jobs_allow(lite_api: Api) -> None:
    viewer, operator = lite_api.client("viewer"), lite_api.client("operator")
    lite_api.client("admin").post("/api/jobs", json=job_body("r"))
    assert viewer.post("/api/jobs/r/pause").status_code == 403
    assert operator.post("/api/jobs/r/pause").status_code == 200
    assert operator.delete("/api/jobs/r").status_code == 403
    assert operator.post("/api/jobs", json=job_body("s")).status_code == 403
