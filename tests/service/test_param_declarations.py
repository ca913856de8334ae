"""Parameter declarations: a job's run-time ``parameters`` and a template's schema share one
validator; these pin the rules both keep, what differs by face, and the stored shapes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tickwork.errors import InvalidInput
from tickwork.parameters import MAX_CHOICES, MAX_PARAMETERS, MAX_STRING, check_declarations
from tickwork.templates.schema import check_schema

Check = Callable[[Any], list[dict[str, Any]]]


def job(declared: Any) -> list[dict[str, Any]]:
    return check_declarations(declared, ["pw"])


FACES = pytest.mark.parametrize("check", [job, check_schema], ids=["job", "template"])


def refused(check: Check, declared: Any) -> tuple[str, str, dict[str, Any]]:
    with pytest.raises(InvalidInput) as bad:
        check(declared)
    return bad.value.field, bad.value.code, dict(bad.value.params or {})


@FACES
@pytest.mark.parametrize(
    ("declared", "field", "code"),
    [
        ("a", "parameters", "parameters_not_list"),
        ({"name": "a"}, "parameters", "parameters_not_list"),
        ([{"name": f"p{i}", "type": "string"} for i in range(MAX_PARAMETERS + 1)],
         "parameters", "too_many_items"),
        (["a"], "parameters[0]", "parameter_shape"),
        ([{"name": "a", "type": "string", "colour": "red"}], "parameters[0].colour",
         "unknown_parameter_field"),
        ([{"name": "1x", "type": "string"}], "parameters[0].name", "not_identifier"),
        ([{"name": "class", "type": "string"}], "parameters[0].name", "not_identifier"),
        ([{"name": 3, "type": "string"}], "parameters[0].name", "not_identifier"),
        ([{"name": "a", "type": "string"}, {"name": "a", "type": "integer"}],
         "parameters[1].name", "parameter_declared_twice"),
        ([{"name": "a", "type": "date"}], "parameters[0].type", "not_one_of"),
        ([{"name": "a", "type": "string", "required": "yes"}], "parameters[0].required",
         "expected_boolean"),
        ([{"name": "a", "type": "string", "minimum": 1}], "parameters[0].minimum",
         "bounds_need_number"),
        ([{"name": "a", "type": "integer", "minimum": float("nan")}], "parameters[0].minimum",
         "expected_number"),
        ([{"name": "a", "type": "integer", "minimum": 5, "maximum": 3}],
         "parameters[0].maximum", "not_below_field"),
        ([{"name": "a", "type": "integer", "max_length": 3}], "parameters[0].max_length",
         "length_needs_string"),
        ([{"name": "a", "type": "string", "max_length": -1}], "parameters[0].max_length",
         "expected_integer_in_range"),
        ([{"name": "a", "type": "string", "max_length": True}], "parameters[0].max_length",
         "expected_integer_in_range"),
        ([{"name": "a", "type": "string", "choices": []}], "parameters[0].choices",
         "expected_nonempty_list"),
        ([{"name": "a", "type": "string", "choices": "ab"}], "parameters[0].choices",
         "expected_nonempty_list"),
        ([{"name": "a", "type": "integer", "choices": list(range(MAX_CHOICES + 1))}],
         "parameters[0].choices", "too_many_items"),
        ([{"name": "a", "type": "integer", "maximum": 3, "choices": [1, 4]}],
         "parameters[0].choices", "above_maximum"),
        ([{"name": "a", "type": "string", "max_length": 2, "choices": ["abc"]}],
         "parameters[0].choices", "text_too_long"),
        ([{"name": "a", "type": "integer", "default": 5, "maximum": 3}],
         "parameters[0].default", "above_maximum"),
        ([{"name": "a", "type": "integer", "default": "5"}], "parameters[0].default",
         "parameter_type"),
        ([{"name": "a", "type": "string", "choices": ["x"], "default": "y"}],
         "parameters[0].default", "not_one_of"),
    ],
)  # fmt: skip
def test_both_faces_refuse_alike(check: Check, declared: Any, field: str, code: str) -> None:
    assert refused(check, declared)[:2] == (field, code)


@FACES
def test_a_template_max_length_is_bounded_like_a_job_one(check: Check) -> None:
    """A template took any whole number as max_length (even negative or past the kwargs limit)."""
    for value in (-1, MAX_STRING + 1):
        got = refused(check, [{"name": "a", "type": "string", "max_length": value}])
        assert got == (
            "parameters[0].max_length",
            "expected_integer_in_range",
            {"min": 0, "max": MAX_STRING},
        )
    assert check([{"name": "a", "type": "string", "max_length": MAX_STRING}])[0]["max_length"] == (
        MAX_STRING
    )


@FACES
def test_a_bound_given_alone_is_the_field_named(check: Check) -> None:
    """A job named ``minimum`` when only ``maximum`` was set on a string parameter."""
    got = refused(check, [{"name": "a", "type": "string", "maximum": 3}])
    assert got[:2] == ("parameters[0].maximum", "bounds_need_number")


@FACES
def test_a_bound_that_is_not_a_number_is_expected_number(check: Check) -> None:
    """A template said ``parameter_type`` (a value's code) for a bad bound."""
    got = refused(check, [{"name": "a", "type": "integer", "minimum": "1"}])
    assert got == ("parameters[0].minimum", "expected_number", {"value": "'1'"})


@pytest.mark.parametrize(("check", "limit"), [(job, 100), (check_schema, 63)])
def test_a_long_name_is_too_long_not_a_bad_identifier(check: Check, limit: int) -> None:
    """A template refused a 64-character name as ``not_identifier`` ("not a Python
    identifier" in the console), though it is one."""
    assert check([{"name": "a" * limit, "type": "string"}])[0]["name"] == "a" * limit
    got = refused(check, [{"name": "a" * (limit + 1), "type": "string"}])
    assert got == ("parameters[0].name", "text_too_long", {"length": limit + 1, "max": limit})


def test_job_face_rules() -> None:
    assert refused(job, [{"name": "pw", "type": "string"}])[:2] == (
        "parameters[0].name",
        "parameter_is_secret",
    )
    assert refused(job, [{"name": "c", "type": "connection"}])[:2] == (
        "parameters[0].type",
        "not_one_of",
    )
    for key in ("secret", "label"):
        assert refused(job, [{"name": "a", "type": "string", key: True}])[1] == (
            "unknown_parameter_field"
        )
    assert refused(job, [{"name": "a", "type": "string", "help": {"en": "x"}}])[:2] == (
        "parameters[0].help",
        "expected_short_text",
    )
    assert refused(job, [{"name": "a", "type": "string", "help": "x" * 501}])[1] == (
        "expected_short_text"
    )


def test_template_face_rules() -> None:
    assert check_schema([{"name": "pw", "type": "connection", "default": "main-db"}])[0] == {
        "name": "pw",
        "type": "connection",
        "required": False,
        "secret": False,
        "default": "main-db",
    }
    assert refused(check_schema, [{"name": "a", "type": "integer", "secret": True}])[:2] == (
        "parameters[0].secret",
        "secret_needs_string",
    )
    assert refused(check_schema, [{"name": "a", "type": "string", "secret": True, "default": "x"}])[
        :2
    ] == ("parameters[0].default", "secret_default")
    secret_choices = [{"name": "a", "type": "string", "secret": True, "choices": ["x", "y"]}]
    assert refused(check_schema, secret_choices)[:2] == ("parameters[0].choices", "secret_choices")
    # one stored before the rule loads, without the choices (they are not kept as a rule)
    assert check_schema(secret_choices, stored=True) == [
        {"name": "a", "type": "string", "required": False, "secret": True}
    ]
    assert refused(check_schema, [{"name": "a", "type": "string", "help": {"fr": "x"}}])[:2] == (
        "parameters[0].help",
        "bilingual_text",
    )
    assert refused(check_schema, [{"name": "a", "type": "string", "label": "x" * 101}])[:2] == (
        "parameters[0].label.en",
        "expected_short_text",
    )


def test_stored_shapes_keep_their_keys_and_order() -> None:
    """Stored jobs and templates load the same: the normalised entries, key order included."""
    full = {
        "default": 7, "choices": [7, 9], "maximum": 30, "minimum": 1, "type": "integer",
        "name": "days",
    }  # fmt: skip
    stored_job = job([{**full, "help": "how many", "required": False}])[0]
    assert list(stored_job.items()) == [
        ("name", "days"), ("type", "integer"), ("minimum", 1), ("maximum", 30),
        ("choices", [7, 9]), ("help", "how many"), ("default", 7),
    ]  # fmt: skip
    assert job([{"name": "s", "type": "string", "required": True, "max_length": 5}]) == [
        {"name": "s", "type": "string", "required": True, "max_length": 5}
    ]
    stored_template = check_schema([{**full, "help": "how many", "label": {"en": "Days"}}])[0]
    assert list(stored_template.items()) == [
        ("name", "days"), ("type", "integer"), ("required", False), ("secret", False),
        ("label", {"en": "Days", "zh-CN": "Days"}),
        ("help", {"en": "how many", "zh-CN": "how many"}),
        ("minimum", 1), ("maximum", 30), ("choices", [7, 9]), ("default", 7),
    ]  # fmt: skip
    assert job(None) == []
    assert check_schema(None) == []


@pytest.mark.parametrize(
    ("check", "key"), [(job, "help"), (check_schema, "help"), (check_schema, "label")]
)
def test_help_and_label_with_a_lone_surrogate_are_refused(check: Check, key: str) -> None:
    """Values were refused a lone surrogate, help texts were not (the Python API has no
    HTTP door in front: the store could not have encoded it)."""
    got = refused(check, [{"name": "a", "type": "string", key: "bad \ud800"}])
    assert got[1] == "lone_surrogate"
    assert got[0].startswith(f"parameters[0].{key}")
