"""The vault: secrets encrypted at rest with AES-256-GCM, under named keys that rotate.

A sealed value is the text ``twenc1:<key id>:<base64url(nonce || ciphertext || tag)>``. AES-GCM
is authenticated: a changed byte fails to open instead of opening to garbage, and each value is
bound to where it belongs (its *context*, e.g. ``job:nightly:kwarg:password``, passed as
associated data), so a ciphertext copied into another job or kwarg does not open there. Each
seal takes a fresh random 96-bit nonce (safe for far more values than a scheduler stores).

Keys (32 bytes each) form a keyring; the *current* one seals, every one opens:

* derived from the server's secret key (``TICKWORK_SECRET_KEY`` or ``<data dir>/secret_key``)
  with HKDF-SHA256, so a deployment that has its secret key everywhere needs nothing more;
* from ``TICKWORK_VAULT_KEYS`` (a keyring in JSON, for nodes that share no data directory) or
  the keyring file ``<data dir>/vault_keys`` (mode 0600), which ``tickwork secrets rotate``
  creates and extends: it adds a new random current key and re-encrypts every stored secret
  with it; older keys stay so backups still open;
* with neither, a keyring file with one random key is created (embedded use on one machine).

Key ids are derived from the keys (``k`` + 12 hex digits of a SHA-256), so every process that
loads the same key calls it the same; keys loaded by any vault of this process can open (the
scheduler's dispatcher opens a job's secrets with whatever vault sealed them).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import stat
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from tickwork.errors import InvalidInput, TickworkError

PREFIX = "twenc1:"
KEYRING_FILE = "vault_keys"
KEYS_ENV = "TICKWORK_VAULT_KEYS"
_NONCE = 12

_known: dict[str, bytes] = {}  # every key any vault of this process loaded: id -> key
_known_lock = threading.Lock()


class VaultError(TickworkError):
    """A sealed value could not be opened (unknown key, tampered, or sealed elsewhere)."""

    def __init__(
        self, reason: str, *, code: str | None = None, params: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(reason)
        self.code = code
        self.params = dict(params or {})


def is_sealed(value: object) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def key_id(key: bytes) -> str:
    return "k" + hashlib.sha256(b"tickwork vault key id\x00" + key).hexdigest()[:12]


def derive_key(secret_key: str) -> bytes:
    """The vault key of a server secret key (HKDF-SHA256, its own purpose label)."""
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"tickwork vault", info=b"aes-256-gcm v1"
    ).derive(secret_key.strip().encode())


def _register(keys: Mapping[str, bytes]) -> None:
    with _known_lock:
        _known.update(keys)


def open_sealed(token: str, context: str) -> bytes:
    """Open a sealed value with any key this process has loaded."""
    try:
        _, kid, data = token.split(":", 2)
        blob = base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
    except ValueError:
        raise VaultError("a sealed value is malformed", code="sealed_malformed") from None
    key = _known.get(kid)
    if key is None:
        raise VaultError(
            f"the secret was sealed with vault key {kid}, which this process does not have "
            "(give every node the same TICKWORK_SECRET_KEY, or the keyring)",
            code="vault_key_missing",
            params={"key": kid},
        )
    try:
        return AESGCM(key).decrypt(blob[:_NONCE], blob[_NONCE:], context.encode())
    except InvalidTag:
        raise VaultError(
            f"a sealed value does not open for {context} (changed or moved)",
            code="sealed_wont_open",
        ) from None


@dataclass(frozen=True, slots=True)
class Vault:
    keys: Mapping[str, bytes]  # id -> key
    current: str  # the id of the key that seals
    source: str  # where the keys came from, for status output

    def seal(self, plaintext: bytes, context: str) -> str:
        nonce = os.urandom(_NONCE)
        sealed = AESGCM(self.keys[self.current]).encrypt(nonce, plaintext, context.encode())
        data = base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")
        return f"{PREFIX}{self.current}:{data}"

    def open(self, token: str, context: str) -> bytes:
        return open_sealed(token, context)

    @staticmethod
    def key_of(token: str) -> str | None:
        """The id of the key a sealed value is under."""
        return token.split(":", 2)[1] if is_sealed(token) and token.count(":") >= 2 else None

    @classmethod
    def load(
        cls, data_dir: Path, env: Mapping[str, str] | None = None, *, create: bool = True
    ) -> Vault:
        """The keyring of this deployment (see the module's docstring); its keys join the
        process's set. Creates ``<data dir>/vault_keys`` when there is no key at all (unless
        ``create`` is false: then VaultError)."""
        env = os.environ if env is None else env
        keys: dict[str, bytes] = {}
        current: str | None = None
        sources: list[str] = []
        secret = _secret_key(data_dir, env)
        if secret is not None:
            derived = derive_key(secret)
            current = key_id(derived)
            keys[current] = derived
            sources.append("the secret key")
        ring = _read_keyring(data_dir, env)
        if ring is None and not keys:
            if not create:
                raise VaultError("no vault key: no secret key and no keyring", code="no_vault_key")
            create_keyring(data_dir)
            ring = _read_keyring(data_dir, env)
        if ring is not None:
            ring_keys, ring_current, where = ring
            keys.update(ring_keys)
            current = ring_current
            sources.append(where)
        assert current is not None
        _register(keys)
        return cls(keys=keys, current=current, source=" + ".join(sources))


def _secret_key(data_dir: Path, env: Mapping[str, str]) -> str | None:
    from tickwork.accounts import keys as server_keys

    try:
        return server_keys.load_secret_key(data_dir, env)
    except InvalidInput as exc:
        if server_keys.key_file(data_dir).exists() or env.get(server_keys.ENV) is not None:
            raise  # a key is configured but unusable: say so rather than seal with another
        del exc
        return None


def _parse_ring(text: str, where: str) -> tuple[dict[str, bytes], str]:
    try:
        data = json.loads(text)
        raw = {str(k): base64.urlsafe_b64decode(str(v) + "==") for k, v in data["keys"].items()}
        current = str(data["current"])
    except (ValueError, KeyError, TypeError, AttributeError):
        raise InvalidInput(
            where,
            'must be {"current": ID, "keys": {ID: base64 key, ...}}',
            code="keyring_shape",
        ) from None
    keys = {}
    for kid, key in raw.items():
        if len(key) != 32 or key_id(key) != kid:
            raise InvalidInput(
                where,
                f"key {kid} is not a 32-byte key with its own id",
                code="keyring_bad_key",
                params={"key": kid},
            )
        keys[kid] = key
    if current not in keys:
        raise InvalidInput(
            where,
            f"the current key {current} is not in the keyring",
            code="keyring_no_current",
            params={"key": current},
        )
    return keys, current


def keyring_path(data_dir: Path) -> Path:
    return data_dir / KEYRING_FILE


def _read_keyring(
    data_dir: Path, env: Mapping[str, str]
) -> tuple[dict[str, bytes], str, str] | None:
    if env.get(KEYS_ENV):
        return (*_parse_ring(env[KEYS_ENV], KEYS_ENV), KEYS_ENV)
    path = keyring_path(data_dir)
    if not path.exists():
        return None
    if os.name == "posix" and stat.S_IMODE(path.stat().st_mode) & 0o077:
        raise InvalidInput(
            KEYRING_FILE,
            f"{path} is readable by other users; run `chmod 600 {path}`",
            code="keyring_readable",
            params={"path": str(path)},
        )
    return (*_parse_ring(path.read_text(encoding="utf-8"), str(path)), str(path))


def _write_keyring(path: Path, keys: Mapping[str, bytes], current: str) -> None:
    text = json.dumps(
        {
            "current": current,
            "keys": {k: base64.urlsafe_b64encode(v).decode() for k, v in keys.items()},
        },
        indent=2,
    )
    temporary = path.with_name(path.name + ".new")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(temporary, path)  # never a half-written keyring


def create_keyring(data_dir: Path) -> str:
    """Create ``vault_keys`` with one random key; returns its id."""
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    kid = key_id(key)
    _write_keyring(keyring_path(data_dir), {kid: key}, kid)
    return kid


def add_key(data_dir: Path, env: Mapping[str, str] | None = None) -> Vault:
    """A new random current key in the keyring file (the old ones stay, and the key derived
    from the secret key, while there is one, keeps opening what it sealed)."""
    env = os.environ if env is None else env
    if env.get(KEYS_ENV):
        raise InvalidInput(
            KEYS_ENV,
            "the keyring comes from the environment: put a new key first there "
            "(`tickwork secrets new-key` prints one), then run `tickwork secrets reencrypt`",
            code="keyring_in_env",
        )
    ring = _read_keyring(data_dir, env)
    keys = dict(ring[0]) if ring else {}
    key = secrets.token_bytes(32)
    kid = key_id(key)
    keys[kid] = key
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    _write_keyring(keyring_path(data_dir), keys, kid)
    return Vault.load(data_dir, env)


def new_key_entry() -> tuple[str, str]:
    """A fresh (id, base64 key) for a keyring kept in TICKWORK_VAULT_KEYS."""
    key = secrets.token_bytes(32)
    return key_id(key), base64.urlsafe_b64encode(key).decode()
