"""Which handed-over runs a scheduler node publishes again (``CeleryRepo.stranded``): only runs
waiting longer than the bound, only while a live worker of their queue has a free slot (a
message waiting behind busy workers is not lost), and each once per bound, by one node."""

from __future__ import annotations

from sqlalchemy import update

from tickwork import Tickwork
from tickwork.settings import Settings
from tickwork.store.celery_repo import CeleryRepo
from tickwork.store.runs import NewRun
from tickwork.store.tables import run

SEC = 1_000_000


def test_only_runs_waiting_past_the_bound_beside_a_free_worker_slot_are_taken_once(
    db_url: str,
) -> None:
    tw = Tickwork(settings=Settings(database_url=db_url, timezone="UTC"))
    try:
        tw.add_job("tests.api.tasks:noop", "interval", seconds=3600, id="clean", queue="dataset")
        tw.add_job("tests.api.tasks:noop", "interval", seconds=3600, id="other", queue="other")
        now = 1_800_000_000 * SEC
        repo = CeleryRepo(tw.store.db)
        with tw.store.db.write() as conn:
            tw.store.nodes.register(conn, "w1", "worker", now - 120 * SEC)
            repo.register_worker(conn, "w1", ["dataset"], 1, "redis://127.0.0.1/13")
            new = [
                NewRun(job, now - (90 - i) * SEC, now - (90 - i) * SEC, "manual", "scheduled",
                       node_id="n1")
                for i, job in enumerate(("clean", "clean", "clean", "other"))
            ]  # fmt: skip
            old, recent, busy, other = (int(i) for i in tw.store.runs.insert_many(conn, new, now))
            repo.hand_over(conn, "n1", "dataset", [old, busy], now - 80 * SEC)
            repo.hand_over(conn, "n1", "dataset", [recent], now - 5 * SEC)
            repo.hand_over(conn, "n1", "other", [other], now - 80 * SEC)  # no worker for it
            assert repo.start(conn, busy, "w1", now - 70 * SEC)  # w1's only slot is taken
        bound = now - 60 * SEC
        with tw.store.db.write() as conn:
            assert repo.stranded(conn, bound, now) == []  # no free slot: waiting, not lost
        with tw.store.db.write() as conn:
            conn.execute(
                update(run).where(run.c.id == busy).values(status="succeeded", finished_at=now)
            )
        with tw.store.db.write() as conn:
            assert repo.stranded(conn, bound, now) == [(old, "dataset")]
        with tw.store.db.write() as conn:  # taken: marked published at now, not again
            assert repo.stranded(conn, bound, now + SEC) == []
            assert tw.store.runs.get(conn, old).published_at == now
        with tw.store.db.write() as conn:  # a dead worker's slots do not count
            tw.store.nodes.stop(conn, "w1", now, "dead")
            assert repo.stranded(conn, now, now + 2 * SEC) == []
    finally:
        tw.close()
