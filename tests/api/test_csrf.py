"""CSRF: every write with a session cookie needs the session's token in X-CSRF-Token; bearer
tokens need none; reads never do."""

from __future__ import annotations

from tests.api.conftest import Api, job_body


def test_cookie_writes_need_the_sessions_csrf_token(lite_api: Api) -> None:
    client, csrf = lite_api.session("admin")
    before = lite_api.tw.audit.count()
    missing = client.post("/api/jobs", json=job_body("a"))
    assert missing.status_code == 403
    assert "X-CSRF-Token" in missing.json()["detail"]
    wrong = client.post("/api/jobs", json=job_body("a"), headers={"X-CSRF-Token": "0" * 64})
    assert wrong.status_code == 403
    for method, path in (
        ("POST", "/api/scheduler/pause"),
        ("DELETE", "/api/jobs/a"),
        ("PATCH", "/api/jobs/a"),
        ("POST", "/api/auth/logout"),
        ("POST", "/api/tokens"),
    ):
        assert client.request(method, path, json={}).status_code == 403, (method, path)
    assert lite_api.tw.get_job("a") is None
    assert lite_api.tw.audit.count() == before  # nothing was written
    ok = client.post("/api/jobs", json=job_body("a"), headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 201, ok.text


def test_reads_never_need_it_and_me_hands_it_out(lite_api: Api) -> None:
    client, csrf = lite_api.session("viewer")
    assert client.get("/api/jobs").status_code == 200
    me = client.get("/api/me").json()
    assert me["via"] == "session"
    assert me["csrf_token"] == csrf


def test_a_token_of_another_session_is_refused(lite_api: Api) -> None:
    first, _ = lite_api.session("admin")
    _, other_csrf = lite_api.session("admin")
    response = first.post("/api/scheduler/pause", headers={"X-CSRF-Token": other_csrf})
    assert response.status_code == 403
    assert lite_api.tw.is_paused() is False


def test_bearer_writes_need_no_csrf(lite_api: Api) -> None:
    client = lite_api.client("admin")
    assert client.post("/api/jobs", json=job_body("b")).status_code == 201
    assert client.get("/api/me").json()["csrf_token"] is None


def test_session_cookie_attributes(lite_api: Api) -> None:
    client = lite_api.client()
    response = client.post(
        "/api/auth/login",
        json={"username": "admin-user", "password": "correct horse battery staple"},
    )
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("tw_session=")
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Path=/" in cookie
    assert "Secure" not in cookie  # plain HTTP here; Secure over HTTPS
    secure = lite_api.client()
    secure.base_url = "https://testserver"  # type: ignore[assignment]
    response = secure.post(
        "/api/auth/login",
        json={"username": "admin-user", "password": "correct horse battery staple"},
    )
    assert "Secure" in response.headers["set-cookie"]


def test_logout_ends_the_session(lite_api: Api) -> None:
    client, csrf = lite_api.session("operator")
    assert client.post("/api/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    assert client.get("/api/me").status_code == 401


def test_forms_cannot_post(lite_api: Api) -> None:
    """A cross-site HTML form can only send form or text bodies: refused before auth."""
    client, csrf = lite_api.session("admin")
    response = client.post(
        "/api/auth/login",
        content=b"username=admin-user&password=x",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 415
    response = client.post(
        "/api/jobs",
        content=b'{"id": "x"}',
        headers={"Content-Type": "text/plain", "X-CSRF-Token": csrf},
    )
    assert response.status_code == 415
