"""Secret redaction: every secret value of a run becomes ``******`` in the texts kept about it."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import lru_cache

MASK = "******"

Redact = Callable[[str], str]


def redactor(secrets: Iterable[str]) -> Redact | None:
    """A function masking ``secrets`` in a text, or None when there is nothing to mask.

    Empty and non-string values are ignored. Runs of one job share their secrets, so the
    compiled pattern is cached by the (sorted, de-duplicated) set of values.
    """
    values = tuple(sorted({s for s in secrets if isinstance(s, str) and s}))
    return _compiled(values) if values else None


@lru_cache(maxsize=256)
def _compiled(values: tuple[str, ...]) -> Redact:
    # Longest first, so a secret that contains another one is masked as a whole.
    pattern = re.compile("|".join(re.escape(v) for v in sorted(values, key=len, reverse=True)))

    def redact(text: str) -> str:
        return pattern.sub(MASK, text)

    return redact


def redact_optional(redact: Redact | None, text: str | None) -> str | None:
    """``text`` with secrets masked; None stays None."""
    if text is None or redact is None:
        return text
    return redact(text)
