"""The engine: claim due fires, record runs, hand them to executors, keep nodes honest."""

from __future__ import annotations
