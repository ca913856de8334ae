"""create_executor: the names the configuration uses."""

from __future__ import annotations

import pytest

from tickwork.clock import FakeClock
from tickwork.errors import InvalidInput
from tickwork.executors import (
    AsyncioExecutor,
    ProcessExecutor,
    ThreadExecutor,
    create_executor,
)


@pytest.mark.parametrize(
    ("name", "cls"),
    [("thread", ThreadExecutor), ("process", ProcessExecutor), ("asyncio", AsyncioExecutor)],
)
def test_names_map_to_executors(name: str, cls: type) -> None:
    clock = FakeClock(0)
    executor = create_executor(name, 3, clock)
    assert type(executor) is cls
    assert executor.name == name
    assert executor.max_workers == 3
    assert executor.clock is clock


def test_an_unknown_name_is_refused() -> None:
    with pytest.raises(InvalidInput) as info:
        create_executor("celery", 1, FakeClock(0))
    assert info.value.field == "executor"
    assert info.value.reason == "unknown executor 'celery'; choose thread, process or asyncio"


@pytest.mark.parametrize("workers", [0, -1, 1.5, True])
def test_max_workers_must_be_a_positive_whole_number(workers: object) -> None:
    with pytest.raises(InvalidInput) as info:
        create_executor("thread", workers, FakeClock(0))  # type: ignore[arg-type]
    assert info.value.field == "max_workers"


def test_an_unknown_attribute_is_an_attribute_error() -> None:
    import tickwork.executors

    with pytest.raises(AttributeError):
        _ = tickwork.executors.CeleryExecutor
