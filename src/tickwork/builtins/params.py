"""The parameters of built-ins: a small typed schema, validated once when a job is saved
(InvalidInput naming ``target.<param>``) and filled with defaults."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tickwork.errors import InvalidInput
from tickwork.targets.base import refuse, where

# A table, column or index name as the user writes it ("name" or "schema.name"); the catalog
# decides at run time whether it exists. Quotes, spaces and semicolons never get this far.
IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]{0,62}(\.[A-Za-z_][A-Za-z0-9_$]{0,62})?\Z")
COLUMN = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]{0,62}\Z")


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    type: str  # int, number, bool, text, identifier, column, names, patterns, children, indexes
    default: Any = None
    low: float = 0
    high: float = 1e12
    help: str = ""
    required: bool = False

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "type": self.type, "default": self.default}
        if self.type in ("int", "number"):
            out.update(min=self.low, max=self.high)
        if self.required:
            out["required"] = True
        if self.help:
            out["help"] = self.help
        return out


def _number(name: str, value: Any, p: Param) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise refuse(name, f"must be a number, not {value!r}", "number_type")
    if not p.low <= value <= p.high:
        raise refuse(
            name, f"{value!r} is out of range {p.low:g}-{p.high:g}", "out_of_range",
            min=p.low, max=p.high,
        )  # fmt: skip
    return float(value)


def _ident(name: str, value: Any, pattern: re.Pattern[str]) -> str:
    if not isinstance(value, str) or not pattern.match(value):
        raise InvalidInput(
            where(name), f"{value!r} is not a table or column name (letters, digits, _ and $)",
            code="bad_identifier", params={"value": str(value)[:100]},
        )  # fmt: skip
    return value


def _list(name: str, value: Any, limit: int) -> list[Any]:
    if not isinstance(value, list | tuple):
        raise refuse(name, "must be a list", "list_type")
    if len(value) > limit:
        raise refuse(name, f"has {len(value)} entries; the limit is {limit}", "too_many", max=limit)
    return list(value)


def check_pattern(name: str, value: Any) -> str:
    """A Redis key pattern: text with a literal prefix (a bare ``*`` would match every key)."""
    if not isinstance(value, str) or not value or len(value) > 200 or "\x00" in value:
        raise InvalidInput(where(name), f"{value!r} is not a key pattern", code="bad_pattern",
                           params={"value": str(value)[:100]})  # fmt: skip
    literal = re.split(r"[*?\[\\]", value, maxsplit=1)[0]
    if not literal.strip():
        raise InvalidInput(
            where(name),
            f"{value!r} matches keys of every application: a pattern must start with a literal "
            "prefix such as 'cache:*'",
            code="pattern_too_broad",
            params={"value": value},
        )
    return value


def check(p: Param, value: Any) -> Any:
    name = p.name
    if p.type == "int":
        return int(_number(name, value, p))
    if p.type == "number":
        return _number(name, value, p)
    if p.type == "bool":
        if not isinstance(value, bool):
            raise refuse(name, f"must be true or false, not {value!r}", "bool_type")
        return value
    if p.type == "text":
        if not isinstance(value, str) or len(value) > 1000 or "\x00" in value:
            raise refuse(name, "must be text of at most 1000 characters", "text_type")
        return value
    if p.type == "identifier":
        return _ident(name, value, IDENT)
    if p.type == "column":
        return _ident(name, value, COLUMN)
    if p.type == "names":
        return [_ident(f"{name}[{i}]", v, IDENT) for i, v in enumerate(_list(name, value, 200))]
    if p.type == "patterns":
        items = _list(name, value, 20)
        if not items:
            raise refuse(name, "must name at least one pattern", "empty")
        return [check_pattern(f"{name}[{i}]", v) for i, v in enumerate(items)]
    if p.type == "queues":
        items = _list(name, value, 50)
        if not items:
            raise refuse(name, "must name at least one queue", "empty")
        for i, v in enumerate(items):
            if not isinstance(v, str) or not v or len(v) > 255 or "\x00" in v:
                raise refuse(f"{name}[{i}]", f"{v!r} is not a queue name", "bad_name", name=str(v))
        return items
    if p.type == "children":
        out: list[dict[str, Any]] = []
        for i, item in enumerate(_list(name, value, 20)):
            where = f"{name}[{i}]"
            if not isinstance(item, Mapping) or set(item) - {"table", "column", "parent_column"}:
                raise refuse(where, "must be {table, column, parent_column?}", "mapping_type")
            child: dict[str, Any] = {
                "table": _ident(f"{where}.table", item.get("table"), IDENT),
                "column": _ident(f"{where}.column", item.get("column"), COLUMN),
            }
            if item.get("parent_column") is not None:
                child["parent_column"] = _ident(
                    f"{where}.parent_column", item["parent_column"], COLUMN
                )
            out.append(child)
        return out
    if p.type == "indexes":
        out = []
        for i, item in enumerate(_list(name, value, 20)):
            where = f"{name}[{i}]"
            if not isinstance(item, Mapping) or set(item) - {"table", "columns", "name"}:
                raise refuse(where, "must be {table, columns, name?}", "mapping_type")
            cols = _list(f"{where}.columns", item.get("columns"), 16)
            if not cols:
                raise refuse(f"{where}.columns", "must name at least one column", "empty")
            index: dict[str, Any] = {
                "table": _ident(f"{where}.table", item.get("table"), IDENT),
                "columns": [_ident(f"{where}.columns[{j}]", c, COLUMN) for j, c in enumerate(cols)],
            }
            if item.get("name") is not None:
                index["name"] = _ident(f"{where}.name", item["name"], COLUMN)
            out.append(index)
        return out
    raise AssertionError(p.type)  # pragma: no cover
