"""Statement texts as a report may show them: literals masked, length bounded."""

from __future__ import annotations

import re

_STRING = re.compile(r"'(?:[^'\\]|\\.|'')*'|\"(?:[^\"\\]|\\.)*\"|\$([A-Za-z_]*)\$.*?\$\1\$", re.S)
_NUMBER = re.compile(r"(?<![A-Za-z_$\d])-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?\b")
_HEX = re.compile(r"\b0x[0-9A-Fa-f]+\b|\bX'[0-9A-Fa-f]*'", re.I)
_LISTS = re.compile(r"\(\s*\?(?:\s*,\s*\?)+\s*\)")
_SPACE = re.compile(r"\s+")


def mask_statement(text: str | None, limit: int) -> str:
    """``text`` with its string, number and hex literals as ``?`` (so values passed inline
    never reach a report), ``IN (?, ?, ?)`` lists folded, cut to ``limit`` characters."""
    if not text:
        return ""
    # Bound the work on a huge statement first (a cut literal is still masked: its quote
    # stays open to the end and the rest is dropped below).
    text = text[: limit * 4 + 1000]
    text = _HEX.sub("?", text)
    text = _STRING.sub("?", text)
    text = re.sub(r"'[^']*$", "?", text)  # a literal cut open by the bound above
    text = _NUMBER.sub("?", text)
    text = _LISTS.sub("(?...)", text)
    text = _SPACE.sub(" ", text).strip()
    return text if len(text) <= limit else text[: limit - 3] + "..."
