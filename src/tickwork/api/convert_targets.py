"""A job's ``target`` between the API's shape and the facade's: ``{"kind": ..., fields}``, or
Python's ``{"ref", "args", "kwargs"}`` without a kind. Secrets are masked on the way out; a
masked secret sent back keeps the stored value."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from tickwork.api import schemas as s
from tickwork.audit import redacted_target
from tickwork.errors import InvalidInput
from tickwork.executors.redact import MASK
from tickwork.store.records import JobRecord
from tickwork.targets import kinds

_PYTHON_KEYS = ("ref", "args", "kwargs")


def target_out(record: JobRecord) -> s.TargetOut:
    if record.target_kind == "python":
        shown = redacted_target(record)
        fields: dict[str, Any] = {
            "ref": str(shown.get("ref", "")),
            "args": list(shown.get("args") or []),
            "kwargs": dict(shown.get("kwargs") or {}),
        }
        en = zh = fields["ref"]
    else:
        fields = {k: v for k, v in record.target.items() if k != "parameters"}
        en, zh = _describe(record.target_kind, fields)
    return s.TargetOut.model_construct(
        kind=record.target_kind,
        description=s.Description.model_construct(en=en, zh=zh),
        **fields,
    )


def _describe(kind_name: str, spec: Mapping[str, Any]) -> tuple[str, str]:
    try:
        text = kinds.get(kind_name).describe(spec)
    except Exception:  # a kind this version does not know still lists
        return kind_name, kind_name
    return text.en, text.zh


@lru_cache(maxsize=1)
def _python_kind() -> Any:
    return kinds.get("python")


def kind_of_body(target: Mapping[str, Any], default: str = "python") -> str:
    name = target.get("kind", default)
    if not isinstance(name, str):
        raise InvalidInput(
            "target.kind",
            "must be a kind name",
            code="not_one_of",
            params={"value": repr(name), "choices": list(kinds.NAMES)},
        )
    kinds.get(name)  # refuses an unknown kind naming target.kind
    return name


def _python_fields(target: Mapping[str, Any], *, partial: bool = False) -> dict[str, Any]:
    for key in target:
        if key not in (*_PYTHON_KEYS, "kind"):
            raise InvalidInput(
                f"target.{key}",
                "is not a field of a python target (ref, args, kwargs)",
                code="unknown_field",
                params={"kind": "python"},
            )
    out: dict[str, Any] = {}
    if "ref" in target or not partial:
        ref = target.get("ref")
        if not isinstance(ref, str) or not ref or len(ref) > 500:
            raise InvalidInput(
                "target.ref",
                "must be a 'package.module:function' reference (at most 500 characters)",
                code="bad_ref",
            )
        out["target"] = ref
    if "args" in target or not partial:
        args = target.get("args", [])
        if not isinstance(args, list):
            raise InvalidInput("target.args", "must be a list", code="list_type")
        out["args"] = args
    if "kwargs" in target or not partial:
        kwargs = target.get("kwargs", {})
        if not isinstance(kwargs, dict):
            raise InvalidInput("target.kwargs", "must be a mapping", code="mapping_type")
        out["kwargs"] = kwargs
    return out


def target_fields(
    target: Mapping[str, Any], old: JobRecord | None, secret_keys: list[str]
) -> dict[str, Any]:
    """JobSpec's ``target`` (and, for Python, ``args``, ``kwargs``) of a whole definition."""
    kind_name = kind_of_body(target)
    if kind_name != "python":
        return {"target": {**target, "kind": kind_name}, "args": [], "kwargs": {}}
    fields = _python_fields(target)
    fields["kwargs"] = keep_secrets(fields["kwargs"], old, secret_keys)
    return fields


def patch_target(
    target: Mapping[str, Any], old: JobRecord, secret_keys: list[str]
) -> dict[str, Any]:
    """A PATCH's target: the fields given change (within the job's kind); naming another kind
    replaces the target as a whole."""
    kind_name = kind_of_body(target, old.target_kind)
    if kind_name != old.target_kind:
        fields = target_fields({**target, "kind": kind_name}, old, secret_keys)
        if old.target_kind == "python" and kind_name != "python":
            fields["secret_keys"] = []
            fields["parameters"] = []
        return fields
    if kind_name == "python":
        fields = _python_fields(target, partial=True)
        if "kwargs" in fields:
            fields["kwargs"] = keep_secrets(fields["kwargs"], old, secret_keys)
        return fields
    stored = {k: v for k, v in old.target.items() if k != "parameters"}
    given = {k: v for k, v in target.items() if k != "kind"}
    merged = {k: v for k, v in {**stored, **given}.items() if v is not None}
    return {"target": {"kind": kind_name, **merged}}


def keep_secrets(
    kwargs: dict[str, Any], old: JobRecord | None, secret_keys: list[str]
) -> dict[str, Any]:
    """A masked secret sent back (as the API showed it) keeps the stored value."""
    if old is None:
        return kwargs
    stored = old.target.get("kwargs") or {}
    out = dict(kwargs)
    for key, value in kwargs.items():
        if value == MASK and key in old.secret_keys and key in stored and key in secret_keys:
            out[key] = stored[key]
    return out
