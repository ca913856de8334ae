"""Things the Python-callable target tests resolve; some are importable, some on purpose not."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any


def plain(a: int, b: int = 1) -> int:
    return a + b


async def coroutine() -> int:
    return 1


class Tasks:
    @staticmethod
    def static() -> str:
        return "static"

    @classmethod
    def klass(cls) -> str:
        return cls.__name__

    def method(self) -> str:
        return "method"

    class Inner:
        @staticmethod
        def deep() -> str:
            return "deep"


class AsyncCallable:
    async def __call__(self) -> int:
        return 2


async_callable = AsyncCallable()


def make_nested() -> Callable[[], int]:
    def nested() -> int:
        return 3

    return nested


nested = make_nested()
lambda_target = lambda: 4  # noqa: E731 - a lambda on purpose
partial_target = functools.partial(plain, 1)
instance_method = Tasks().method
not_callable = 42


def _gone() -> int:
    return 5


renamed = _gone  # reachable as "renamed", but its qualname names what is deleted below
del _gone


def decorated(func: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    return wrapper


@decorated
def wrapped() -> int:
    return 6


def shadowed() -> int:
    return 7


_original_shadowed = shadowed


def shadowed() -> int:  # type: ignore[no-redef]  # rebinding on purpose
    return 8
