"""Secret redaction: every secret value of a run becomes ``******`` in the texts kept about it."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

MASK = "******"


class Redactor:
    """Masks a fixed set of secret values in texts."""

    __slots__ = ("_pattern", "longest")

    def __init__(self, values: Iterable[str]) -> None:
        # Longest first, so a secret that contains another one is masked as a whole.
        ordered = sorted(set(values), key=len, reverse=True)
        self._pattern = re.compile("|".join(re.escape(v) for v in ordered))
        self.longest = len(ordered[0].encode("utf-8", "surrogatepass"))  # in UTF-8 bytes

    def __call__(self, text: str) -> str:
        return self._pattern.sub(MASK, text)


def redactor(secrets: Iterable[str]) -> Redactor | None:
    """A redactor of ``secrets``, or None when there is nothing to mask.

    Empty and non-string values are ignored. Runs of one job share their secrets, so
    redactors are cached by the set of values.
    """
    values = frozenset(s for s in secrets if isinstance(s, str) and s)
    return _cached(values) if values else None


@lru_cache(maxsize=256)
def _cached(values: frozenset[str]) -> Redactor:
    return Redactor(values)
