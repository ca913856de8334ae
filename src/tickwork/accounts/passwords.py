"""Password hashing with argon2id (argon2-cffi, RFC 9106's recommended parameters), the
password rules, and the bound on concurrent hashing.

Each argon2id hash or check takes 64 MiB and about a tenth of a second of a core: forty
unauthenticated logins at once took a server to 1.6 GB. At most ``MAX_CONCURRENT_HASHES`` run
at once; one more is refused at once (``RateLimited``, 429), never queued.

Passwords need 12 characters and must not be one of the 10,000 most common passwords
(``common_passwords.txt``, its source named there), nor such a password with digits and
punctuation around it, a repetition, or the user name with digits.
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
from collections.abc import Iterator
from functools import lru_cache
from importlib import resources

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from tickwork.accounts.errors import RateLimited
from tickwork.errors import InvalidInput

MIN_LENGTH = 12
MAX_LENGTH = 1024  # hashing cost grows with the length; refuse novels
# Two to four argon2id computations at once (one per core, at most four): 256 MiB at most.
MAX_CONCURRENT_HASHES = max(2, min(4, os.cpu_count() or 2))
_slots = threading.BoundedSemaphore(MAX_CONCURRENT_HASHES)
_RUNS = tuple(
    run * 4 + run[::-1] * 4
    for run in ("0123456789", "abcdefghijklmnopqrstuvwxyz", "qwertyuiopasdfghjklzxcvbnm")
)
_AROUND = re.compile(r"^[\W\d_]*(.*?)[\W\d_]*\Z")  # digits and punctuation around a word


@contextlib.contextmanager
def hashing_slot() -> Iterator[None]:
    """Hold one of the few argon2id slots, or be refused at once (429)."""
    if not _slots.acquire(blocking=False):
        raise RateLimited(
            "too many password checks at once; try again in a second",
            1,
            code="too_many_password_checks",
        )
    try:
        yield
    finally:
        _slots.release()


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    text = (resources.files("tickwork.accounts") / "common_passwords.txt").read_text("utf-8")
    return frozenset(line for line in text.splitlines() if line and not line.startswith("#"))


def _is_common(password: str, username: str | None) -> bool:
    lowered = password.lower()
    common = common_passwords()
    core = _AROUND.match(lowered)
    word = core.group(1) if core else lowered
    if lowered in common or (word and word in common):
        return True
    if username and word in (username.lower(), re.sub(r"[\W_]", "", username.lower())):
        return True
    if any(lowered in run for run in _RUNS):  # "123456789012", "qwertyuiopas"
        return True
    for size in range(1, len(lowered) // 2 + 1):  # "abcabcabcabc", "qwertyqwerty"
        if len(lowered) % size == 0 and lowered[:size] * (len(lowered) // size) == lowered:
            return True
    return False


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
    if _is_common(password, username):
        raise InvalidInput(
            field,
            "is too common (a well-known password, a variant of one, or the user name)",
            code="password_too_common",
        )
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
