"""A module whose import fails: resolving anything in it must say so."""

from __future__ import annotations

raise RuntimeError("this module cannot be imported")
