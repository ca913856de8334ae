"""Tickwork's own Celery app: the broker, the delivery settings, and the one task that carries
a run to a worker (its message holds the run id only; the worker reads the rest from the
database).

Delivery settings (docs/celery.md explains each):

- ``task_acks_late``: a message is acknowledged when the task function returns, and the
  task returns as soon as the run's start is recorded on the worker (the run's body goes on
  in the worker's own executor). A worker that dies before that start leaves the message
  unacknowledged: the broker hands it to another worker. A worker that dies after it has a
  ``running`` run that its heartbeat's silence ends ``lost``.
- ``task_reject_on_worker_lost``: the same for a worker process that dies inside the task.
- ``worker_prefetch_multiplier = 1``: a worker holds no more messages than it has threads,
  so nothing waits behind a busy worker while another is idle.
- Redis ``visibility_timeout`` (300 s; TICKWORK_CELERY_VISIBILITY_TIMEOUT): a long run is
  never redelivered, because its message is acknowledged when it starts, not when it ends;
  a message that waits for a free slot longer than the timeout may be delivered again, and
  the worker's guarded start (a run that is ``running`` or ended is never started again)
  drops the second copy. The timeout bounds how soon a dead worker's received-but-unstarted
  messages reach another worker (swept every 5 s). The sweep runs under one lock per broker
  database; kombu keeps it 300 s, so a worker killed inside a sweep stopped every sweep for
  five minutes. It expires after 15 s here: two sweeps that overlap are harmless (each
  message is moved back in a transaction watching the unacknowledged set).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from tickwork.errors import InvalidInput

if TYPE_CHECKING:
    from celery import Celery

BROKER_ENV = "TICKWORK_CELERY_BROKER_URL"
VISIBILITY_ENV = "TICKWORK_CELERY_VISIBILITY_TIMEOUT"
LOCAL_QUEUES_ENV = "TICKWORK_LOCAL_QUEUES"
RESEND_ENV = "TICKWORK_CELERY_RESEND_AFTER"
TASK_NAME = "tickwork.run"
# Redis: how long a received, unacknowledged message stays with its worker. A message is
# acknowledged when its run starts, so this bounds only how soon the messages a dead worker
# had received but not started go to another worker (kombu's default is an hour); a copy that
# comes back needlessly is dropped by the guarded start.
DEFAULT_VISIBILITY_TIMEOUT_S = 300.0
# and how often a worker looks for such messages (kombu: every 10 s x 10 polls, 100 s)
RESTORE_INTERVAL_S = 5
# and how long a killed sweeper's lock blocks the others (kombu: 300 s)
RESTORE_LOCK_EXPIRE_S = 15


def broker_from_env(env: Mapping[str, str] | None = None) -> str | None:
    env = os.environ if env is None else env
    url = env.get(BROKER_ENV, "").strip()
    if not url:
        return None
    check_broker(url)
    return url


# A handed-over run no worker started this long while a worker of its queue had a free slot
# is published again (its message was lost: docs/celery.md, "Lost messages").
DEFAULT_RESEND_AFTER_S = 60.0


def resend_after_from_env(env: Mapping[str, str] | None = None) -> float:
    env = os.environ if env is None else env
    raw = env.get(RESEND_ENV, "").strip()
    if not raw:
        return DEFAULT_RESEND_AFTER_S
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise InvalidInput(
            RESEND_ENV,
            f"{raw!r} is not a positive number of seconds",
            code="bad_resend_after",
            params={"value": raw},
        )
    return value


def local_queues_from_env(env: Mapping[str, str] | None = None) -> frozenset[str]:
    """Queues a scheduler node runs in its own executors (TICKWORK_LOCAL_QUEUES, a comma list)."""
    env = os.environ if env is None else env
    return frozenset(q.strip() for q in env.get(LOCAL_QUEUES_ENV, "").split(",") if q.strip())


def check_broker(url: str) -> None:
    scheme = urlsplit(url).scheme
    if scheme not in ("amqp", "amqps", "pyamqp", "redis", "rediss"):
        raise InvalidInput(
            BROKER_ENV,
            f"{scheme or url!r} is not a broker Tickwork supports (amqp:// or redis://)",
            code="bad_broker_url",
            params={"value": scheme or url},
        )


def display_broker(url: str) -> str:
    """The broker URL without its password (for logs and the workers' table)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    user = parts.username or ""
    return urlunsplit((parts.scheme, f"{user}:***@{host}", parts.path, parts.query, ""))


def make_app(broker: str, *, visibility_timeout_s: float | None = None) -> Celery:
    """Tickwork's Celery app on ``broker`` (the task itself is registered by the worker)."""
    from celery import Celery

    check_broker(broker)
    if visibility_timeout_s is None:
        raw = os.environ.get(VISIBILITY_ENV, "").strip()
        visibility_timeout_s = float(raw) if raw else DEFAULT_VISIBILITY_TIMEOUT_S
    app = Celery("tickwork", broker=broker, set_as_current=False)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        broker_connection_retry_on_startup=True,
        broker_transport_options={
            "visibility_timeout": visibility_timeout_s,
            "unacked_restore_interval": RESTORE_INTERVAL_S,
            "unacked_restore_throttle": 1,
            "unacked_mutex_expire": RESTORE_LOCK_EXPIRE_S,
        },
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        task_send_sent_event=False,
    )
    return app


class Publisher:
    """Publishes runs to Tickwork's Celery app: task ``tickwork.run``, task id = the run id.

    One connection of its own, kept open (kombu's producer pools are shared process-wide by
    broker URL, so closing them would close other publishers' too); used from one thread."""

    def __init__(self, app: Celery) -> None:
        self.app = app
        self._conn: Any = None
        self._producer: Any = None

    def publish(self, items: Sequence[tuple[int, str]]) -> None:
        """(run id, queue) pairs; raises when the broker refuses (the connection is then
        opened again next time)."""
        if not items:
            return
        if self._producer is None:
            self._conn = self.app.connection_for_write()
            self._conn.ensure_connection(max_retries=1)
            self._producer = self.app.amqp.Producer(self._conn)
        try:
            for run_id, queue in items:
                self.app.send_task(
                    TASK_NAME,
                    args=[run_id],
                    task_id=str(run_id),
                    queue=queue,
                    routing_key=queue,
                    producer=self._producer,
                )
        except Exception:
            self._drop()
            raise

    def revoke(self, run_id: int) -> None:
        """Tell every worker to drop or cancel run ``run_id`` (Celery's revoke, terminate)."""
        with self.app.connection_for_write() as conn:
            self.app.control.revoke(str(run_id), terminate=True, connection=conn)

    def _drop(self) -> None:
        conn, self._conn, self._producer = self._conn, None, None
        if conn is not None:
            with contextlib.suppress(Exception):  # already gone with the broker
                conn.close()

    def close(self) -> None:
        self._drop()
        close_app(self.app)


def close_app(app: Celery) -> None:
    """Close the app's own connection pool (``Celery.close`` only forgets it)."""
    if app._pool is not None:
        app._pool.force_close_all()
    app.close()


def publisher_from_env(**options: Any) -> Publisher | None:
    broker = broker_from_env()
    return None if broker is None else Publisher(make_app(broker, **options))
