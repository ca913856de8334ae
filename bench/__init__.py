"""Side-by-side benchmarks of Tickwork against its peers (``python -m bench``)."""

from __future__ import annotations
