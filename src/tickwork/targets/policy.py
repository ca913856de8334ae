"""Which Python targets the API, the console and the CLI may name.

A job's target is a reference that a scheduler node imports and calls with the job's
arguments, so a face that lets an administrator type one is a remote shell unless it is
bounded (xxl-job's GLUE jobs, RuoYi's reflective ``invoke_target``). Two rules, checked in the
service layer for every job created or changed through the API, the console or the CLI:

* a hard denylist, whatever the deployment configures: the standard library's process, eval,
  import and deserialisation entry points, Tickwork's own internals (``tickwork.targets.python:
  call`` would be a trampoline to any other reference), and any private or dunder segment
  (``mod:f.__globals__``, ``pkg._internal:x``);
* an allowlist of module prefixes: ``TICKWORK_ALLOWED_TARGETS`` (comma-separated) or, when it
  is not set, the modules of the jobs the deployment declares itself (in code and in job
  files) plus Tickwork's built-ins.

Jobs declared in code and in job files are the deployment's own code and are not checked:
whoever can change them can change what the scheduler imports anyway.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from tickwork.errors import InvalidInput

ALLOWED_ENV = "TICKWORK_ALLOWED_TARGETS"
ANY = "*"  # an allowlist entry that allows every module (the denylist still applies)
BUILTIN_PREFIXES = ("tickwork.builtins",)  # Tickwork's maintenance targets
# Tickwork's packages that hold job targets; the rest of ``tickwork`` is internals.
_OWN_TARGET_PACKAGES = ("tickwork.builtins", "tickwork.demo")
# Modules (and their submodules) that start processes, evaluate or import code, load pickles,
# or reach the interpreter itself. A job that needs a command gets the shell job kind, which
# is admin-only and can be switched off; never a Python target.
DENIED_MODULES = frozenset(
    {
        # processes and signals
        "os", "posix", "nt", "subprocess", "pty", "multiprocessing", "asyncio.subprocess",
        "signal",
        # evaluating or importing code
        "builtins", "importlib", "pkgutil", "runpy", "zipimport", "code", "codeop", "pdb",
        "bdb", "pydoc",
        # the interpreter itself and native calls
        "sys", "gc", "ctypes", "cffi",
        # deserialisers that build arbitrary objects
        "pickle", "marshal", "shelve", "dill", "cloudpickle", "joblib", "yaml", "logging.config",
        # removing trees, opening programs, changing the installation
        "shutil", "webbrowser", "ensurepip", "venv", "site",
    }
)  # fmt: skip
# The one builtin that is often scheduled in examples and cannot do harm with JSON arguments.
_HARMLESS = frozenset({"builtins:print"})


@lru_cache(maxsize=4096)
def denied_reason(ref: str) -> str | None:
    """Why ``ref`` may never be a target named through the API or CLI (None: it may)."""
    module, _, attr_path = ref.partition(":")
    if ref in _HARMLESS:
        return None
    segments = [*module.split("."), *attr_path.split(".")]
    for segment in segments:
        if segment.startswith("__") and segment.endswith("__"):
            return f"{ref!r} names the dunder attribute {segment!r}; that is never a job target"
        if segment.startswith("_"):
            return f"{ref!r} names the private segment {segment!r}; that is never a job target"
    for denied in DENIED_MODULES:
        if in_package(module, denied):
            return (
                f"{ref!r} is in module {denied!r}, whose process, eval, import and "
                "deserialisation entry points are never job targets (use a function of "
                "your own that does the one thing the job needs)"
            )
    if in_package(module, "tickwork") and not any(
        in_package(module, own) for own in _OWN_TARGET_PACKAGES
    ):
        return f"{ref!r} is part of Tickwork's internals, not a job target"
    return None


def in_package(module: str, prefix: str) -> bool:
    """``module`` is ``prefix`` or one of its submodules (``a.b`` is in ``a``, ``ab`` is not)."""
    return module == prefix or module.startswith(prefix + ".")


def parse_allowlist(text: str) -> tuple[str, ...]:
    """``TICKWORK_ALLOWED_TARGETS``: comma-separated module prefixes, or ``*``."""
    out: list[str] = []
    for item in text.split(","):
        entry = item.strip()
        if not entry:
            continue
        if entry != ANY and not all(p.isidentifier() for p in entry.split(".")):
            raise InvalidInput(
                ALLOWED_ENV,
                f"{entry!r} is not a module prefix such as 'myapp.jobs'",
                code="not_module_prefix",
                params={"value": entry},
            )
        out.append(entry)
    return tuple(out)


def check_target(ref: str, allowed: Iterable[str]) -> None:
    """Refuse ``ref`` with ``InvalidInput("target", ...)`` if it is denied or not allowed."""
    reason = denied_reason(ref)
    if reason is not None:
        raise InvalidInput("target", reason, code="target_denied", params={"ref": ref})
    module = ref.partition(":")[0]
    prefixes = tuple(allowed)
    if ANY in prefixes or any(in_package(module, p) for p in prefixes):
        return
    shown = ", ".join(sorted(prefixes)[:10]) or "none"
    raise InvalidInput(
        "target",
        f"module {module!r} is not allowed here; allowed module prefixes: {shown}. The "
        f"deployment sets them with {ALLOWED_ENV} (by default: the modules of jobs declared "
        "in code and job files, and Tickwork's built-ins)",
        code="target_not_allowed",
        params={"module": module, "allowed": sorted(prefixes)[:10]},
    )


def module_of(ref: object) -> str | None:
    if not isinstance(ref, str) or ":" not in ref:
        return None
    return ref.partition(":")[0] or None
