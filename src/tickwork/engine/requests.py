"""The executor request of a run: its job's target with the run's parameters, secrets opened,
and for other kinds than python the prepared spec. Built by a scheduler node's dispatcher and
by a Celery worker alike, right before the run's body begins."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from tickwork.connections.job_secrets import VaultError, open_kwargs
from tickwork.errors import TickworkError
from tickwork.executors.base import RunRequest
from tickwork.store.records import JobRecord
from tickwork.targets.prepare import NotRunnable, Preparer

log = logging.getLogger("tickwork.dispatcher")
# Characters of result kept for other kinds than python: their results are structured (exit
# code and output tails, HTTP status and body, rows) and bounded by each kind below this.
KIND_RESULT_LIMIT = 32 * 1024


class CannotRun(Exception):
    """The run cannot begin (a sealed secret that will not open, a removed connection, a
    switched-off kind): it ends ``failed`` with this message."""


def build_request(
    run_id: int,
    job: JobRecord,
    scheduled_for: int,
    attempt: int,
    params: Mapping[str, Any] | None,
    preparer: Preparer,
) -> RunRequest:
    if job.target_kind != "python":
        try:
            prepared = preparer.prepare(job.target_kind, job.target, params)
        except Exception as exc:
            why = str(exc) if isinstance(exc, NotRunnable | TickworkError) else None
            if why is None:
                log.exception("could not prepare run %d of job %r", run_id, job.id)
            raise CannotRun(why or f"could not prepare the run: {exc}") from exc
        return RunRequest(
            run_id=run_id,
            job_id=job.id,
            target=job.target_kind,
            scheduled_for_us=scheduled_for,
            attempt=attempt,
            timeout_s=job.timeout_s,
            secrets=tuple(prepared.secrets),
            result_limit=KIND_RESULT_LIMIT,
            kind=job.target_kind,
            spec=prepared.spec,
        )
    target = job.target
    args = target.get("args") or []
    kwargs = target.get("kwargs") or {}
    if params:
        args = params.get("args", args)
        kwargs = {**kwargs, **(params.get("kwargs") or {})}
    secrets: tuple[str, ...] = ()
    if job.secret_keys:  # sealed at rest; opened here, for this run only
        try:
            kwargs, secrets = open_kwargs(job.id, job.secret_keys, kwargs)
        except VaultError as exc:
            raise CannotRun(f"secrets: {exc}") from exc
    return RunRequest(
        run_id=run_id,
        job_id=job.id,
        target=target["ref"],
        args=args,
        kwargs=kwargs,
        scheduled_for_us=scheduled_for,
        attempt=attempt,
        timeout_s=job.timeout_s,
        secrets=secrets,
    )
