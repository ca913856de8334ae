"""Named connections (issue 17): secret parts sealed at rest (the database holds no canary),
masked everywhere, re-encrypted by a key rotation; the SMTP test against a real SMTP server
on 127.0.0.1 (aiosmtpd), through the SSRF guard."""

from __future__ import annotations

import contextlib
import socket
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tickwork import Tickwork
from tickwork.connections import kinds as ck
from tickwork.connections.vault import Vault, add_key
from tickwork.errors import InvalidInput
from tickwork.settings import Settings

CANARY = "canary-smtp-pa55-31f7"


@pytest.fixture
def tw(tmp_path: Path) -> Iterator[Tickwork]:
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=f"sqlite:///{tmp_path / 'tw.db'}",
        timezone="UTC",
        ssrf_allow=("127.0.0.1/32",),
    )
    t = Tickwork(settings=settings)
    yield t
    t.close()


def raw_dump(tw: Tickwork) -> str:
    """Every row of every table, as text: what a copy of the database gives away."""
    out = []
    with tw.store.db.engine.connect() as conn:
        for table in sa.MetaData().tables.values() or []:
            del table
        for name in sa.inspect(conn).get_table_names():
            out.extend(str(tuple(row)) for row in conn.execute(sa.text(f'SELECT * FROM "{name}"')))
    return "\n".join(out)


def test_secrets_are_sealed_at_rest_and_never_shown(tw: Tickwork) -> None:
    tw.add_connection("pg", "database", {"url": f"postgresql://app:{CANARY}@db.internal/app"})
    tw.add_connection(
        "mail", "smtp",
        {"host": "smtp.example.com", "username": "ops", "password": CANARY,
         "from_addr": "ops@example.com"},
    )  # fmt: skip
    tw.update_connection("mail", {"port": 2525})
    dump = raw_dump(tw)
    assert CANARY not in dump
    assert "twenc1:" in dump  # sealed by the vault
    assert tw.connection("pg").fields == {
        "url": "postgresql+psycopg://app@db.internal/app", "password": "******",
    }  # fmt: skip
    mail = tw.connection("mail").fields
    assert (mail["password"], mail["port"], mail["security"]) == ("******", 2525, "starttls")
    assert tw.open_connection("mail").fields["password"] == CANARY  # kept by the update
    opened = tw.open_connection("pg")
    assert opened.fields["url"] == f"postgresql+psycopg://app:{CANARY}@db.internal/app"
    assert CANARY in opened.masks


def test_a_sealed_secret_does_not_open_under_another_name(tw: Tickwork) -> None:
    tw.add_connection("a", "redis", {"url": f"redis://:{CANARY}@127.0.0.1:6379/0"})
    tw.add_connection("b", "redis", {"url": "redis://127.0.0.1:6379/0"})
    with tw.store.db.write() as conn:
        sealed = tw.store.connections.get(conn, "a").secret  # type: ignore[union-attr]
        conn.execute(
            sa.text("UPDATE tw_connection SET secret = :s WHERE name = 'b'"), {"s": sealed}
        )
    from tickwork.connections.vault import VaultError

    with pytest.raises(VaultError, match="does not open"):
        tw.open_connection("b")


def test_rotation_reseals_connection_secrets(tw: Tickwork) -> None:
    tw.add_connection("pg", "database", {"url": f"postgresql://app:{CANARY}@db/app"})
    before = tw.secret_counts()
    add_key(tw.settings.data_dir)
    done = tw.reencrypt_secrets(by="test")
    assert done["connections"] == 1
    current = tw.reload_vault().current
    assert tw.secret_counts() == {current: 1} != before
    assert tw.open_connection("pg").fields["url"].endswith(f":{CANARY}@db/app")
    assert tw.reencrypt_secrets(by="test")["connections"] == 0  # already under it


@pytest.mark.parametrize(
    ("kind", "fields", "field"),
    [
        ("database", {"url": "oracle://x/y"}, "url"),
        ("database", {"url": "sqlite://"}, "url"),
        ("database", {}, "url"),
        ("redis", {"url": "http://x"}, "url"),
        ("http", {"base_url": "ftp://x"}, "base_url"),
        ("http", {"base_url": "https://x.org", "auth_header": "Bad Header"}, "auth_header"),
        ("smtp", {"host": "x", "from_addr": "ops@x.org", "security": "ssl"}, "security"),
        ("smtp", {"host": "x", "from_addr": "ops@x.org", "port": 70000}, "port"),
        ("smtp", {"host": "x"}, "from_addr"),
        ("smtp", {"host": "x", "from_addr": "ops@x.org", "colour": "red"}, "colour"),
    ],
)
def test_bad_connection_fields_are_refused_naming_them(
    tw: Tickwork, kind: str, fields: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        tw.add_connection("c", kind, fields)
    assert caught.value.field == field
    assert tw.connections() == []


def test_names_and_kinds_are_checked(tw: Tickwork) -> None:
    for bad in ("Upper", "has space", "-dash", "", "x" * 64):
        with pytest.raises(InvalidInput) as caught:
            tw.add_connection(bad, "redis", {"url": "redis://h"})
        assert caught.value.field == "name"
    with pytest.raises(InvalidInput) as kind:
        tw.add_connection("ok", "ldap", {})
    assert kind.value.field == "kind"
    assert ck.check_name("ok-name_1") == "ok-name_1"


# -- SMTP, against a real server on 127.0.0.1 --------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Recorder:
    def __init__(self) -> None:
        self.logins: list[tuple[str, str]] = []


@contextlib.contextmanager
def smtp_server(tls_context: ssl.SSLContext | None = None) -> Iterator[tuple[int, Recorder]]:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    seen = Recorder()

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        if isinstance(data, LoginPassword):
            user, password = data.login.decode(), data.password.decode()
            seen.logins.append((user, password))
            return AuthResult(success=(user, password) == ("ops", CANARY), handled=False)
        return AuthResult(success=False, handled=False)

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            return "250 OK"

    port = free_port()
    controller = Controller(
        Handler(),
        hostname="127.0.0.1",
        port=port,
        authenticator=authenticator,
        auth_require_tls=False,
        tls_context=tls_context,
        require_starttls=False,
    )
    controller.start()
    try:
        yield port, seen
    finally:
        controller.stop()


def test_smtp_connection_test_logs_in(tw: Tickwork) -> None:
    with smtp_server() as (port, seen):
        base = {"host": "127.0.0.1", "port": port, "security": "none", "username": "ops",
                "from_addr": "ops@example.com"}  # fmt: skip
        tw.add_connection("mail", "smtp", {**base, "password": CANARY})
        tw.add_connection("wrong", "smtp", {**base, "password": "not-it"})
        ok = tw.test_connection("mail")
        bad = tw.test_connection("wrong")
    assert ok["ok"] is True, ok
    assert ok["message"] == f"SMTP 127.0.0.1:{port} logged in"
    assert bad["ok"] is False
    assert "535" in bad["message"]
    assert ("ops", CANARY) in seen.logins
    assert CANARY not in str(ok) + str(bad)


def test_smtp_to_a_refused_address_never_connects(tmp_path: Path) -> None:
    """Without the allowlist, a name resolving to loopback is refused before any connection:
    the server on 127.0.0.1 sees nobody."""
    settings = Settings(
        data_dir=tmp_path / "data", database_url=f"sqlite:///{tmp_path / 'x.db'}", timezone="UTC"
    )
    with Tickwork(settings=settings) as tw, smtp_server() as (port, seen):
        tw.add_connection(
            "mail", "smtp",
            {"host": "localhost", "port": port, "security": "none", "username": "ops",
             "password": CANARY, "from_addr": "ops@example.com"},
        )  # fmt: skip
        result = tw.test_connection("mail")
    assert result["ok"] is False
    assert "SSRF" in result["message"]
    assert seen.logins == []


def test_starttls_verifies_the_servers_certificate_against_its_name(
    tw: Tickwork, tmp_path: Path
) -> None:
    """The connection goes to the checked address, but TLS checks the certificate against
    the host name: a self-signed certificate is refused."""
    context = self_signed(tmp_path)
    with smtp_server(context) as (port, seen):
        tw.add_connection(
            "mail", "smtp",
            {"host": "127.0.0.1", "port": port, "security": "starttls", "username": "ops",
             "password": CANARY, "from_addr": "ops@example.com"},
        )  # fmt: skip
        result = tw.test_connection("mail")
    assert result["ok"] is False
    assert "CERTIFICATE_VERIFY_FAILED" in result["message"] or "certificate" in result["message"]
    assert seen.logins == []  # the password never went over an unverified channel


def self_signed(tmp_path: Path) -> ssl.SSLContext:
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    return context


def test_vault_keys_open_what_they_sealed(tw: Tickwork) -> None:
    vault = Vault.load(tw.settings.data_dir)
    assert vault.current
