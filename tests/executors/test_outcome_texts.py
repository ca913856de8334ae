"""The texts of an outcome: results, errors and tracebacks, bounded and redacted."""

from __future__ import annotations

import pytest

from tickwork.executors.outcome import (
    ERROR_LIMIT,
    TRACEBACK_LIMIT,
    cut_head,
    cut_tail,
    error_text,
    result_text,
    traceback_text,
)
from tickwork.executors.redact import MASK, redactor


class Unprintable:
    def __repr__(self) -> str:
        raise RuntimeError("no repr")


def test_results_are_json_when_they_can_be_and_repr_otherwise() -> None:
    assert result_text(None, 100, None) is None
    assert result_text({"a": [1, 2.5, None, True]}, 100, None) == '{"a": [1, 2.5, null, true]}'
    assert result_text("ünïcode", 100, None) == '"ünïcode"'
    assert result_text((1, 2), 100, None) == "[1, 2]"
    assert result_text(b"raw", 100, None) == "b'raw'"
    assert result_text(float("nan"), 100, None) == "NaN"
    circular: list[object] = []
    circular.append(circular)
    assert result_text(circular, 100, None) == "[[...]]"
    assert result_text(Unprintable(), 100, None) == (
        "<Unprintable object; repr() failed: RuntimeError('no repr')>"
    )


def test_texts_are_cut_with_a_marker_within_the_limit() -> None:
    assert cut_head("abc", 3) == "abc"
    head = cut_head("x" * 500, 100)
    assert len(head) == 100
    assert head == "x" * 75 + " [... 500 chars, cut ...]"
    tail = cut_tail("0123456789" * 50, 100)
    assert len(tail) == 100
    assert tail.startswith("[... 500 chars, cut ...]\n")
    assert tail.endswith("6789")
    assert cut_head("x" * 500, 5) == " [... 500 chars, cut ...]"  # the marker is kept whole


def test_errors_name_the_exception_type_and_are_bounded() -> None:
    assert error_text(ValueError("bad"), None) == "ValueError: bad"
    assert error_text(KeyError(), None) == "KeyError"
    assert error_text(KeyError("k"), None) == "KeyError: 'k'"
    long = error_text(ValueError("x" * 10_000), None)
    assert len(long) == ERROR_LIMIT
    assert long.startswith("ValueError: xxx")


def test_secrets_are_masked_before_texts_are_cut() -> None:
    redact = redactor(["topsecret"])
    # Cutting first would leave "topsec" visible.
    assert result_text("a" * 10 + "topsecret", 40, redact) == '"aaaaaaaaaa******"'
    assert error_text(ValueError("topsecret!"), redact) == "ValueError: ******!"


def test_tracebacks_keep_their_end() -> None:
    def fail() -> None:
        raise ValueError("y" * 20_000 + " the end")

    with pytest.raises(ValueError, match="the end") as info:
        fail()
    text = traceback_text(info.value, None)
    assert len(text) == TRACEBACK_LIMIT
    assert text.startswith("[... ")
    assert text.endswith("yyy the end\n")


def test_redactor_masks_every_secret_longest_first() -> None:
    assert redactor([]) is None
    assert redactor(["", ""]) is None
    redact = redactor(["ab", "abcd", "a.c"])
    assert redact is not None
    assert redact("abcd ab a.c abc") == f"{MASK} {MASK} {MASK} {MASK}c"
    assert redact.longest == 4
    assert redactor(["abcd", "ab", "a.c"]) is redact  # cached by the set of values
