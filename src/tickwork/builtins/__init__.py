"""Built-in maintenance jobs (the ``builtin`` job kind): seed 000's database upkeep and the
batched retention, queue, log and capacity jobs, as ordinary targets (docs/maintenance.md)."""

from __future__ import annotations
