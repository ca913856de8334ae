"""The vault: AES-256-GCM seals that open only where they belong, keys from the secret key or a
keyring, and rotation (issue 9, item 7)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from tickwork.connections import vault as v
from tickwork.connections.job_secrets import open_kwargs, seal_kwargs, secret_texts
from tickwork.errors import InvalidInput

KEY = "vault-test-key-0123456789-abcdefghijklmnop"


def test_a_seal_opens_only_in_its_context_and_unchanged(tmp_path: Path) -> None:
    vault = v.Vault.load(tmp_path, {"TICKWORK_SECRET_KEY": KEY})
    token = vault.seal(b"s3cret", "job:a:kwarg:password")
    assert v.is_sealed(token)
    assert b"s3cret" not in token.encode()
    assert vault.open(token, "job:a:kwarg:password") == b"s3cret"
    assert vault.seal(b"s3cret", "job:a:kwarg:password") != token  # a fresh nonce each time
    with pytest.raises(v.VaultError, match="does not open"):
        vault.open(token, "job:b:kwarg:password")  # moved to another job
    prefix, kid, data = token.split(":", 2)
    flipped = data[:-2] + ("A" if data[-2] != "A" else "B") + data[-1]
    with pytest.raises(v.VaultError):
        vault.open(f"{prefix}:{kid}:{flipped}", "job:a:kwarg:password")  # tampered
    with pytest.raises(v.VaultError, match="does not have"):
        v.open_sealed(f"{prefix}:kffffffffffff:{data}", "job:a:kwarg:password")


def test_the_key_comes_from_the_secret_key_or_a_private_keyring(tmp_path: Path) -> None:
    one = v.Vault.load(tmp_path / "a", {"TICKWORK_SECRET_KEY": KEY})
    two = v.Vault.load(tmp_path / "b", {"TICKWORK_SECRET_KEY": KEY})
    assert one.current == two.current  # every node with the same secret key agrees
    bare = tmp_path / "c"
    three = v.Vault.load(bare, {})  # no key at all: a keyring file is made
    ring = bare / "vault_keys"
    assert stat.S_IMODE(ring.stat().st_mode) == 0o600
    assert stat.S_IMODE(bare.stat().st_mode) == 0o700
    assert v.Vault.load(bare, {}).current == three.current
    ring.chmod(0o644)
    with pytest.raises(InvalidInput, match="readable by other users"):
        v.Vault.load(bare, {})
    kid, key = v.new_key_entry()
    env = {"TICKWORK_VAULT_KEYS": json.dumps({"current": kid, "keys": {kid: key}})}
    assert v.Vault.load(tmp_path / "d", env).current == kid
    with pytest.raises(InvalidInput, match="TICKWORK_VAULT_KEYS"):
        v.Vault.load(tmp_path / "d", {"TICKWORK_VAULT_KEYS": '{"current": "x", "keys": {}}'})


def test_rotation_keeps_old_seals_open_and_seals_new_ones_with_the_new_key(
    tmp_path: Path,
) -> None:
    env = {"TICKWORK_SECRET_KEY": KEY}
    old = v.Vault.load(tmp_path, env)
    sealed = old.seal(b"before", "c")
    new = v.add_key(tmp_path, env)
    assert new.current != old.current
    assert set(new.keys) == {old.current, new.current}
    assert new.open(sealed, "c") == b"before"
    assert v.Vault.key_of(new.seal(b"after", "c")) == new.current
    newer = v.add_key(tmp_path, env)
    assert len(newer.keys) == 3
    with pytest.raises(InvalidInput, match="TICKWORK_VAULT_KEYS"):
        v.add_key(tmp_path, {**env, "TICKWORK_VAULT_KEYS": "{}"})


def test_job_secrets_of_any_shape_are_sealed_and_opened_with_every_text_form(
    tmp_path: Path,
) -> None:
    vault = v.Vault.load(tmp_path, {"TICKWORK_SECRET_KEY": KEY})
    creds = {"user": "svc", "password": "Leaf-Secret-99", "pins": [123456, "ab"]}
    kwargs = {"creds": creds, "plain": 1, "empty": ""}
    sealed = seal_kwargs(vault, "j", ["creds", "empty"], kwargs)
    assert v.is_sealed(sealed["creds"])
    assert sealed["plain"] == 1
    assert sealed["empty"] == ""
    again = seal_kwargs(vault, "j", ["creds"], kwargs, old_kwargs=sealed)
    assert again["creds"] == sealed["creds"]  # unchanged: the stored seal is kept
    opened, masks = open_kwargs("j", ["creds", "empty"], sealed)
    assert opened == kwargs
    assert "Leaf-Secret-99" in masks
    assert "123456" in masks
    assert "svc" not in masks
    assert "ab" not in masks
    assert json.dumps(creds) in masks
    assert secret_texts(None) == []
    assert secret_texts("x") == ["x"]
    assert os.urandom  # the module relies on the OS's random source
