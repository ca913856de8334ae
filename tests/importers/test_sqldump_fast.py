"""The SQL dump reader's fast path: an INSERT statement whose literals are plain (strings
without escapes, double quotes or doubled quotes; JSON-shaped numbers; NULL, TRUE, FALSE;
``now()``) is read as JSON in one go. It must read exactly what the full reader reads, and
leave every other statement to it."""

from __future__ import annotations

from typing import Any

import pytest

from tickwork.importers import sqldump

HEAD = "CREATE TABLE `t` (\n  `a` int,\n  `b` varchar(64),\n  `c` varchar(64),\n  `d` double\n);\n"

PLAIN = [
    "(1,'plain','',1.5)",
    "(2,'with (parens), commas; and semicolons;','计划任务 Ω',-3)",
    "(3,NULL,'null TRUE false',0)",
    "(4, 'spaced' , now() ,1e3)",
    "(5,'NULL','it is ok',-0.25)",
    "(6,TRUE,FALSE,2)",
]
NOT_PLAIN = [
    "(7,'it\\'s','back\\\\slash',1)",  # backslash escapes
    "(8,'it''s','x',1)",  # a doubled quote
    "(9,'say \"hi\"','x',1)",  # a double quote inside
    "(10,'x','y',.5)",  # a number JSON does not write
    "(11,'x',0x1F,1)",  # a hex literal
    "(12,'a\nb','c',1)",  # a raw newline in a string
    "(13,'a;\nb','c',1)",  # and a statement end inside it
    "(14,'x',CONCAT('a','b'),1)",  # a call with arguments
]


def _read(text: str, *, fast: bool, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    with monkeypatch.context() as patch:
        if not fast:
            patch.setattr(sqldump, "_plain_tuples", lambda _text, _i: None)
        return sqldump.rows_from_dump(text, "t")


def _dump(*statements: str) -> str:
    return HEAD + "".join(f"INSERT INTO `t` VALUES {s};\n" for s in statements)


def test_plain_statements_read_as_the_full_reader_reads_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = _dump(",".join(PLAIN[:3]), ",".join(PLAIN[3:]))
    assert sqldump._plain_tuples(text, text.index("VALUES") + 7) is not None  # taken
    fast = _read(text, fast=True, monkeypatch=monkeypatch)
    assert fast == _read(text, fast=False, monkeypatch=monkeypatch)
    assert [type(r["d"]) for r in fast] == [float, int, int, float, float, int]
    assert fast[1]["b"] == "with (parens), commas; and semicolons;"
    assert fast[3]["c"] is None  # now()
    assert fast[4]["b"] == "NULL"  # a string, not a NULL
    assert (fast[5]["b"], fast[5]["c"]) == (True, False)


@pytest.mark.parametrize("row", NOT_PLAIN)
def test_other_statements_are_left_to_the_full_reader(
    row: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = _dump(f"{PLAIN[0]},{row}", PLAIN[1])
    start = text.index("VALUES") + 7
    assert sqldump._plain_tuples(text, start) is None
    try:
        expected = _read(text, fast=False, monkeypatch=monkeypatch)
    except Exception as exc:  # the full reader refuses it: so does the reader
        with pytest.raises(type(exc)):
            _read(text, fast=True, monkeypatch=monkeypatch)
        return
    assert _read(text, fast=True, monkeypatch=monkeypatch) == expected


def test_windows_line_ends_and_a_last_statement_without_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = _dump(PLAIN[0], PLAIN[1]).replace("\n", "\r\n") + "INSERT INTO `t` VALUES " + PLAIN[2]
    rows = _read(text, fast=True, monkeypatch=monkeypatch)
    assert [r["a"] for r in rows] == [1, 2, 3]
    assert rows == _read(text, fast=False, monkeypatch=monkeypatch)


def test_a_dump_cut_inside_a_statement_is_refused_by_name() -> None:
    from tickwork.errors import InvalidInput

    with pytest.raises(InvalidInput) as caught:
        sqldump.rows_from_dump(HEAD + "INSERT INTO `t` VALUES (1,'it\\'s',", "t")
    assert "ends inside an INSERT INTO t" in caught.value.reason


def test_other_tables_statements_and_spellings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Another table's INSERTs are skipped whole (their values may look like ours), the
    keyword in lower case and with a column list, calls such as sysdate() read as NULL."""
    other = "INSERT INTO `u` VALUES (1,'INSERT INTO t VALUES (99,''x'',''y'',1);'),(2,'z');\n"
    text = (
        HEAD
        + other
        + "insert into t (a, b, c, d) values (1,'x',sysdate(),2),(2,'y', now( ) ,3);\n"
        + other
        + "INSERT INTO `t` VALUES (3,'z',NULL,4);\n"
    )
    fast = _read(text, fast=True, monkeypatch=monkeypatch)
    assert [r["a"] for r in fast] == [1, 2, 3]
    assert fast[0]["c"] is None
    assert fast[1]["c"] is None
    assert fast == _read(text, fast=False, monkeypatch=monkeypatch)
