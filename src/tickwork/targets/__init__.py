"""What a job runs. For now: Python callables named ``"package.module:function"``."""

from __future__ import annotations

from tickwork.targets.python import call, is_coroutine_target, ref_of, resolve

__all__ = ["call", "is_coroutine_target", "ref_of", "resolve"]
