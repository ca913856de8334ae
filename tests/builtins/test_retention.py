"""cleanup_old_data against the real servers: 200,000 rows of which 150,000 are older than
90 days, with a child table behind a foreign key; the job deletes exactly the old ones (and
their children first) in bounded batches while another connection keeps writing with a
lock timeout of 1 s (the server raises an error on any longer lock wait)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from tests.builtins.conftest import findings, run_builtin
from tickwork.errors import InvalidInput

OLD, NEW = 150_000, 50_000


@pytest.fixture
def events(
    admin: sa.Engine, engine_name: str, request: pytest.FixtureRequest
) -> Iterator[tuple[int, int]]:
    """(old, new) rows planted: 150,000 and 50,000 unless the test asks for fewer."""
    old, new = getattr(request, "param", (OLD, NEW))
    pg = engine_name == "postgres"
    with admin.connect() as conn:
        conn.execute(sa.text("DROP TABLE IF EXISTS mnt_event_tags"))
        conn.execute(sa.text("DROP TABLE IF EXISTS mnt_events"))
        key = "BIGSERIAL PRIMARY KEY" if pg else "BIGINT AUTO_INCREMENT PRIMARY KEY"
        stamp = "TIMESTAMP" if pg else "DATETIME(6)"
        conn.execute(sa.text(
            f"CREATE TABLE mnt_events (id {key}, created_at {stamp} NOT NULL, "
            "payload VARCHAR(40) NOT NULL)"
        ))  # fmt: skip
        conn.execute(sa.text("CREATE INDEX mnt_events_created ON mnt_events (created_at)"))
        conn.execute(sa.text(
            f"CREATE TABLE mnt_event_tags (id {key}, event_id BIGINT NOT NULL, "
            "tag VARCHAR(20) NOT NULL, CONSTRAINT mnt_tag_event FOREIGN KEY (event_id) "
            "REFERENCES mnt_events (id))"
        ))  # fmt: skip
        if pg:
            conn.execute(sa.text("CREATE INDEX mnt_tags_event ON mnt_event_tags (event_id)"))
            series = "generate_series(1, {n}) AS s(n)"
            ago = "LOCALTIMESTAMP - make_interval(days => {d}) - make_interval(secs => s.n)"
        else:
            series = "seq_1_to_{n} AS s"
            ago = "NOW(6) - INTERVAL {d} DAY - INTERVAL s.seq SECOND"
        conn.execute(sa.text(
            f"INSERT INTO mnt_events (created_at, payload) SELECT {ago.format(d=100)}, "
            f"'old' FROM {series.format(n=old)}"
        ))  # fmt: skip
        conn.execute(sa.text(
            f"INSERT INTO mnt_events (created_at, payload) SELECT {ago.format(d=1)}, "
            f"'new' FROM {series.format(n=new)}"
        ))  # fmt: skip
        # a tag on every 10th event: 15,000 old, 5,000 new
        conn.execute(sa.text(
            "INSERT INTO mnt_event_tags (event_id, tag) SELECT id, 't' FROM mnt_events "
            f"WHERE {'id % 10' if pg else 'MOD(id, 10)'} = 0"
        ))  # fmt: skip
        if pg:
            conn.execute(sa.text("ANALYZE mnt_events"))
    yield old, new
    with admin.connect() as conn:
        conn.execute(sa.text("DROP TABLE IF EXISTS mnt_event_tags"))
        conn.execute(sa.text("DROP TABLE IF EXISTS mnt_events"))


SPEC = {
    "name": "cleanup_old_data",
    "table": "mnt_events",
    "time_column": "created_at",
    "children": [{"table": "mnt_event_tags", "column": "event_id"}],
    "pause_s": 0.005,
}


class Writer(threading.Thread):
    """Another application writing while the cleanup runs: new events, tags on them and
    updates of recent rows, each in its own transaction, under a 1 s lock timeout."""

    def __init__(self, url: str, engine_name: str) -> None:
        super().__init__(daemon=True)
        self.engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        self.engine_name = engine_name
        self.done = threading.Event()
        self.writes = 0
        self.errors: list[str] = []

    def run(self) -> None:
        pg = self.engine_name == "postgres"
        now = "LOCALTIMESTAMP" if pg else "NOW(6)"
        with self.engine.connect() as conn:
            if pg:
                conn.execute(sa.text("SET lock_timeout = '1s'"))
            else:
                conn.execute(sa.text("SET SESSION innodb_lock_wait_timeout = 1"))
            conn.commit()
            while not self.done.is_set():
                try:
                    with conn.begin():
                        new_id = conn.execute(sa.text(
                            f"INSERT INTO mnt_events (created_at, payload) VALUES ({now}, 'w')"
                            + (" RETURNING id" if pg else "")
                        ))  # fmt: skip
                        event = new_id.scalar_one() if pg else new_id.lastrowid
                        conn.execute(sa.text(
                            "INSERT INTO mnt_event_tags (event_id, tag) VALUES (:e, 'w')"
                        ), {"e": event})  # fmt: skip
                        conn.execute(sa.text(
                            "UPDATE mnt_events SET payload = 'touched' WHERE id = :e"
                        ), {"e": event - 1})  # fmt: skip
                    self.writes += 1
                    self.done.wait(0.002)  # a busy application, not a flood
                except Exception as exc:
                    self.errors.append(str(exc).splitlines()[0])
                    if len(self.errors) > 5:
                        return

    def stop(self) -> None:
        self.done.set()
        self.join(30)
        self.engine.dispose()


def _counts(admin: sa.Engine, engine_name: str) -> tuple[int, int, int]:
    ago = ("LOCALTIMESTAMP - interval '90 days'" if engine_name == "postgres"
           else "NOW(6) - INTERVAL 90 DAY")  # fmt: skip
    with admin.connect() as conn:
        old = conn.execute(sa.text(f"SELECT count(*) FROM mnt_events WHERE created_at < {ago}"))
        old_n = old.scalar_one()
        total = conn.execute(sa.text("SELECT count(*) FROM mnt_events")).scalar_one()
        tags = conn.execute(sa.text("SELECT count(*) FROM mnt_event_tags")).scalar_one()
    return int(old_n), int(total), int(tags)


def test_old_rows_go_in_batches_while_another_connection_writes(
    target_url: str, engine_name: str, admin: sa.Engine, events: tuple[int, int]
) -> None:
    dry = run_builtin(target_url, **SPEC)  # dry_run is the default
    assert dry["metrics"]["rows_matching"] == OLD
    assert dry["metrics"]["child_rows_matching"] == OLD // 10
    assert _counts(admin, engine_name) == (OLD, OLD + NEW, (OLD + NEW) // 10)

    writer = Writer(target_url, engine_name)
    writer.start()
    try:
        # a first run bounded by max_rows; the next one resumes where it stopped
        first = run_builtin(target_url, **SPEC, dry_run=False, max_rows=10_000)
        assert first["metrics"]["rows_deleted"] == 10_000
        assert first["metrics"]["batches"] == 10
        assert any("max_rows" in f["message"] for f in findings(first, "info"))
        rest = run_builtin(target_url, **SPEC, dry_run=False)
    finally:
        writer.stop()
    assert "failed" not in rest, rest
    assert rest["metrics"]["rows_deleted"] == OLD - 10_000
    assert rest["metrics"]["batches"] == (OLD - 10_000) // 1000
    assert first["metrics"]["child_rows_deleted"] + rest["metrics"]["child_rows_deleted"] == (
        OLD // 10
    )
    assert writer.errors == []  # no lock wait of the writer reached 1 s
    assert writer.writes > 0
    old, total, tags = _counts(admin, engine_name)
    assert old == 0
    assert total == NEW + writer.writes
    assert tags == NEW // 10 + writer.writes


@pytest.mark.parametrize("events", [(3000, 1000)], indirect=True)
def test_without_an_index_on_the_time_column_nothing_is_deleted(
    target_url: str, engine_name: str, admin: sa.Engine, events: tuple[int, int]
) -> None:
    with admin.connect() as conn:
        drop = "DROP INDEX mnt_events_created" + ("" if engine_name == "postgres"
                                                  else " ON mnt_events")  # fmt: skip
        conn.execute(sa.text(drop))
    result = run_builtin(target_url, **SPEC, dry_run=False)
    assert "has no index" in result["failed"]
    assert _counts(admin, engine_name)[0] == events[0]


@pytest.mark.parametrize("events", [(3000, 1000)], indirect=True)
def test_names_are_checked_against_the_catalog(target_url: str, events: tuple[int, int]) -> None:
    with pytest.raises(InvalidInput) as caught:
        run_builtin(target_url, **{**SPEC, "table": "mnt_events; DROP TABLE mnt_events"})
    assert caught.value.field == "target.table"
    missing = run_builtin(target_url, **{**SPEC, "table": "mnt_nowhere"}, dry_run=False)
    assert "does not exist" in missing["failed"]
    column = run_builtin(target_url, **{**SPEC, "time_column": "payload"}, dry_run=False)
    assert "not a date/time" in column["failed"]


@pytest.mark.parametrize("events", [(3000, 1000)], indirect=True)
def test_a_user_without_delete_privilege_gets_a_finding(
    unprivileged_url: str, admin: sa.Engine, engine_name: str, events: tuple[int, int]
) -> None:
    result = run_builtin(unprivileged_url, **SPEC, dry_run=False)
    assert "failed" not in result, result
    assert [f["object"] for f in findings(result, "warning")] == ["privileges"]
    assert _counts(admin, engine_name)[0] == events[0]
