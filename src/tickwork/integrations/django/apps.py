"""The Django app config (label ``tickwork``)."""

from __future__ import annotations

from django.apps import AppConfig  # type: ignore[import-untyped]


class TickworkConfig(AppConfig):  # type: ignore[misc]
    name = "tickwork.integrations.django"
    label = "tickwork"
    verbose_name = "Tickwork"
