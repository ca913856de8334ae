"""The exceptions every layer raises. Only the API turns them into HTTP responses."""

from __future__ import annotations


class TickworkError(Exception):
    """Something went wrong in Tickwork."""


class InvalidInput(TickworkError, ValueError):
    """Input was refused before anything was written.

    ``field`` names what was wrong (``day-of-month``, ``trigger.hour``, ``misfire_grace_s``)
    and ``reason`` says why; ``str()`` gives ``"<field>: <reason>"``.
    """

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class BadParameter(InvalidInput):
    """A query or path parameter of a request is malformed (a cursor this API never returned,
    an instant outside the calendar): the API answers 400 naming it."""


class TriggerError(InvalidInput):
    """A trigger specification (cron expression, keywords, interval, date) is invalid."""


class NotFound(TickworkError, LookupError):
    """A job, run or other object does not exist."""

    def __init__(self, kind: str, ident: object) -> None:
        super().__init__(f"{kind} {ident!r} does not exist")
        self.kind = kind
        self.ident = ident


class Conflict(TickworkError):
    """The change conflicts with the stored state (duplicate id, stale version)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
