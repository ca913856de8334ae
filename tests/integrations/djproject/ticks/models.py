from __future__ import annotations

from django.db import models  # type: ignore[import-untyped]


class Tick(models.Model):  # type: ignore[misc]
    pid = models.IntegerField()
    at = models.DateTimeField(auto_now_add=True)
