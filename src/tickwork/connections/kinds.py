"""The kinds of named connections and how each splits into a public and a secret part.

* ``database``: ``url`` (postgresql://, mysql://, mariadb://, sqlite:////path), ``password``*
  (or in the URL);
* ``redis``: ``url`` (redis:// or rediss://), ``password``* (or in the URL);
* ``http``: ``base_url``, ``auth_header`` (default ``Authorization``), ``auth_value``*
  (``Bearer ...``), ``headers`` (plain ones);
* ``amqp``: ``url`` (amqp:// or amqps://, a RabbitMQ broker), ``password``* (or in the URL);
* ``smtp``: ``host``, ``port``, ``security`` (``starttls``, ``tls``, ``none``), ``username``,
  ``password``*, ``from_addr``.

(* secret)

Only the public part is ever shown; the secret part is sealed by the vault and opened on a
scheduler node for a run (or for a test), and its values are masked in whatever the run leaves
behind. Pure: no store, no network.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from tickwork.errors import InvalidInput
from tickwork.executors.redact import MASK

KINDS = ("database", "redis", "http", "smtp", "amqp")
NAME = re.compile(r"^[a-z][a-z0-9_-]{0,62}\Z")
# kind -> (public fields, secret fields)
FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "database": (("url",), ("password",)),
    "redis": (("url",), ("password",)),
    "http": (("base_url", "auth_header", "headers"), ("auth_value",)),
    "smtp": (("host", "port", "security", "username", "from_addr"), ("password",)),
    "amqp": (("url",), ("password",)),
}
DIALECTS = {
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mysql+pymysql",
    "sqlite": "sqlite",
}
SECURITY = ("starttls", "tls", "none")
_HEADER = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}\Z")
_EMAIL = re.compile(r"^[^@\s<>]{1,200}@[^@\s<>]{1,200}\Z")


def _refuse(field: str, reason: str, code: str = "invalid_value", **params: Any) -> InvalidInput:
    return InvalidInput(field, reason, code=code, params=params)


def check_name(value: Any, field: str = "name") -> str:
    if not isinstance(value, str) or not NAME.match(value):
        raise _refuse(
            field,
            f"{value!r} is not a connection name: 1-63 lower-case letters, digits, _ and -, "
            "starting with a letter",
            "bad_connection_name",
            name=str(value)[:100],
        )
    return value


def check_kind(value: Any) -> str:
    if value not in KINDS:
        raise _refuse(
            "kind", f"{value!r} is not one of {', '.join(KINDS)}", "not_one_of",
            choices=list(KINDS),
        )  # fmt: skip
    return str(value)


def _text(fields: Mapping[str, Any], name: str, limit: int = 2000) -> str | None:
    value = fields.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > limit or "\x00" in value:
        raise _refuse(name, f"must be text of at most {limit} characters", "text_type")
    return value


def split(kind: str, fields: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(public, secret) parts of a connection's fields; InvalidInput naming the field.
    Secret fields left out (or given masked) come back absent: the caller keeps the stored
    ones."""
    public_names, secret_names = FIELDS[kind]
    for key in fields:
        if key not in public_names and key not in secret_names:
            raise _refuse(
                key,
                f"is not a field of a {kind} connection (fields: "
                f"{', '.join((*public_names, *secret_names))})",
                "unknown_field",
                kind=kind,
            )
    secret: dict[str, Any] = {}
    for name in secret_names:
        value = _text(fields, name, 4096)
        if value is not None and value != MASK:
            secret[name] = value
    public: dict[str, Any]
    if kind in ("database", "redis", "amqp"):
        public, from_url = _url_parts(kind, fields)
        if from_url is not None:
            secret.setdefault("password", from_url)
    elif kind == "http":
        public = _http_parts(fields)
    else:
        public = _smtp_parts(fields)
    return public, secret


def _url_parts(kind: str, fields: Mapping[str, Any]) -> tuple[dict[str, Any], str | None]:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    url = _text(fields, "url", 2000)
    if url is None:
        raise _refuse("url", "is required", "missing")
    if kind in ("redis", "amqp"):
        from urllib.parse import urlsplit

        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise _refuse("url", f"is not a valid URL ({exc})", "bad_url") from None
        schemes = ("redis", "rediss") if kind == "redis" else ("amqp", "amqps")
        if parts.scheme not in schemes or not parts.hostname:
            form = "redis://host:port/db" if kind == "redis" else "amqp://user@host:port/vhost"
            raise _refuse("url", f"must be {form} (or {schemes[1]}://...)", "bad_url")
        password = parts.password
        host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
        netloc = host + (f":{port}" if port else "")
        if parts.username:
            netloc = f"{parts.username}@{netloc}"
        clean = parts._replace(netloc=netloc).geturl()
        return {"url": clean}, password
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as exc:
        raise _refuse("url", f"is not a database URL ({exc})", "bad_url") from None
    backend = parsed.get_backend_name()
    if backend not in DIALECTS:
        raise _refuse(
            "url",
            f"database {backend!r} is not supported: PostgreSQL, MySQL/MariaDB or SQLite",
            "bad_database",
            backend=backend,
        )
    if backend == "sqlite" and parsed.database in (None, "", ":memory:"):
        raise _refuse("url", "a SQLite connection needs a file: sqlite:////path/to.db", "bad_url")
    password = parsed.password
    # (URL.set ignores a None: the password would stay in the "public" part)
    stripped = parsed.set(drivername=DIALECTS[backend])._replace(password=None)
    return {"url": stripped.render_as_string(hide_password=False)}, (
        None if password is None else str(password)
    )


def _http_parts(fields: Mapping[str, Any]) -> dict[str, Any]:
    from tickwork.net.ssrf import split_url

    base = _text(fields, "base_url", 2000)
    if base is None:
        raise _refuse("base_url", "is required", "missing")
    split_url(base, "base_url")
    header = _text(fields, "auth_header", 100) or "Authorization"
    if not _HEADER.match(header):
        raise _refuse("auth_header", f"{header!r} is not a header name", "bad_header")
    headers = fields.get("headers") or {}
    if not isinstance(headers, Mapping) or len(headers) > 50:
        raise _refuse("headers", "must be a mapping of at most 50 header names to text")
    plain: dict[str, str] = {}
    for key, value in headers.items():
        if not isinstance(key, str) or not _HEADER.match(key):
            raise _refuse("headers", f"{key!r} is not a header name", "bad_header")
        if not isinstance(value, str) or len(value) > 4096 or any(c in value for c in "\r\n\0"):
            raise _refuse(f"headers.{key}", "must be one line of text", "text_type")
        plain[key] = value
    public: dict[str, Any] = {"base_url": base, "auth_header": header}
    if plain:
        public["headers"] = plain
    return public


def _smtp_parts(fields: Mapping[str, Any]) -> dict[str, Any]:
    host = _text(fields, "host", 253)
    if host is None:
        raise _refuse("host", "is required", "missing")
    security = fields.get("security", "starttls")
    if security not in SECURITY:
        raise _refuse(
            "security", f"{security!r} is not one of {', '.join(SECURITY)}", "not_one_of",
            choices=list(SECURITY),
        )  # fmt: skip
    default_port = {"starttls": 587, "tls": 465, "none": 25}[security]
    port = fields.get("port", default_port)
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise _refuse("port", f"{port!r} is not a port 1-65535", "out_of_range", min=1, max=65535)
    sender = _text(fields, "from_addr", 400)
    if sender is None or not _EMAIL.search(sender):
        raise _refuse("from_addr", "is required: an address such as ops@example.com", "missing")
    public: dict[str, Any] = {"host": host, "port": port, "security": security}
    user = _text(fields, "username", 400)
    if user:
        public["username"] = user
    public["from_addr"] = sender
    return public


def masked(kind: str, public: Mapping[str, Any], has_secret: Mapping[str, bool]) -> dict[str, Any]:
    """What faces show: the public part, each secret field as ``******`` (or null when it
    was never set)."""
    out = dict(public)
    for name in FIELDS[kind][1]:
        out[name] = MASK if has_secret.get(name) else None
    return out


def merged(kind: str, public: Mapping[str, Any], secret: Mapping[str, Any]) -> dict[str, Any]:
    """The fields a run or a test uses: public and secret together (the database and Redis
    URLs with their password back in them)."""
    out = {**public, **secret}
    password = secret.get("password")
    if kind == "database" and password:
        from sqlalchemy.engine import make_url

        out["url"] = (
            make_url(public["url"]).set(password=password).render_as_string(hide_password=False)
        )
    elif kind in ("redis", "amqp") and password:
        from urllib.parse import quote, urlsplit

        parts = urlsplit(public["url"])
        user = parts.username or ""
        netloc = f"{user}:{quote(password, safe='')}@{parts.netloc.rpartition('@')[2]}"
        out["url"] = parts._replace(netloc=netloc).geturl()
    return out


def secret_values(secret: Mapping[str, Any], full: Mapping[str, Any]) -> list[str]:
    """Every text in which a connection's secrets may show up (to mask in a run's records):
    the secret values, and the URLs that carry them."""
    values = [str(v) for v in secret.values() if v]
    if secret:
        for key in ("url",):
            if full.get(key):
                values.append(str(full[key]))
        from urllib.parse import quote

        values += [quote(str(v), safe="") for v in secret.values() if v]
    return [v for v in dict.fromkeys(values) if len(v) >= 3]
