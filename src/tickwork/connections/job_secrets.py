"""A job's secrets (the values of the kwargs it lists in ``secret_keys``) sealed at rest.

The service layer seals them before a job is written (``seal_kwargs``), keeping the stored
sealed value when the plaintext did not change, so an unchanged definition stays equal and a
masked value sent back by a face keeps the secret. A scheduler node opens them right before it
hands the kwargs to the executor (``open_kwargs``), along with every text form of each secret
for the executors to mask: a secret of any shape (a string, a mapping of credentials, a list
of tokens) is masked leaf by leaf, at any depth.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from tickwork.connections.vault import Vault, VaultError, is_sealed, open_sealed

MIN_LEAF = 4  # shorter pieces of a structured secret are not masked in free text (they would
# mask ordinary words); the whole value is still never shown by any face


def context(job_id: str, name: str) -> str:
    return f"job:{job_id}:kwarg:{name}"


def seal_kwargs(
    vault: Vault,
    job_id: str,
    secret_keys: Iterable[str],
    kwargs: Mapping[str, Any],
    old_kwargs: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """``kwargs`` with each secret value sealed (None and "" are no secrets and stay)."""
    out = dict(kwargs)
    for name in secret_keys:
        value = kwargs.get(name)
        if value is None or value == "" or is_sealed(value):
            continue
        where = context(job_id, name)
        plain = json.dumps(value, ensure_ascii=False).encode()
        old = (old_kwargs or {}).get(name)
        if isinstance(old, str) and is_sealed(old):
            try:
                if open_sealed(old, where) == plain:
                    out[name] = old  # unchanged: keep the stored seal
                    continue
            except VaultError:
                pass
        out[name] = vault.seal(plain, where)
    return out


def open_value(job_id: str, name: str, value: Any) -> Any:
    if not is_sealed(value):
        return value  # stored before secrets were sealed, or not a secret
    return json.loads(open_sealed(value, context(job_id, name)))


def open_kwargs(
    job_id: str, secret_keys: Iterable[str], kwargs: Mapping[str, Any]
) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The kwargs with their secrets opened, and the texts the executors must mask."""
    out = dict(kwargs)
    masks: list[str] = []
    for name in secret_keys:
        if name not in out:
            continue
        out[name] = open_value(job_id, name, out[name])
        masks.extend(secret_texts(out[name]))
    return out, tuple(dict.fromkeys(masks))


def secret_texts(value: Any) -> list[str]:
    """Every text form in which a secret may show up in a log, a result or an error: the
    value itself, its JSON and repr, and each string or number inside it."""
    if value is None or value == "" or isinstance(value, bool):
        return []
    if isinstance(value, str):
        return [value]
    texts = [str(value)]
    if isinstance(value, Mapping | list | tuple):
        for dumped in (
            json.dumps(value, ensure_ascii=False),
            json.dumps(value, ensure_ascii=False, sort_keys=True),
            json.dumps(value),
            repr(value),
        ):
            texts.append(dumped)
        stack: list[Any] = [value]
        while stack:
            item = stack.pop()
            if isinstance(item, Mapping):
                stack.extend(item.values())
            elif isinstance(item, list | tuple):
                stack.extend(item)
            elif isinstance(item, str | int | float) and not isinstance(item, bool):
                text = str(item)
                if len(text) >= MIN_LEAF:
                    texts.append(text)
    return [t for t in texts if t]


__all__ = ["VaultError", "open_kwargs", "open_value", "seal_kwargs", "secret_texts"]
