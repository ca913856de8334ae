"""Rows of one table from a MySQL/MariaDB dump (``mysqldump`` output or a hand-written
``CREATE TABLE`` + ``INSERT INTO`` script), or from a live database by URL.

Only what a dump of plain data needs is read: the column names from ``CREATE TABLE`` (for
``INSERT INTO t VALUES (...)`` without a column list) and the literals of ``INSERT``
statements: quoted strings with MySQL's backslash and doubled-quote escapes, numbers, NULL,
TRUE/FALSE. Nothing in the dump is executed."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tickwork.errors import InvalidInput

_CALL = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\(\s*\)")
_ESCAPES = {"0": "\0", "n": "\n", "r": "\r", "t": "\t", "Z": "\x1a", "b": "\b"}


def is_url(source: str) -> bool:
    return "://" in source


def rows(source: str, table: str, *, dump: str | None = None) -> list[dict[str, Any]]:
    """Every row of ``table`` as {column: value}: from a database URL or a dump file
    (``dump``: the file's text, read once by a caller that reads several tables of it)."""
    if is_url(source):
        return _rows_from_database(source, table)
    if dump is None:
        dump = read_dump(source)
    return rows_from_dump(dump, table, label=source)


def read_dump(source: str) -> str:
    return Path(source).read_text(encoding="utf-8")


def _rows_from_database(url: str, table: str) -> list[dict[str, Any]]:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            found = sa.Table(table, sa.MetaData(), autoload_with=conn)
            return [dict(r._mapping) for r in conn.execute(sa.select(found))]
    except sa.exc.NoSuchTableError:
        raise InvalidInput("source", f"the database has no table {table}") from None
    finally:
        engine.dispose()


def _columns(text: str, table: str) -> list[str] | None:
    match = re.search(
        rf"CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?[`\"]?{re.escape(table)}[`\"]?\s*\(",
        text,
        re.IGNORECASE,
    )
    if match is None:
        return None
    columns: list[str] = []
    depth, line_start = 1, match.end()
    i = match.end()
    while i < len(text) and depth:
        char = text[i]
        if char in "'\"":
            i = _skip_string(text, i)
            continue
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if (char == "," and depth == 1) or depth == 0:
            _column_name(text[line_start:i], columns)
            line_start = i + 1
        i += 1
    return columns


def _column_name(definition: str, columns: list[str]) -> None:
    words = definition.strip().split()
    if not words:
        return
    first = words[0].strip('`"')
    if first.upper() in ("PRIMARY", "KEY", "UNIQUE", "INDEX", "CONSTRAINT", "FOREIGN", "FULLTEXT"):
        return
    columns.append(first)


def _skip_string(text: str, i: int) -> int:
    quote, i = text[i], i + 1
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == quote:
            if i + 1 < len(text) and text[i + 1] == quote:
                i += 2
                continue
            return i + 1
        i += 1
    raise InvalidInput("dump", "a string literal is not closed")


def _values(text: str, i: int) -> tuple[list[Any], int]:
    """One parenthesised tuple of literals starting at text[i] == '('."""
    out: list[Any] = []
    i += 1
    while True:
        while text[i] in " \t\r\n":
            i += 1
        char = text[i]
        if char in "'\"":
            end = _skip_string(text, i)
            out.append(_unescape(text[i + 1 : end - 1], char))
            i = end
        elif call := _CALL.match(text, i):  # sysdate(), now(): a timestamp no job field uses
            out.append(None)
            i = call.end()
        else:
            match = re.compile(r"[^,)\s]+").match(text, i)
            if match is None:
                raise InvalidInput("dump", f"unexpected {text[i : i + 20]!r} in a VALUES tuple")
            out.append(_literal(match.group(0)))
            i = match.end()
        while text[i] in " \t\r\n":
            i += 1
        if text[i] == ",":
            i += 1
            continue
        if text[i] == ")":
            return out, i + 1
        raise InvalidInput("dump", f"unexpected {text[i : i + 20]!r} in a VALUES tuple")


def _unescape(body: str, quote: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(body):
        char = body[i]
        if char == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            out.append(_ESCAPES.get(nxt, nxt))
            i += 2
            continue
        if char == quote and i + 1 < len(body) and body[i + 1] == quote:
            out.append(quote)
            i += 2
            continue
        out.append(char)
        i += 1
    return "".join(out)


def _literal(word: str) -> Any:
    upper = word.upper()
    if upper == "NULL":
        return None
    if upper in ("TRUE", "FALSE"):
        return upper == "TRUE"
    try:
        return int(word)
    except ValueError:
        pass
    try:
        return float(word)
    except ValueError:
        raise InvalidInput("dump", f"{word!r} is not a literal this reader knows") from None


# Any INSERT statement: the table is compared after the match, so the search goes from one
# statement to the next and never through a statement's values (a million-row dump is
# hundreds of megabytes of them). The keyword in its usual spellings: a case-blind literal
# made the search scan twice as slowly.
_INSERT = re.compile(
    r"(?:INSERT|insert|Insert)\s+(?:(?:IGNORE|ignore)\s+)?(?:INTO|into|Into)\s+[`\"]?(\w+)[`\"]?"
    r"\s*(\([^)]*\))?\s*(?:VALUES|values|Values)\s*"
)
_STATEMENT_END = re.compile(r";[ \t]*(?:\r?\n|\Z)")


def _inserts(text: str, table: str) -> Iterator[tuple[list[str] | None, list[Any]]]:
    pos = 0
    while (match := _INSERT.search(text, pos)) is not None:
        i = match.end()
        if match.group(1).lower() != table.lower():
            end = _STATEMENT_END.search(text, i)  # another table's: skip its values
            pos = end.end() if end else len(text)
            continue
        named = match.group(2)
        columns = [c.strip().strip('`"') for c in named[1:-1].split(",")] if named else None
        fast = _plain_tuples(text, i)
        if fast is not None:
            tuples, pos = fast
            for values in tuples:
                yield columns, values
            continue
        while True:
            try:
                values, i = _values(text, i)
            except IndexError:
                raise InvalidInput("dump", f"ends inside an INSERT INTO {table}") from None
            yield columns, values
            while i < len(text) and text[i] in " \t\r\n":
                i += 1
            if i >= len(text) or text[i] != ",":
                break
            i += 1
            while i < len(text) and text[i] in " \t\r\n":
                i += 1
        pos = i


_EMPTY_PARENS = re.compile(r"\(\s*\)")
_CALLEE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\s*\Z")


def _plain_tuples(text: str, i: int) -> tuple[list[list[Any]], int] | None:
    """The tuples of one ``INSERT ... VALUES`` from text[i] to its ``;`` at the end of a
    line, and where the statement ends, read as JSON when they are plain: strings without
    escapes, double quotes or doubled quotes, numbers JSON writes alike, NULL, TRUE, FALSE,
    ``now()``-like calls (a million-row dump: the character-by-character reader took 50 s).
    None when the statement is not plain; the full reader reads it then."""
    end = _STATEMENT_END.search(text, i)
    stop = end.end() if end else len(text)
    body = text[i : end.start() if end else len(text)].rstrip().removesuffix(";").rstrip()
    if not body.startswith("(") or "\\" in body or '"' in body or "\x00" in body:
        return None
    pieces = body.split("'")  # no escapes: every quote opens or closes a string
    if len(pieces) % 2 == 0:
        return None
    outside = "\x00".join(pieces[0::2])
    if _EMPTY_PARENS.search(outside):  # now(), sysdate(): a timestamp no job field uses
        calls = _EMPTY_PARENS.split(outside)
        for k, before in enumerate(calls[:-1]):
            callee = _CALLEE.search(before)
            if callee is None:  # an empty tuple
                return None
            calls[k] = before[: callee.start()] + "null"
        outside = "".join(calls)
    # NULL, TRUE, FALSE as dumps write them (other spellings, or anything else outside the
    # strings that JSON does not read, leave the statement to the full reader)
    outside = outside.replace("NULL", "null").replace("TRUE", "true").replace("FALSE", "false")
    outside = outside.replace("(", "[").replace(")", "]")
    pieces[0::2] = outside.split("\x00")
    try:
        parsed = json.loads("[" + '"'.join(pieces) + "]")
    except ValueError:
        return None
    if not all(type(row) is list for row in parsed):
        return None
    return parsed, stop


def rows_from_dump(text: str, table: str, *, label: str = "dump") -> list[dict[str, Any]]:
    declared = _columns(text, table)
    out: list[dict[str, Any]] = []
    for number, (named, values) in enumerate(_inserts(text, table), start=1):
        columns = named or declared
        if columns is None:
            raise InvalidInput(
                label, f"INSERT INTO {table} without a column list and no CREATE TABLE {table}"
            )
        if len(columns) != len(values):
            raise InvalidInput(
                label,
                f"row {number} of {table} has {len(values)} values for {len(columns)} columns",
            )
        out.append(dict(zip(columns, values, strict=True)))
    if not out and declared is None:
        raise InvalidInput(label, f"holds no table {table} (no CREATE TABLE, no INSERT INTO)")
    return out
