"""The job of the Django test: writes through the ORM (so the ORM must be ready in the node)."""

from __future__ import annotations

import os


def record() -> int:
    from tests.integrations.djproject.ticks.models import Tick

    return int(Tick.objects.create(pid=os.getpid()).pk)
