"""Password hashing with argon2id (argon2-cffi, RFC 9106's recommended parameters), and the
password rules."""

from __future__ import annotations

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from tickwork.errors import InvalidInput

MIN_LENGTH = 10
MAX_LENGTH = 1024  # hashing cost grows with the length; refuse novels

_hasher = PasswordHasher(type=Type.ID)
# Verified against when the user does not exist, so both cases take the same time.
_DUMMY = _hasher.hash("tickwork-dummy-password")


def check_password(
    password: object, *, username: str | None = None, field: str = "password"
) -> str:
    if not isinstance(password, str):
        raise InvalidInput(field, "must be text", code="expected_text", params={"value": ""})
    if len(password) < MIN_LENGTH:
        raise InvalidInput(
            field,
            f"must have at least {MIN_LENGTH} characters",
            code="password_too_short",
            params={"min": MIN_LENGTH},
        )
    if len(password) > MAX_LENGTH:
        raise InvalidInput(
            field,
            f"must have at most {MAX_LENGTH} characters",
            code="password_too_long",
            params={"max": MAX_LENGTH},
        )
    if len(set(password)) < 4:
        raise InvalidInput(field, "is too simple", code="password_too_simple")
    if username and password.lower() == username.lower():
        raise InvalidInput(field, "must not be the user name", code="password_is_username")
    return password


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True if ``password`` matches; a missing user (None) costs the same time and fails."""
    try:
        return _hasher.verify(stored_hash or _DUMMY, password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)
