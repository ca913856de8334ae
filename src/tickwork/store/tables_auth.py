"""Accounts: users, API tokens, console sessions and login throttles.

Secrets are never stored: passwords as argon2id hashes, tokens and session ids as keyed
HMAC-SHA256 digests (``tickwork.accounts.keys``), so a copy of the database logs nobody in.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Index, Integer, String, Table

from tickwork.store.tables import _MYSQL, RowId, metadata

user = Table(
    "tw_user",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("username", String(100), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),  # argon2id, PHC string format
    Column("role", String(16), nullable=False),  # viewer / operator / admin
    Column("disabled", Boolean, nullable=False, default=False),
    Column("created_at", BigInteger, nullable=False),
    Column("created_by", String(100), nullable=True),
    Column("updated_at", BigInteger, nullable=False),
    Column("password_changed_at", BigInteger, nullable=False),
    **_MYSQL,
)

api_token = Table(
    "tw_api_token",
    metadata,
    Column("id", String(32), primary_key=True),  # random, public (shown in lists)
    Column("user_id", BigInteger, nullable=False),
    Column("name", String(100), nullable=False),
    Column("digest", String(64), nullable=False, unique=True),  # HMAC-SHA256 of the token
    Column("role", String(16), nullable=False),  # at most the creator's role
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=True),  # None: no expiry
    Column("last_used_at", BigInteger, nullable=True),
    Column("revoked_at", BigInteger, nullable=True),
    Index(None, "user_id"),
    **_MYSQL,
)

session = Table(
    "tw_session",
    metadata,
    Column("digest", String(64), primary_key=True),  # HMAC-SHA256 of the cookie's value
    Column("user_id", BigInteger, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),  # idle expiry, pushed on use
    Column("absolute_expires_at", BigInteger, nullable=False),
    Column("last_seen_at", BigInteger, nullable=False),
    Column("address", String(64), nullable=True),
    Index(None, "user_id"),
    Index(None, "expires_at"),
    **_MYSQL,
)

# Failed logins, counted per key ("pair:<account>\x00<address>", "address:<address>")
# before the password is checked; a row's lock makes the count atomic across API nodes.
login_throttle = Table(
    "tw_login_throttle",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("last_failure_at", BigInteger, nullable=False),
    Column("blocked_until", BigInteger, nullable=False),  # no attempt before this instant
    Index(None, "last_failure_at"),
    **_MYSQL,
)
