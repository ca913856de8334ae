"""GET /api/queues and the queue gauges of /metrics (issue 14), from records as workers and
scheduler nodes write them."""

from __future__ import annotations

from tests.api.conftest import Api
from tickwork.store.celery_repo import CeleryRepo
from tickwork.store.runs import NewRun

SEC = 1_000_000


def seed(api: Api) -> tuple[str, list[int]]:
    """A worker on queues dataset,monitor; a dataset job with a run waiting in the broker for
    30 s, one running on the worker, and one that ended 10 s ago."""
    tw = api.tw
    tw.add_job("tests.api.tasks:noop", "interval", seconds=3600, id="clean", queue="dataset")
    now = tw.clock.now_us()
    repo = CeleryRepo(tw.store.db)
    with tw.store.db.write() as conn:
        tw.store.nodes.register(conn, "w1", "worker", now - 60 * SEC)
        repo.register_worker(conn, "w1", ["dataset", "monitor"], 4, "amqp://guest:***@mq//")
        ids = tw.store.runs.insert_many(
            conn,
            [
                NewRun(
                    "clean",
                    now - (40 - i) * SEC,
                    now - (40 - i) * SEC,
                    "manual",
                    "scheduled",
                    node_id="n1",
                )
                for i in range(3)
            ],
            now,
        )
        waiting, running, done = (int(i) for i in ids if i is not None)
        repo.hand_over(conn, "n1", "dataset", [waiting, running, done], now - 30 * SEC)
        assert repo.start(conn, running, "w1", now - 20 * SEC)
        assert repo.start(conn, done, "w1", now - 20 * SEC)
        tw.store.runs.finish(
            conn,
            [
                {
                    "id": done,
                    "node_id": "w1",
                    "status": "succeeded",
                    "started_at": now - 20 * SEC,
                    "finished_at": now - 10 * SEC,
                    "duration_s": 10.0,
                    "result": None,
                    "error": None,
                    "traceback": None,
                    "log": None,
                }
            ],
        )
    return "w1", [waiting, running, done]


def test_queues_show_backlog_workers_throughput_and_the_oldest_wait(lite_api: Api) -> None:
    worker, (waiting, running, _done) = seed(lite_api)
    body = lite_api.client("viewer").get("/api/queues").json()
    queues = {q["queue"]: q for q in body["queues"]}
    dataset = queues["dataset"]
    assert (dataset["backlog"], dataset["running"], dataset["workers"]) == (1, 1, 1)
    assert dataset["concurrency"] == 4
    assert dataset["runs_per_min"] == 1
    assert 29 <= dataset["oldest_waiting_s"] < 120
    assert queues["monitor"]["backlog"] == 0
    assert queues["monitor"]["workers"] == 1
    assert queues["monitor"]["oldest_waiting_s"] is None
    (w,) = body["workers"]
    assert w["node_id"] == worker
    assert w["queues"] == ["dataset", "monitor"]
    assert w["running"] == [running]
    assert w["broker"] == "amqp://guest:***@mq//"
    assert waiting not in w["running"]


def test_metrics_carry_the_queue_gauges(lite_api: Api) -> None:
    seed(lite_api)
    text = lite_api.client("viewer").get("/metrics").text
    assert 'tickwork_queue_backlog{queue="dataset"} 1' in text
    assert 'tickwork_queue_workers{queue="monitor"} 1' in text
    assert 'tickwork_queue_runs_per_minute{queue="dataset"} 1' in text
    assert 'tickwork_worker_running_runs{worker="w1"} 1' in text
    assert 'tickwork_worker_concurrency{worker="w1"} 4' in text


def test_queues_need_a_login(lite_api: Api) -> None:
    assert lite_api.client(None).get("/api/queues").status_code == 401
