"""``@atomic``: a write route runs in one database transaction that commits only once its
response has been built and validated, so a request answered 500 has written nothing.

(An admin's create that answered 500 was written anyway: the response failed after the
commit.) The facade's own transactions become savepoints of the request's; the events and
wake-ups of the change wait for the commit. Routes whose failures must still be recorded (a
failed login, a wrong current password) are not atomic."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel

F = TypeVar("F", bound=Callable[..., Any])


def atomic(endpoint: F) -> F:
    @functools.wraps(endpoint)
    def run(*args: Any, **kwargs: Any) -> Any:
        tw = kwargs["tw"]  # every write route takes the facade as ``tw``
        with tw.store.db.unit():
            result = endpoint(*args, **kwargs)
            if isinstance(result, BaseModel):
                # What FastAPI will do with it after the commit, done before: validate and
                # serialise (a failure here rolls the change back).
                type(result).model_validate(result.model_dump()).model_dump_json()
        return result

    return run  # type: ignore[return-value]
