"""The Python-callable target kind: ``"package.module:function"`` refs, resolved at run time."""

from __future__ import annotations

import asyncio
import importlib
import inspect
import threading
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from tickwork.errors import InvalidInput
from tickwork.targets.base import Execution, Kind, Text, refuse

_FORMAT_HINT = "must look like 'package.module:function' (or 'package.module:Class.method')"

_cache: dict[str, Callable[..., Any]] = {}
_cache_lock = threading.Lock()
# What a framework integration wraps every Python job of this process in (Flask's app
# context, Django's connection handling): a factory of context managers, or None.
_call_context: list[Callable[[], AbstractContextManager[object]]] = []


def set_call_context(factory: Callable[[], AbstractContextManager[object]] | None) -> None:
    """Run every Python job of this process inside ``factory()`` (None: no wrapper)."""
    _call_context[:] = [] if factory is None else [factory]


def current_call_context() -> Callable[[], AbstractContextManager[object]] | None:
    return _call_context[0] if _call_context else None


def call_context() -> AbstractContextManager[object]:
    """The context a Python job runs in (a no-op one unless an integration set one)."""
    factories = _call_context
    return factories[0]() if factories else nullcontext()


def resolve(ref: str) -> Callable[..., Any]:
    """The callable ``ref`` names; refused with ``InvalidInput("target", reason)``.

    Resolved callables are cached (failures are not, so a module installed later is found).
    """
    func = _cache.get(ref)
    if func is not None:
        return func
    func = _resolve_uncached(ref)
    with _cache_lock:
        return _cache.setdefault(ref, func)


def clear_cache() -> None:
    """Forget resolved callables (after reloading a module, in tests)."""
    with _cache_lock:
        _cache.clear()


def _split(ref: object) -> tuple[str, list[str]]:
    if not isinstance(ref, str) or ref.count(":") != 1:
        raise InvalidInput(
            "target", f"{ref!r} {_FORMAT_HINT}", code="target_form", params={"value": str(ref)}
        )
    module_name, _, attr_path = ref.partition(":")
    parts = module_name.split(".")
    attrs = attr_path.split(".")
    if not all(p.isidentifier() for p in parts) or not all(a.isidentifier() for a in attrs):
        raise InvalidInput(
            "target", f"{ref!r} {_FORMAT_HINT}", code="target_form", params={"value": str(ref)}
        )
    return module_name, attrs


def _resolve_uncached(ref: str) -> Callable[..., Any]:
    module_name, attrs = _split(ref)
    try:
        obj: Any = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and (
            module_name == exc.name or module_name.startswith(exc.name + ".")
        ):
            raise InvalidInput(
                "target",
                f"module '{module_name}' not found",
                code="module_not_found",
                params={"module": module_name},
            ) from exc
        raise InvalidInput(
            "target",
            f"importing module '{module_name}' failed: {type(exc).__name__}: {exc}",
            code="import_failed",
            params={"module": module_name, "error": f"{type(exc).__name__}: {exc}"},
        ) from exc
    except Exception as exc:
        raise InvalidInput(
            "target",
            f"importing module '{module_name}' failed: {type(exc).__name__}: {exc}",
            code="import_failed",
            params={"module": module_name, "error": f"{type(exc).__name__}: {exc}"},
        ) from exc
    owner = module_name
    for attr in attrs:
        try:
            obj = getattr(obj, attr)
        except AttributeError:
            raise InvalidInput(
                "target",
                f"'{owner}' has no attribute '{attr}'",
                code="no_attribute",
                params={"owner": owner, "name": attr},
            ) from None
        owner = f"{owner}:{attr}" if owner == module_name else f"{owner}.{attr}"
    if not callable(obj):
        raise InvalidInput(
            "target",
            f"'{ref}' is not callable (it is a {type(obj).__name__})",
            code="not_callable",
            params={"value": ref, "type": type(obj).__name__},
        )
    return obj  # type: ignore[no-any-return]


def ref_of(func: Callable[..., Any]) -> str:
    """The ref of an importable module-level function, staticmethod or classmethod.

    Lambdas, nested functions, methods bound to an instance, functions of ``__main__`` and
    anything whose ref does not resolve back to the same object are refused: a ref is
    stored and resolved later, possibly in another process or on another node.
    """

    def refuse(why: str) -> InvalidInput:
        return InvalidInput(
            "func",
            f"{func!r} is not importable: define it at module level of an importable module "
            f"and pass the function itself ({why})",
            code="not_importable",
            params={"value": repr(func), "why": why},
        )

    if inspect.ismethod(func) and not isinstance(func.__self__, type):
        raise refuse("it is a method bound to an instance")
    module = getattr(func, "__module__", None)
    qualname = getattr(func, "__qualname__", None)
    if not isinstance(module, str) or not isinstance(qualname, str):
        raise refuse("it has no module or qualified name")
    if qualname == "<lambda>" or qualname.endswith(".<lambda>"):
        raise refuse("it is a lambda")
    if "<locals>" in qualname:
        raise refuse("it is defined inside a function")
    if module == "__main__":
        raise refuse("it is defined in __main__, which another process cannot import")
    ref = f"{module}:{qualname}"
    try:
        resolved = resolve(ref)
    except InvalidInput as exc:
        raise refuse(f"{ref!r} does not resolve: {exc.reason}") from exc
    # Methods are bound anew on each attribute access: equal, not identical.
    if resolved is not func and not (inspect.ismethod(func) and resolved == func):
        raise refuse(f"{ref!r} resolves to another object")
    return ref


def is_coroutine_function(func: Callable[..., Any]) -> bool:
    """Whether calling ``func`` gives a coroutine (async def, also behind partial or __call__)."""
    if inspect.iscoroutinefunction(func):
        return True
    call = getattr(type(func), "__call__", None)  # noqa: B004 - the class's __call__, not callable()
    return (
        not inspect.isfunction(func)
        and not inspect.isclass(func)
        and call is not None
        and inspect.iscoroutinefunction(call)
    )


def is_coroutine_target(ref: str) -> bool:
    """Whether ``ref`` names a coroutine function, so the engine can pick the asyncio executor."""
    return is_coroutine_function(resolve(ref))


def call(ref: str, args: Sequence[Any] = (), kwargs: Mapping[str, Any] | None = None) -> Any:
    """Resolve ``ref`` and :func:`invoke` it."""
    return invoke(resolve(ref), args, kwargs)


def invoke(
    func: Callable[..., Any], args: Sequence[Any] = (), kwargs: Mapping[str, Any] | None = None
) -> Any:
    """Call ``func``; a coroutine it returns is run to completion in a new event loop.

    Used by the thread executor and the process executor's workers; the asyncio executor
    awaits coroutines on its own loop instead. (asyncio is imported up front: an import
    cut short by a thread executor's interrupt would leave it half-initialised.)
    """
    with call_context():
        value = func(*args, **(kwargs or {}))
        if inspect.iscoroutine(value):
            value = asyncio.run(value)
    return value


# -- the Python kind in the target contract: validation and description (the executors run
# Python targets on their own fast path, without an Execution) ---------------------------------
class PythonKind(Kind):
    name = "python"
    label = Text("Python function", "Python 函数")
    parameter_field = "kwargs"

    def validate(self, spec: Mapping[str, Any]) -> dict[str, Any]:
        ref = spec.get("ref")
        if not isinstance(ref, str) or not ref or len(ref) > 500:
            raise refuse("ref", "must be a 'package.module:function' reference", "bad_ref")
        return {"ref": ref, "args": spec.get("args") or [], "kwargs": spec.get("kwargs") or {}}

    def describe(self, spec: Mapping[str, Any]) -> Text:
        ref = str(spec.get("ref", ""))
        return Text(ref, ref)

    def execution(self, spec: Mapping[str, Any], timeout_s: float | None) -> Execution:
        raise NotImplementedError("Python targets run on the executors' own path")


KIND = PythonKind()
