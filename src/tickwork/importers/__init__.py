"""Importers: another scheduler's job definitions -> Tickwork JobSpecs (nothing is written
here; ``tickwork import ...`` validates them all and creates them). Each importer returns an
``Imported``: the jobs it could convert, the entries it refused with the reason, and notes
about what has no job equivalent (a crontab's MAILTO, @reboot lines, ...)."""

from __future__ import annotations

from dataclasses import dataclass, field

from tickwork.jobspec import JobSpec


@dataclass
class Imported:
    jobs: list[tuple[str, JobSpec]] = field(default_factory=list)  # (where, spec)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (where, reason)
    notes: list[str] = field(default_factory=list)

    def refuse(self, where: str, reason: str) -> None:
        self.refused.append((where, reason))
