"""The console's Queues page (issue 14): queues and workers as the API reports them, in English
and Simplified Chinese."""

from __future__ import annotations

from tests.browser.conftest import Console, Server
from tickwork.clock import SystemClock
from tickwork.settings import Settings
from tickwork.store import Store
from tickwork.store.celery_repo import CeleryRepo


def seed_worker(server: Server) -> None:
    store = Store(Settings(data_dir=server.data_dir).effective_database_url)
    try:
        with store.db.write() as conn:
            # a live row (never reaped here: this server's scheduler reaps after 20 s of
            # silence, and the page is read well before)
            store.nodes.register(conn, "celerytest-w1", "worker", SystemClock().now_us())
            CeleryRepo(store.db).register_worker(
                conn, "celerytest-w1", ["dataset", "monitor"], 4, "amqp://guest:***@mq//"
            )
    finally:
        store.close()


def test_queues_page_lists_queues_and_workers_in_both_languages(
    console: Console, server: Server
) -> None:
    seed_worker(server)
    page = console.page
    console.login()
    console.goto("/queues")
    page.get_by_role("heading", name="Celery queues").wait_for()
    queues = page.get_by_role("table", name="Queues")
    queues.get_by_role("cell", name="dataset", exact=True).wait_for()
    workers = page.get_by_role("table", name="Workers")
    workers.get_by_role("cell", name="celerytest-w1").wait_for()
    workers.get_by_role("cell", name="dataset, monitor").wait_for()
    console.set_lang("zh-CN")
    page.get_by_role("heading", name="Celery 队列").wait_for()
    page.get_by_role("columnheader", name="等待中").wait_for()
    page.get_by_role("columnheader", name="并发数").wait_for()
