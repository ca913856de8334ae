"""A stable hash for ``H`` values and jitter: the same on every node, process and Python version.

Python's ``hash()`` is salted per process, so it cannot be used: two scheduler nodes must compute
the same fire instant for the same job.
"""

from __future__ import annotations

import hashlib


def stable_hash(*parts: str | int) -> int:
    """A 64-bit unsigned hash of the parts (BLAKE2b; parts are separated unambiguously)."""
    data = "\x1f".join(str(p) for p in parts).encode("utf-8", "surrogatepass")
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big")
