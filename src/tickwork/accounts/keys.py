"""The server's secret key, and keyed digests of tokens and session ids made with it.

The key comes from ``TICKWORK_SECRET_KEY`` or from the file ``secret_key`` in the data
directory (created, mode 0600, by ``tickwork init`` or by ``tickwork serve --demo``). The
server refuses to start without one, or with an empty, short, well-known or group/world-
readable one. API tokens and session ids are stored as HMAC-SHA256 digests under the key,
so the database alone lets nobody in; changing the key signs everyone out and voids every
API token (the emergency brake).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from collections.abc import Mapping
from pathlib import Path

from tickwork.errors import InvalidInput

ENV = "TICKWORK_SECRET_KEY"
FILE_NAME = "secret_key"
MIN_LENGTH = 32
# Values copied from examples and tutorials; refused whatever their length.
_WELL_KNOWN = frozenset(
    {
        "", "changeme", "change-me", "change_me", "secret", "secret-key", "secret_key",
        "secretkey", "tickwork", "default", "dev", "development", "test", "testing",
        "password", "your-secret-key", "your_secret_key", "please-change-me",
        "insecure", "not-a-secret", "xxx",
    }
)  # fmt: skip


def check_secret_key(value: str | None, source: str = ENV) -> str:
    """``value`` if it is a usable key; otherwise InvalidInput naming ``source``."""
    key = (value or "").strip()
    if not key:
        raise InvalidInput(source, "the secret key is empty; run `tickwork init` or set it")
    if key.lower() in _WELL_KNOWN or key.lower().startswith(("changeme", "change-me")):
        raise InvalidInput(source, "the secret key is a well-known default; generate one")
    if len(key) < MIN_LENGTH:
        raise InvalidInput(source, f"the secret key has {len(key)} characters; use {MIN_LENGTH}+")
    if len(set(key)) < 10:
        raise InvalidInput(source, "the secret key repeats too few characters to be random")
    return key


def key_file(data_dir: Path) -> Path:
    return data_dir / FILE_NAME


def load_secret_key(data_dir: Path, env: Mapping[str, str] | None = None) -> str:
    """The configured key: the environment variable, else the key file. Raises
    InvalidInput when there is none or it is unfit."""
    env = os.environ if env is None else env
    if env.get(ENV) is not None:
        return check_secret_key(env[ENV], ENV)
    path = key_file(data_dir)
    if not path.exists():
        raise InvalidInput(
            "secret_key",
            f"no secret key: set {ENV} or run `tickwork init` to create {path} (mode 0600)",
        )
    if os.name == "posix" and stat.S_IMODE(path.stat().st_mode) & 0o077:
        raise InvalidInput(
            "secret_key", f"{path} is readable by other users; run `chmod 600 {path}`"
        )
    return check_secret_key(path.read_text(encoding="utf-8"), str(path))


def create_key_file(data_dir: Path) -> tuple[Path, bool]:
    """Create the key file (0600) if it does not exist; returns (path, created)."""
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = key_file(data_dir)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path, False
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(secrets.token_urlsafe(48) + "\n")
    return path, True


def digest(key: str, purpose: str, value: str) -> str:
    """Hex HMAC-SHA256 of ``value`` for one purpose ("token", "session", "csrf")."""
    mac = hmac.new(key.encode(), f"{purpose}\x00{value}".encode(), hashlib.sha256)
    return mac.hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
