"""Python-callable targets: resolving "package.module:function" refs and making them."""

from __future__ import annotations

import threading

import pytest

from tests.targets import sample_targets as sample
from tickwork.errors import InvalidInput
from tickwork.targets import call, is_coroutine_target, ref_of, resolve
from tickwork.targets.python import clear_cache

MOD = "tests.targets.sample_targets"


def reason(exc: pytest.ExceptionInfo[InvalidInput]) -> str:
    assert exc.value.field in {"target", "func"}
    return exc.value.reason


def test_resolve_functions_and_attribute_paths() -> None:
    assert resolve(f"{MOD}:plain") is sample.plain
    assert resolve(f"{MOD}:Tasks.static")() == "static"
    assert resolve(f"{MOD}:Tasks.klass")() == "Tasks"
    assert resolve(f"{MOD}:Tasks.Inner.deep")() == "deep"
    assert resolve("os.path:join") is __import__("os").path.join
    assert call(f"{MOD}:plain", [2], {"b": 3}) == 5


@pytest.mark.parametrize(
    "ref",
    ["", "module", "module:", ":func", "a:b:c", "a b:c", "a..b:c", "a.b:c.", "1mod:f", "m:f()"],
)
def test_a_malformed_ref_is_refused(ref: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        resolve(ref)
    assert exc.value.field == "target"
    assert reason(exc) == (
        f"{ref!r} must look like 'package.module:function' (or 'package.module:Class.method')"
    )


def test_a_ref_that_is_not_a_string_is_refused() -> None:
    with pytest.raises(InvalidInput, match="must look like"):
        resolve(None)  # type: ignore[arg-type]


def test_a_missing_module_is_named() -> None:
    with pytest.raises(InvalidInput) as exc:
        resolve("tests.targets.no_such_module:f")
    assert reason(exc) == "module 'tests.targets.no_such_module' not found"
    assert isinstance(exc.value.__cause__, ModuleNotFoundError)


def test_a_module_that_fails_to_import_says_why() -> None:
    with pytest.raises(InvalidInput) as exc:
        resolve("tests.targets.broken_on_import:f")
    assert reason(exc) == (
        "importing module 'tests.targets.broken_on_import' failed: "
        "RuntimeError: this module cannot be imported"
    )


def test_missing_attributes_and_non_callables_are_refused() -> None:
    with pytest.raises(InvalidInput) as exc:
        resolve(f"{MOD}:nope")
    assert reason(exc) == f"'{MOD}' has no attribute 'nope'"
    with pytest.raises(InvalidInput) as exc:
        resolve(f"{MOD}:Tasks.Inner.nope")
    assert reason(exc) == f"'{MOD}:Tasks.Inner' has no attribute 'nope'"
    with pytest.raises(InvalidInput) as exc:
        resolve(f"{MOD}:not_callable")
    assert reason(exc) == f"'{MOD}:not_callable' is not callable (it is a int)"


def test_resolved_callables_are_cached_and_shared_between_threads() -> None:
    clear_cache()
    results: list[object] = []
    barrier = threading.Barrier(8)

    def worker() -> None:
        barrier.wait()
        results.append(resolve(f"{MOD}:Tasks.klass"))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(r) for r in results}) == 1
    assert resolve(f"{MOD}:Tasks.klass") is results[0]


def test_ref_of_importable_callables() -> None:
    assert ref_of(sample.plain) == f"{MOD}:plain"
    assert ref_of(sample.coroutine) == f"{MOD}:coroutine"
    assert ref_of(sample.Tasks.static) == f"{MOD}:Tasks.static"
    assert ref_of(sample.Tasks.klass) == f"{MOD}:Tasks.klass"
    assert ref_of(sample.Tasks.Inner.deep) == f"{MOD}:Tasks.Inner.deep"
    assert ref_of(sample.wrapped) == f"{MOD}:wrapped"
    assert ref_of(sample.Tasks) == f"{MOD}:Tasks"


@pytest.mark.parametrize(
    ("func", "why"),
    [
        (sample.lambda_target, "it is a lambda"),
        (sample.nested, "it is defined inside a function"),
        (sample.instance_method, "it is a method bound to an instance"),
        (sample.partial_target, "it has no module or qualified name"),
        (sample.renamed, f"'{MOD}:_gone' does not resolve: '{MOD}' has no attribute '_gone'"),
        (sample._original_shadowed, f"'{MOD}:shadowed' resolves to another object"),
    ],
)
def test_ref_of_refuses_what_cannot_be_imported_back(func: object, why: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        ref_of(func)  # type: ignore[arg-type]
    assert exc.value.field == "func"
    assert reason(exc) == (
        f"{func!r} is not importable: define it at module level of an importable module "
        f"and pass the function itself ({why})"
    )


def test_ref_of_refuses_functions_of_main_and_of_unimportable_modules() -> None:
    def local() -> None:
        pass

    local.__qualname__ = "local"
    local.__module__ = "__main__"
    with pytest.raises(InvalidInput, match="defined in __main__"):
        ref_of(local)
    local.__module__ = "tests.targets.no_such_module"
    with pytest.raises(InvalidInput, match=r"does not resolve: module '.*' not found"):
        ref_of(local)


def test_coroutine_targets_are_detected() -> None:
    assert is_coroutine_target(f"{MOD}:coroutine")
    assert is_coroutine_target(f"{MOD}:async_callable")
    assert not is_coroutine_target(f"{MOD}:plain")
    assert not is_coroutine_target(f"{MOD}:Tasks")
    assert call(f"{MOD}:coroutine") == 1  # run to completion when called outside a loop
