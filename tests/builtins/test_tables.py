"""The table and index jobs against the real servers: a fragmented MariaDB table, a bloated
PostgreSQL table, an unindexed foreign key, a redundant index; the index created only when
listed with apply: true; sizes and the report; SQLite where the idea applies."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.builtins.conftest import findings, run_builtin

WAIT_S = 30.0


def until(check: Callable[[], dict[str, Any] | None]) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT_S
    while True:
        result = check()
        if result is not None:
            return result
        assert time.monotonic() < deadline, "the planted condition never showed"
        time.sleep(0.3)


@pytest.fixture
def schema(admin: sa.Engine, engine_name: str) -> Iterator[None]:
    """mnt_parent, mnt_child (a foreign key; on PostgreSQL without an index), mnt_dup (a
    redundant index)."""
    drop = ["mnt_child", "mnt_parent", "mnt_dup", "mnt_frag"]
    with admin.connect() as conn:
        for t in drop:
            conn.execute(sa.text(f"DROP TABLE IF EXISTS {t}"))
        conn.execute(sa.text("CREATE TABLE mnt_parent (id INT PRIMARY KEY)"))
        conn.execute(sa.text(
            "CREATE TABLE mnt_child (id INT PRIMARY KEY, parent_id INT NOT NULL, "
            "CONSTRAINT mnt_child_parent FOREIGN KEY (parent_id) REFERENCES mnt_parent (id))"
        ))  # fmt: skip
        conn.execute(sa.text("CREATE TABLE mnt_dup (id INT PRIMARY KEY, a INT, b INT)"))
        conn.execute(sa.text("CREATE INDEX mnt_dup_a ON mnt_dup (a)"))
        conn.execute(sa.text("CREATE INDEX mnt_dup_ab ON mnt_dup (a, b)"))
    yield
    with admin.connect() as conn:
        for t in drop:
            conn.execute(sa.text(f"DROP TABLE IF EXISTS {t}"))


def _has_index(admin: sa.Engine, table: str, name: str) -> bool:
    with admin.connect() as conn:
        return name in {i["name"] for i in sa.inspect(conn).get_indexes(table)}


def test_index_advice_and_creation_only_when_listed_and_applied(
    target_url: str, engine_name: str, admin: sa.Engine, schema: None
) -> None:
    listed = {"create": [{"table": "mnt_dup", "columns": ["b"], "name": "mnt_dup_b"}]}
    advice = run_builtin(target_url, name="optimize_database_indexes", **listed)
    assert "failed" not in advice, advice
    objects = {f["object"]: f for f in advice["findings"]}
    assert "mnt_dup_a" in objects[next(o for o in objects if o.endswith("mnt_dup.mnt_dup_a"))][
        "message"]  # fmt: skip
    if engine_name == "postgres":  # InnoDB makes an index for every foreign key itself
        fk = objects["public.mnt_child"]
        assert fk["severity"] == "warning"
        assert "mnt_child_parent" in fk["message"]
    would = [f for f in advice["findings"] if f["message"].startswith("would run:")]
    assert len(would) == 1
    assert ("CONCURRENTLY" if engine_name == "postgres" else "LOCK=NONE") in would[0]["message"]
    assert not _has_index(admin, "mnt_dup", "mnt_dup_b")

    applied = run_builtin(target_url, name="optimize_database_indexes", apply=True, **listed)
    assert "failed" not in applied, applied
    assert applied["metrics"]["indexes_created"] == 1
    assert _has_index(admin, "mnt_dup", "mnt_dup_b")
    again = run_builtin(target_url, name="optimize_database_indexes", apply=True, **listed)
    assert again["metrics"]["indexes_created"] == 0
    # the foreign key's index (InnoDB made one already: nothing to create there)
    fk_index = [{"table": "mnt_child", "columns": ["parent_id"]}]
    fixed = run_builtin(target_url, name="optimize_database_indexes", apply=True,
                        create=fk_index)  # fmt: skip
    assert fixed["metrics"]["indexes_created"] == (1 if engine_name == "postgres" else 0)
    after = run_builtin(target_url, name="optimize_database_indexes")
    assert not any(f["object"] == "public.mnt_child" for f in after["findings"])

    unknown = run_builtin(target_url, name="optimize_database_indexes", apply=True,
                          create=[{"table": "mnt_child", "columns": ["nope"]}])  # fmt: skip
    assert "has no column 'nope'" in unknown["failed"]


@pytest.mark.mysql
def test_fragmented_mariadb_table(mnt_databases: Callable[[str], str]) -> None:
    url = mnt_databases("mysql")
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text("DROP TABLE IF EXISTS mnt_frag"))
        conn.execute(sa.text(
            "CREATE TABLE mnt_frag (id INT PRIMARY KEY, pad VARCHAR(1000)) ENGINE=InnoDB"
        ))  # fmt: skip
        conn.execute(sa.text(
            "INSERT INTO mnt_frag SELECT seq, REPEAT('x', 900) FROM seq_1_to_20000"
        ))  # fmt: skip
        conn.execute(sa.text("DELETE FROM mnt_frag WHERE id <= 16000"))
    try:

        def fragmented() -> dict[str, Any] | None:
            with admin.connect() as conn:  # statistics catch up after InnoDB's purge
                conn.execute(sa.text("ANALYZE TABLE mnt_frag")).fetchall()
            result = run_builtin(url, name="check_table_fragmentation", min_bytes=0)
            return result if any(f["object"] == "mnt_frag" for f in result["findings"]) else None

        result = fragmented() or until(fragmented)
        found = next(f for f in result["findings"] if f["object"] == "mnt_frag")
        assert found["severity"] == "warning"
        assert "OPTIMIZE TABLE `mnt_frag`" in found["action"]
        row = next(r for r in result["tables"]["tables"]["rows"] if r[0] == "mnt_frag")
        assert row[4] > 20
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text("DROP TABLE IF EXISTS mnt_frag"))
        admin.dispose()


@pytest.mark.postgres
def test_bloated_postgres_table(mnt_databases: Callable[[str], str]) -> None:
    url = mnt_databases("postgres")
    # NullPool: the planting session ends, and a session's statistics are flushed as it ends
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        conn.execute(sa.text("DROP TABLE IF EXISTS mnt_bloat"))
        conn.execute(sa.text(
            "CREATE TABLE mnt_bloat (id INT PRIMARY KEY, pad TEXT) "
            "WITH (autovacuum_enabled = false)"
        ))  # fmt: skip
        conn.execute(sa.text(
            "INSERT INTO mnt_bloat SELECT g, repeat('x', 200) FROM generate_series(1, 20000) g"
        ))  # fmt: skip
        conn.execute(sa.text("DELETE FROM mnt_bloat WHERE id <= 15000"))
    try:

        def bloated() -> dict[str, Any] | None:
            result = run_builtin(url, name="check_table_fragmentation", min_bytes=0)
            hit = any(f["object"] == "public.mnt_bloat" for f in result["findings"])
            return result if hit else None

        result = until(bloated)
        found = next(f for f in result["findings"] if f["object"] == "public.mnt_bloat")
        assert found["severity"] == "warning"
        assert "15000 dead" in found["message"]
        assert 'VACUUM (ANALYZE) "public"."mnt_bloat"' in found["action"] or (
            "VACUUM (ANALYZE) public.mnt_bloat" in found["action"]
        )
        analyzed = run_builtin(url, name="analyze_tables", min_changes=1000)
        assert "mnt_bloat" in [r[0] for r in analyzed["tables"]["analyzed"]["rows"]]
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text("DROP TABLE IF EXISTS mnt_bloat"))
        admin.dispose()


def test_analyze_sizes_and_report(target_url: str, schema: None) -> None:
    analyzed = run_builtin(target_url, name="analyze_tables", tables=["mnt_child", "mnt_dup"])
    assert analyzed["metrics"]["tables_analyzed"] == 2
    missing = run_builtin(target_url, name="analyze_tables", tables=["mnt_nowhere"])
    assert "does not exist" in missing["failed"]

    sizes = run_builtin(target_url, name="collect_database_sizes")
    assert sizes["metrics"]["database_bytes"] > 0
    names = [r[0].rpartition(".")[2] for r in sizes["tables"]["tables"]["rows"]]
    assert {"mnt_child", "mnt_dup"} <= set(names)
    report = run_builtin(target_url, name="generate_performance_report")
    assert "failed" not in report
    for key in ("cache_hit_pct", "connections", "max_connections", "database_bytes"):
        assert key in report["metrics"]
    assert 0 <= report["metrics"]["cache_hit_pct"] <= 100


@pytest.mark.sqlite
def test_sqlite_where_it_applies(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text(
            "CREATE TABLE mnt_log (id INTEGER PRIMARY KEY, at TIMESTAMP NOT NULL, pad TEXT)"
        ))  # fmt: skip
        conn.execute(sa.text("CREATE INDEX mnt_log_at ON mnt_log (at)"))
        conn.execute(sa.text(
            "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 3000) "
            "INSERT INTO mnt_log (at, pad) SELECT strftime('%Y-%m-%d %H:%M:%f', 'now', "
            "CASE WHEN n <= 2000 THEN '-100 days' ELSE '-1 days' END), "
            "hex(randomblob(300)) FROM s"
        ))  # fmt: skip
    engine.dispose()
    with engine.begin() as conn:  # a child keyed by another column than the primary key
        conn.execute(sa.text("ALTER TABLE mnt_log ADD COLUMN ref TEXT"))
        conn.execute(sa.text("UPDATE mnt_log SET ref = 'r' || id"))
        conn.execute(sa.text("CREATE TABLE mnt_note (id INTEGER PRIMARY KEY, log_ref TEXT)"))
        conn.execute(sa.text("CREATE INDEX mnt_note_ref ON mnt_note (log_ref)"))
        conn.execute(sa.text(
            "INSERT INTO mnt_note (log_ref) SELECT ref FROM mnt_log WHERE id % 100 = 0"
        ))  # fmt: skip
    engine.dispose()
    assert "failed" not in run_builtin(url, name="db_health_check")
    children = [{"table": "mnt_note", "column": "log_ref", "parent_column": "ref"}]
    deleted = run_builtin(url, name="cleanup_old_data", table="mnt_log", time_column="at",
                          dry_run=False, pause_s=0, batch_size=500,
                          children=children)  # fmt: skip
    assert deleted["metrics"]["rows_deleted"] == 2000
    assert deleted["metrics"]["child_rows_deleted"] == 20
    assert deleted["metrics"]["batches"] == 4
    frag = run_builtin(url, name="check_table_fragmentation", min_bytes=0)
    assert frag["metrics"]["free_pages"] > 0
    assert [f["object"] for f in findings(frag, "warning")] == ["database"]
    assert run_builtin(url, name="analyze_tables")["metrics"]["tables_analyzed"] == 2
    info = run_builtin(url, name="check_slow_queries")
    assert [f["object"] for f in info["findings"]] == ["sqlite"]
