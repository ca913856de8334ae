"""A connection's secret part at rest: sealed by the vault as one JSON value, bound to the
connection's name (a sealed value copied to another connection does not open there)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tickwork.connections.kinds import merged, secret_values
from tickwork.connections.vault import Vault, open_sealed


def context(name: str) -> str:
    return f"connection:{name}:secret"


def seal(vault: Vault, name: str, secret: Mapping[str, Any]) -> str | None:
    if not secret:
        return None
    return vault.seal(json.dumps(dict(secret), ensure_ascii=False).encode(), context(name))


def open_secret(name: str, sealed: str | None) -> dict[str, Any]:
    if not sealed:
        return {}
    value = json.loads(open_sealed(sealed, context(name)))
    return dict(value) if isinstance(value, dict) else {}


@dataclass(frozen=True, slots=True)
class Opened:
    """A connection ready to use: every field (secrets included) and the texts to mask."""

    name: str
    kind: str
    fields: dict[str, Any]
    masks: tuple[str, ...]


def open_connection(name: str, kind: str, public: Mapping[str, Any], sealed: str | None) -> Opened:
    secret = open_secret(name, sealed)
    fields = merged(kind, public, secret)
    return Opened(name, kind, fields, tuple(secret_values(secret, fields)))
