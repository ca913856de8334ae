"""The exceptions every layer raises. Only the API turns them into HTTP responses.

Each carries a machine-readable ``code`` and its ``params`` (JSON values) beside the English
text, so a face can say the same thing in another language: the API sends both in its problem
details and the console translates by code (``console/src/i18n/problems.ts``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class TickworkError(Exception):
    """Something went wrong in Tickwork."""

    code: str | None = None
    params: Mapping[str, Any] = {}


class InvalidInput(TickworkError, ValueError):
    """Input was refused before anything was written.

    ``field`` names what was wrong (``day-of-month``, ``trigger.hour``, ``misfire_grace_s``)
    and ``reason`` says why; ``str()`` gives ``"<field>: <reason>"``. ``code`` and ``params``
    say the reason for machines (``"out_of_range", {"value": 61, "min": 0, "max": 59}``).
    """

    def __init__(
        self,
        field: str,
        reason: str,
        *,
        code: str | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
        self.code = code
        self.params = dict(params or {})


class BadParameter(InvalidInput):
    """A query or path parameter of a request is malformed (a cursor this API never returned,
    an instant outside the calendar): the API answers 400 naming it."""


class TriggerError(InvalidInput):
    """A trigger specification (cron expression, keywords, interval, date) is invalid."""


class NotFound(TickworkError, LookupError):
    """A job, run or other object does not exist (code ``not_found``, params kind and id)."""

    def __init__(
        self,
        kind: str,
        ident: object,
        *,
        code: str = "not_found",
        params: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{kind} {ident!r} does not exist")
        self.kind = kind
        self.ident = ident
        self.code = code
        self.params = dict(params) if params is not None else {"kind": kind, "id": str(ident)}


class Conflict(TickworkError):
    """The change conflicts with the stored state (duplicate id, stale version)."""

    def __init__(
        self,
        field: str,
        reason: str,
        *,
        code: str | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
        self.code = code
        self.params = dict(params or {})


class ReadOnlyJob(Conflict):
    """The job is defined by a job file or by code: change it there (pause and resume,
    which are operating state, work everywhere)."""

    def __init__(self, job_id: str, owner: str, owner_ref: str | None) -> None:
        where = (
            f"the job file {owner_ref}"
            if owner == "config"
            else f"code (app {owner_ref!r})"
            if owner_ref
            else "code"
        )
        super().__init__(
            "owner",
            f"job {job_id!r} is defined by {where}: change it there; pause and resume work",
            code="read_only_job",
            params={"id": job_id, "owner": owner, "ref": owner_ref or ""},
        )
        self.job_id = job_id
        self.owner = owner
        self.owner_ref = owner_ref
