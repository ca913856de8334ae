"""What a built-in gets for one run: its parameters, its report, and its connection opened on
demand (a database session or a Redis client), with the errors every built-in shares handled
once: an unreachable server is a critical finding and a failed run, a missing privilege a
finding (the run still succeeds), a refused spec a failed run with nothing changed."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from tickwork.builtins.db import Db, Refused, error_text, missing_privilege, privilege_error
from tickwork.builtins.result import Report
from tickwork.targets.base import Output, TargetFailed

if TYPE_CHECKING:
    from tickwork.builtins.catalog import Builtin
    from tickwork.builtins.resp import Redis


def connection_kind(fields: Mapping[str, Any] | None) -> str | None:
    if not fields:
        return None
    url = str(fields.get("url") or "")
    scheme = url.partition(":")[0].lower()
    if scheme in ("redis", "rediss"):
        return "redis"
    if scheme in ("amqp", "amqps"):
        return "amqp"
    if url:
        return "database"
    return "other"


class Context:
    def __init__(
        self,
        item: Builtin,
        spec: Mapping[str, Any],
        fields: Mapping[str, Any] | None,
        out: Output,
        stopped: threading.Event,
    ) -> None:
        self.item = item
        self.spec = spec
        self.fields = dict(fields or {})
        self.out = out
        self.stopped = stopped
        self.report = Report(item.name)
        self.kind = connection_kind(fields)
        self._db: Db | None = None
        self._redis: Redis | None = None

    def param(self, name: str) -> Any:
        if name in self.spec:
            return self.spec[name]
        for p in self.item.all_params():
            if p.name == name:
                return p.default
        raise KeyError(name)

    def log(self, text: str) -> None:
        self.out.write(text.rstrip("\n") + "\n")

    # -- connections ------------------------------------------------------------------------
    @property
    def db(self) -> Db:
        if self._db is None:
            if self.kind != "database":
                raise Refused(
                    f"connection: {self.item.name} needs a database connection, not a "
                    f"{self.kind or 'missing'} one"
                )
            self._db = Db(
                str(self.fields["url"]),
                float(self.param("statement_timeout_s")),
                float(self.param("lock_timeout_s")),
            )
            if self.stopped.is_set():
                self._db.stop()
        return self._db

    @property
    def redis(self) -> Redis:
        if self._redis is None:
            if self.kind != "redis":
                raise Refused(
                    f"connection: {self.item.name} needs a Redis connection, not a "
                    f"{self.kind or 'missing'} one"
                )
            from tickwork.builtins.resp import Redis

            self._redis = Redis(str(self.fields["url"]))
        return self._redis

    def interrupt(self) -> None:
        if self._db is not None:
            self._db.stop()
        if self._redis is not None:
            self._redis.close()

    def sleep(self, seconds: float) -> None:
        if self.stopped.wait(seconds):
            raise TargetFailed("stopped", self.report.as_result())

    # -- one run ----------------------------------------------------------------------------
    def run(self, body: Callable[[Context], None]) -> dict[str, Any]:
        from sqlalchemy.exc import DBAPIError, SQLAlchemyError

        started = time.monotonic()
        report = self.report
        try:
            body(self)
        except ConnectionError as exc:
            report.finding(
                "critical", "connection", f"cannot reach the server: {exc}",
                "check that the server is up and the connection's address and password",
            )  # fmt: skip
            raise TargetFailed(f"cannot reach the server: {exc}", self._result(started)) from None
        except Refused as exc:
            raise TargetFailed(str(exc), self._result(started)) from None
        except DBAPIError as exc:
            if privilege_error(exc):
                missing_privilege(report, "do this", _grant_hint(self), exc)
            else:
                stopped = self.stopped.is_set()
                why = "stopped" if stopped else error_text(exc)
                raise TargetFailed(why, self._result(started)) from None
        except SQLAlchemyError as exc:
            raise TargetFailed(error_text(exc), self._result(started)) from None
        finally:
            self._close()
        return self._result(started)

    def _result(self, started: float) -> dict[str, Any]:
        self.report.metric("elapsed_ms", (time.monotonic() - started) * 1000)
        return self.report.as_result()

    def _close(self) -> None:
        if self._db is not None:
            self._db.close()
        if self._redis is not None:
            self._redis.close()


def _grant_hint(ctx: Context) -> str:
    dialect = ctx._db.dialect if ctx._db is not None else ""
    if dialect == "postgresql":
        return "GRANT pg_monitor (and pg_signal_backend to end sessions) to the connection's user"
    if dialect == "mysql":
        return "GRANT PROCESS (and the table privileges the job needs) to the connection's user"
    return "grant the connection's user the privileges the job needs"
